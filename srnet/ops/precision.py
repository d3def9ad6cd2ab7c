"""srnet's precision names, one vocabulary for training, inference and the deploy path.

``fp32`` (exact), ``bf16``, ``fp16`` (CUDA only), and ``auto``: on a CUDA GPU with bfloat16
(Ampere and newer) ``bf16``, on an older CUDA GPU ``fp16``, elsewhere (CPU, MPS) ``fp32``.
``infer.py precision=``, ``load_model(precision=)``, ``srnet.deploy.engine.deploy`` and
``trainer.precision`` (which maps them onto Lightning's ``*-mixed`` flags) all resolve names here.

Print what ``auto`` picks on this machine: ``python -m srnet.ops.precision``.
"""

from __future__ import annotations

import torch

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
NAMES = ("auto", *DTYPES)


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bfloat16 in hardware (AVX-512 BF16 or AMX), where bf16 is
    faster than fp32; elsewhere PyTorch emulates it and it is slower."""
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, name, lambda: False)() for name in checks)


def resolve(precision: str | None, device: str | torch.device, key: str = "precision",
            asked: object = None) -> str:
    """A name of :data:`DTYPES` for ``precision`` on ``device`` (``auto`` / None picked there);
    ``asked``: the value as the user wrote it, for messages (default ``precision``).

    Raises:
        ValueError: naming ``key``, for an unknown name, fp16 off CUDA, or bf16 on a CUDA GPU
            without it.
    """
    name = "auto" if precision is None else str(precision).strip().lower()
    asked = precision if asked is None else asked
    if name not in NAMES:
        raise ValueError(f"{key}={asked!r}: choose one of {', '.join(NAMES)}")
    cuda = torch.device(device).type == "cuda"
    if name == "auto":
        return ("bf16" if torch.cuda.is_bf16_supported() else "fp16") if cuda else "fp32"
    if name == "fp16" and not cuda:
        raise ValueError(f"{key}={asked} needs a CUDA device (device is {device}); use fp32, bf16 "
                         f"or auto")
    if name == "bf16" and cuda and not torch.cuda.is_bf16_supported():
        raise ValueError(f"{key}={asked!r}: this GPU ({torch.cuda.get_device_name()}) has no "
                         f"bfloat16 support; use {key}=auto (picks fp16 here), fp16 or fp32")
    return name


def dtype(precision: str | None, device: str | torch.device, key: str = "precision") -> torch.dtype:
    """The torch dtype of :func:`resolve`."""
    return DTYPES[resolve(precision, device, key)]


if __name__ == "__main__":
    where = "cuda" if torch.cuda.is_available() else "cpu"
    print(f"precision=auto -> {resolve('auto', where)} on {where}")
