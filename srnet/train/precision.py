"""``trainer.precision``: srnet's precision names (``srnet.ops.precision``) or Lightning's flags.

``auto`` (the default), ``fp32``, ``bf16`` and ``fp16`` mean what they mean at inference
(``srnet.ops.precision``: ``auto`` is bf16 on a CUDA GPU with bfloat16, fp16 on an older one,
fp32 elsewhere) and become Lightning's ``32-true`` / ``bf16-mixed`` / ``16-mixed``. Lightning's
own values pass through unchanged, except ``bf16-*`` on a CUDA GPU without bfloat16, which is
refused here rather than failing later inside a kernel. The loss and the metrics are computed in
fp32 whatever this says (``srnet.train.module``).

Run ``python -m srnet.train.precision`` to print what ``auto`` picks on this machine.
"""

from __future__ import annotations

import torch

from srnet.ops.precision import NAMES, cpu_has_native_bf16, resolve

# Lightning 2's precision flags (lightning.fabric.plugins.precision.precision), plus their aliases.
LIGHTNING_PRECISIONS = ("64-true", "32-true", "16-true", "16-mixed", "bf16-true", "bf16-mixed",
                        "transformer-engine", "transformer-engine-float16")
ALIASES = {"64": "64-true", "32": "32-true", "16": "16-mixed"}
AS_LIGHTNING = {"fp32": "32-true", "bf16": "bf16-mixed", "fp16": "16-mixed"}
ALLOWED = (*NAMES, *LIGHTNING_PRECISIONS, *ALIASES)
# trainer.accelerator values that may land on a CUDA GPU.
CUDA_ACCELERATORS = ("auto", "gpu", "cuda")
KEY = "trainer.precision"


def on_cuda(accelerator: str = "auto") -> bool:
    """Whether a Trainer with this ``trainer.accelerator`` will train on a CUDA GPU."""
    return str(accelerator or "auto").lower() in CUDA_ACCELERATORS and torch.cuda.is_available()


def resolve_precision(precision: str | int | None = "auto", accelerator: str = "auto") -> str:
    """The Lightning precision flag to train with.

    Args:
        precision: ``trainer.precision``: an srnet name (``auto`` or None, ``fp32``, ``bf16``,
            ``fp16``) or one of Lightning's values.
        accelerator: ``trainer.accelerator`` (``auto``, ``cpu``, ``gpu``, ``cuda``, ...).

    Returns:
        A value of :data:`LIGHTNING_PRECISIONS`.

    Raises:
        ValueError: an unknown value, fp16 off CUDA, or bfloat16 on a CUDA GPU without it.
    """
    text = "auto" if precision is None else str(precision).strip().lower()
    if text not in ALLOWED:
        raise ValueError(f"{KEY}={precision!r} is not a precision; choose one of "
                         f"{', '.join(ALLOWED)}")
    device = "cuda" if on_cuda(accelerator) else "cpu"
    if text in NAMES:
        return AS_LIGHTNING[resolve(text, device, KEY, precision)]
    text = ALIASES.get(text, text)
    if text.startswith("bf16"):
        resolve("bf16", device, KEY, precision)  # refuses bf16 on a CUDA GPU without it
    return text


if __name__ == "__main__":
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else "CPU"
    print(f"trainer.precision=auto -> {resolve_precision('auto')} on {device}; CPU bfloat16 "
          f"in hardware: {cpu_has_native_bf16()}")
