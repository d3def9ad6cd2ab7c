"""Where and in what precision inference runs: ``device=`` and ``precision=`` of infer.py and
``load_model``."""

from __future__ import annotations

import torch

PRECISIONS = {"fp32": None, "fp16": torch.float16, "bf16": torch.bfloat16}


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``auto`` -> ``cuda`` when available, else ``cpu``; anything else as torch spells it."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except RuntimeError as e:
        raise ValueError(f"device={device!r}: use auto, cpu, cuda or cuda:<n> ({e})") from e
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device}: CUDA is not available here; use device=cpu or auto")
    return dev


def check_precision(precision: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for ``precision`` (None for fp32); fp16 needs a CUDA device."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision={precision!r}: choose one of {sorted(PRECISIONS)}")
    if precision == "fp16" and device.type != "cuda":
        raise ValueError(f"precision=fp16 needs a CUDA device (device is {device}); use fp32 or bf16")
    return PRECISIONS[precision]
