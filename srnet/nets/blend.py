"""Interpolating two trained networks of one shape: the ``denoise`` strength knob.

``blend(clean, real, t)`` has the weights ``(1 - t) * clean + t * real``, so t = 0 is the clean
network and t = 1 the real-photo one, exactly. It is an ordinary network of the same shape (the
deployed path and its speed are unchanged). A blend makes sense when the two networks are in one
basin: the real-photo weights are fine-tuned from the clean ones (Real-ESRGAN's ``-dn``).
When the real network is wider (fine-tuned from the clean one embedded in it,
:mod:`srnet.nets.widen`), the clean side is the clean network padded with zeros: t = 0 is still
the clean network itself, and 0 < t <= 1 costs the wide network's time.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from srnet.nets.widen import can_widen, embed


@torch.no_grad()
def blend(clean: nn.Module, real: nn.Module, t: float) -> nn.Module:
    """A copy of ``clean`` with weights ``(1 - t) * clean + t * real`` (t in [0, 1])."""
    t = float(t)
    if not 0.0 <= t <= 1.0:
        raise ValueError(f"denoise={t}: give a strength from 0 (clean) to 1 (real-photo weights)")
    mine, theirs_cfg = getattr(clean, "cfg", None), getattr(real, "cfg", None)
    if mine != theirs_cfg:
        if mine is None or theirs_cfg is None or not can_widen(mine.to_dict(),
                                                               theirs_cfg.to_dict()):
            raise ValueError("denoise= blends two networks of the same shape (or clean weights "
                             f"and a wider network fine-tuned from them); these differ: {mine} "
                             f"and {theirs_cfg}")
        if t == 0.0:  # the clean network itself: its own (narrower, faster) shape
            return copy.deepcopy(clean)
        padded = copy.deepcopy(real)
        embed(padded, clean.state_dict(), fresh=False)
        for attr in ("degradation", "source"):
            if hasattr(clean, attr):
                setattr(padded, attr, getattr(clean, attr))
        clean = padded
    out = copy.deepcopy(clean)
    if t == 0.0:
        return out
    theirs = real.state_dict()
    for name, value in out.state_dict().items():
        if value.is_floating_point():
            value.copy_(theirs[name] if t == 1.0 else torch.lerp(value, theirs[name], t))
    return out
