"""Bicubic enlargement by an integer factor as one small convolution at LR resolution.

Enlarging by s is, per output phase (ry, rx), a 5x5 correlation of the LR image with the outer
product of two 1-D cubic kernels; so all s*s phases are one convolution with s*s output channels
per colour, computed at LR resolution and lined up with the network's phases (no HR-size float
image). The weights are PyTorch's antialiased bicubic (a = -0.5, ``srnet.ops.resize.upscale``),
renormalised on the two border rows/columns exactly as it does. A colour matrix may be applied
before (LR channels -> the channels enlarged) and after (enlarged -> output): both commute with
the interpolation, whose weights sum to 1.
"""

from __future__ import annotations

import functools

import torch
from torch import Tensor

from srnet.deploy.ops import FastConv

TAPS = 5  # LR taps per axis covering the bicubic support (radius 2) of every phase
CL = torch.channels_last


def cubic(x: Tensor, a: float = -0.5) -> Tensor:
    """Keys' cubic convolution kernel (PyTorch's antialiased bicubic uses a = -0.5)."""
    x = x.abs()
    inner = ((a + 2) * x - (a + 3)) * x * x + 1
    outer = (((x - 5) * x + 8) * x - 4) * a
    return torch.where(x <= 1, inner, torch.where(x < 2, outer, torch.zeros_like(x)))


def phase_weights(scale: int) -> Tensor:
    """(s, TAPS) float64: weight of LR offset t - 2 for output phase r, each row summing to 1."""
    r = torch.arange(scale, dtype=torch.float64)[:, None]
    t = torch.arange(TAPS, dtype=torch.float64)[None, :] - TAPS // 2
    w = cubic(t - ((r + 0.5) / scale - 0.5))
    return w / w.sum(1, keepdim=True)


@functools.lru_cache(maxsize=64)
def border_gain(scale: int, size: int) -> tuple[Tensor, list[int]]:
    """((min(size, 4), s) float32 gains, rows): 1 / (sum of in-image weights) per phase for
    rows 0, 1, size-2, size-1 (fewer when ``size`` < 4). Cached: do not modify."""
    w = phase_weights(scale)  # (s, TAPS)
    rows = sorted({0, 1, size - 2, size - 1} & set(range(size)))
    t = torch.arange(TAPS) - TAPS // 2
    gains = [1 / w[:, ((q + t) >= 0) & ((q + t) < size)].sum(1) for q in rows]
    return torch.stack(gains).float(), rows


class PhaseBicubic:
    """LR (1, C_src, H, W) -> rows of ``post @ bicubic_s(pre @ LR)`` as phases, at LR resolution.

    Output (1, s*s*C_out, rows, W) channels_last, channels ordered (ry, rx, output channel), so a
    pixel shuffle into (sH, sW, C_out) copies runs of s*C_out contiguous values.

    Args:
        scale: s.
        pre: (C_in, C_src) matrix applied to the LR channels, or None (C_in = C_src).
        post: (C_out, C_in) matrix applied to the enlarged channels (float64 or float32).
        device: where the weights live.
    """

    def __init__(self, scale: int, pre: Tensor | None, post: Tensor,
                 device: torch.device | str = "cpu") -> None:
        s, self.scale = scale, scale
        w = phase_weights(s)
        k2 = w[:, None, :, None] * w[None, :, None, :]  # (ry, rx, TAPS, TAPS)
        post = post.double()
        c_out, c_in = post.shape
        weight = k2[:, :, None, None] * post[None, None, :, :, None, None]  # (ry, rx, o, i, T, T)
        self.c_out = c_out
        self.pre = None if pre is None else pre.float().to(device)
        self.conv = FastConv(weight.reshape(s * s * c_out, c_in, TAPS, TAPS).float().to(device),
                             None, (TAPS // 2, TAPS // 2))

    def __call__(self, lr: Tensor, r0: int, r1: int, top: int = 0,
                 height: int | None = None) -> Tensor:
        """Rows [r0, r1) of the phases; ``lr`` (1, C_src, rows, W) holds rows [top, top + rows)
        of an image of ``height`` rows (default: all of it), of which the conv reads 2 rows of
        context either side."""
        h, w = height or lr.shape[-2], lr.shape[-1]
        a, b = max(r0 - TAPS // 2, 0), min(r1 + TAPS // 2, h)
        x = lr[:, :, a - top:b - top].float()
        if self.pre is not None:
            x = torch.einsum("cj,njhw->nchw", self.pre, x)
        out = self.conv(x.contiguous(memory_format=CL))[:, :, r0 - a:r1 - a]
        s = self.scale
        view = out.view(1, s, s, self.c_out, r1 - r0, w)  # (1, ry, rx, colour, rows, W)
        gains, rows = border_gain(s, h)  # rows: one op per border row in this band
        for g, q in zip(gains.to(out.device), rows, strict=True):
            if r0 <= q < r1:
                view.narrow(4, q - r0, 1).mul_(g.view(1, s, 1, 1, 1, 1))
        gains, cols = border_gain(s, w)  # columns: the two first and the two last at once
        gains = gains.t().reshape(1, 1, s, 1, 1, len(cols)).to(out.device)
        if w >= 4:
            view.narrow(5, 0, 2).mul_(gains[..., :2])
            view.narrow(5, w - 2, 2).mul_(gains[..., 2:])
        else:
            for j, q in enumerate(cols):
                view.narrow(5, q, 1).mul_(gains[..., j:j + 1])
        return out
