"""Choosing ``trainer.precision``: ``auto`` and checks on Lightning's values.

``auto`` (the default) gives ``bf16-mixed`` on a CUDA GPU that supports bfloat16 (Ampere and
newer), ``16-mixed`` on an older CUDA GPU, and ``32-true`` elsewhere (CPU, MPS). Every other value
Lightning accepts passes through unchanged, except ``bf16-*`` asked for on a CUDA GPU without
bfloat16, which is refused here rather than failing later inside a kernel. The loss and the
metrics are computed in fp32 whatever this says (``srnet.train.module``).

Run ``python -m srnet.train.precision`` to print what ``auto`` picks on this machine.
"""

from __future__ import annotations

import torch

# Lightning 2's precision flags (lightning.fabric.plugins.precision.precision), plus their aliases.
LIGHTNING_PRECISIONS = ("64-true", "32-true", "16-true", "16-mixed", "bf16-true", "bf16-mixed",
                        "transformer-engine", "transformer-engine-float16")
ALIASES = {"64": "64-true", "32": "32-true", "16": "16-mixed", "bf16": "bf16-mixed"}
ALLOWED = ("auto", *LIGHTNING_PRECISIONS, *ALIASES)
# trainer.accelerator values that may land on a CUDA GPU.
CUDA_ACCELERATORS = ("auto", "gpu", "cuda")


def on_cuda(accelerator: str = "auto") -> bool:
    """Whether a Trainer with this ``trainer.accelerator`` will train on a CUDA GPU."""
    return str(accelerator or "auto").lower() in CUDA_ACCELERATORS and torch.cuda.is_available()


def resolve_precision(precision: str | int | None = "auto", accelerator: str = "auto") -> str:
    """The Lightning precision flag to train with.

    Args:
        precision: ``trainer.precision``: ``auto`` (or None), or one of Lightning's values.
        accelerator: ``trainer.accelerator`` (``auto``, ``cpu``, ``gpu``, ``cuda``, ...).

    Returns:
        A value of :data:`LIGHTNING_PRECISIONS` (aliases such as ``16`` or ``bf16`` expanded).

    Raises:
        ValueError: an unknown value, or bfloat16 asked for on a CUDA GPU without it.
    """
    text = "auto" if precision is None else str(precision).strip().lower()
    if text not in ALLOWED:
        raise ValueError(f"trainer.precision={precision!r} is not a precision; choose one of "
                         f"{', '.join(ALLOWED)}")
    cuda = on_cuda(accelerator)
    if text == "auto":
        if not cuda:
            return "32-true"
        return "bf16-mixed" if torch.cuda.is_bf16_supported() else "16-mixed"
    text = ALIASES.get(text, text)
    if text.startswith("bf16") and cuda and not torch.cuda.is_bf16_supported():
        name = torch.cuda.get_device_name()
        raise ValueError(f"trainer.precision={precision!r}: this GPU ({name}) has no bfloat16 "
                         f"support; use trainer.precision=auto (picks 16-mixed here), 16-mixed "
                         f"or 32-true")
    return text


if __name__ == "__main__":
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else "CPU"
    print(f"trainer.precision=auto -> {resolve_precision('auto')} on {device}")
