"""Fixed upscalings of the LR input that the network's output is added to (residual learning).

With ``model.net.skip=bicubic`` the network predicts SR - bicubic(LR) instead of SR: it learns only
the detail bicubic misses, which it learns much faster (no new weights, and a flat input is
reproduced exactly from the first step). Both skips are fixed transposed convolutions in disguise,
written here in their sub-pixel form: an edge-replicated 5x5 correlation at LR resolution with one
kernel per output phase, then pixel shuffle. The deploy rewrite adds these phase outputs to the
tail's before its one pixel shuffle.

* ``bicubic``: the cubic convolution kernel with a = -0.5 (MATLAB's ``imresize`` and Pillow's),
  half-pixel centres (``align_corners=False``), edges replicated. Away from the border it equals
  ``F.interpolate(mode="bicubic", antialias=True)``, srnet's bicubic baseline.
* ``nearest``: each LR pixel copied into its s x s block.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

SKIPS = ("none", "bicubic", "nearest")
RADIUS = 2  # LR pixels each side that a phase kernel reads


def cubic(d: Tensor, a: float = -0.5) -> Tensor:
    """Keys' cubic convolution kernel at distances ``d``."""
    d = d.abs()
    near = ((a + 2) * d - (a + 3)) * d * d + 1
    far = ((d - 5) * d + 8) * d * a - 4 * a
    return torch.where(d <= 1, near, torch.where(d < 2, far, torch.zeros_like(d)))


def phase_taps(scale: int, method: str) -> Tensor:
    """1-D taps (s, 5): phase r reads LR offsets -2..2 around its LR pixel, float64."""
    offsets = torch.arange(-RADIUS, RADIUS + 1, dtype=torch.float64)
    if method == "nearest":
        return (offsets == 0).to(torch.float64).expand(scale, -1).clone()
    if method != "bicubic":
        raise ValueError(f"model.net.skip={method!r}: choose one of {SKIPS}")
    delta = (torch.arange(scale, dtype=torch.float64) + 0.5) / scale - 0.5  # sample position
    return cubic(delta[:, None] - offsets[None, :])  # (s, 5)


class FixedUpscale(nn.Module):
    """Upscale (N, C, H, W) -> (N, C, s*H, s*W) by a fixed rule (``bicubic`` or ``nearest``).

    ``phases(x)`` gives the (N, C*s*s, H, W) phase images before the shuffle, channel c*s*s + phase.
    The kernel is a non-persistent buffer: checkpoints store only ``model.net.skip``.
    """

    def __init__(self, scale: int, channels: int, method: str = "bicubic") -> None:
        super().__init__()
        self.scale, self.channels, self.method = scale, channels, method
        t = phase_taps(scale, method)  # (s, 5)
        k = t[:, None, :, None] * t[None, :, None, :]  # (s, s, 5, 5): phase (ry, rx)
        k = k.reshape(scale * scale, 1, 5, 5).repeat(channels, 1, 1, 1)  # (C*s*s, 1, 5, 5)
        self.register_buffer("weight", k.float(), persistent=False)

    def phases(self, x: Tensor) -> Tensor:
        x = F.pad(x, (RADIUS,) * 4, mode="replicate")  # (N, C, H + 4, W + 4)
        return F.conv2d(x, self.weight.to(x.dtype), groups=self.channels)  # (N, C*s*s, H, W)

    def forward(self, x: Tensor) -> Tensor:
        return F.pixel_shuffle(self.phases(x), self.scale)  # (N, C, s*H, s*W)


def build_skip(name: str, scale: int, channels: int) -> FixedUpscale | None:
    """The skip module for ``model.net.skip``, or None for ``none``."""
    if name == "none":
        return None
    if name not in SKIPS:
        raise ValueError(f"model.net.skip={name!r}: choose one of {SKIPS}")
    return FixedUpscale(scale, channels, name)
