"""Where and in what precision inference runs: ``device=`` and ``precision=`` of infer.py and
``load_model``."""

from __future__ import annotations

import torch

from srnet.ops.precision import DTYPES, NAMES, resolve

PRECISIONS = NAMES  # srnet.ops.precision: the one vocabulary


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
    """The autocast dtype for ``precision`` on ``device`` (None: fp32, no autocast); the names
    and ``auto`` are :mod:`srnet.ops.precision`'s."""
    name = resolve(precision, device)
    return None if name == "fp32" else DTYPES[name]
