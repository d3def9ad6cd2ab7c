"""The learned kernels of an upsampling tail, split by the output phase they write, as figures."""

from __future__ import annotations

import torch
from PIL import Image
from torch import Tensor

from srnet.analysis.figures import grid_image, stack, titled
from srnet.nets.tails import DeconvTail, PixelShuffleTail, deconv_padding


def kernel_mosaic(kernels: Tensor, zoom: int = 6, cols: int = 8,
                  lim: float | None = None) -> Image.Image:
    """(n, kh, kw) kernels as a grid of blue (negative) / red (positive) tiles, in [-lim, lim]."""
    lim = lim or float(kernels.abs().max()) or 1.0
    tiles = [grid_image(k.detach().cpu(), zoom, "diverging", -lim, lim, fmt=None)
             for k in kernels]
    rows = [stack(tiles[i : i + cols], gap=2) for i in range(0, len(tiles), cols)]
    return stack(rows, axis=0, gap=2)


def tail_kernels(tail: torch.nn.Module) -> tuple[dict[tuple[int, int], Tensor], Tensor] | None:
    """The tail's kernels per output phase ``(i, j)`` and all of them, output channel 0.

    Deconv: output pixel ``y = s * x + t - p`` takes tap ``t``, so phase ``i`` holds taps
    ``(i + p) mod s :: s``. Pixel shuffle: phase ``(i, j)`` is conv output channel ``i * s + j``.
    Other tails have no per-phase kernels (None).
    """
    if isinstance(tail, DeconvTail):
        s, w = tail.scale, tail.deconv.weight[:, 0]  # (c_in, k, k)
        p = deconv_padding(tail.kernel, s)[0]
        phases = {(i, j): w[:, (i + p) % s :: s, (j + p) % s :: s]
                  for i in range(s) for j in range(s)}
        return phases, w
    if isinstance(tail, PixelShuffleTail):
        conv, s = tail[0], tail[1].upscale_factor
        w = conv.weight  # (C * s * s, c_in, kh, kw)
        return {(i, j): w[i * s + j] for i in range(s) for j in range(s)}, w[: s * s].flatten(0, 1)
    return None


def kernel_figures(tail: torch.nn.Module, scale: int) -> dict[str, Image.Image]:
    """``by_phase`` (one mosaic per output phase, one colour scale) and ``all``; {} for tails
    without per-phase kernels."""
    kernels = tail_kernels(tail)
    if kernels is None:
        return {}
    phases, all_k = kernels
    lim = float(all_k.abs().max())
    panels = [[titled(kernel_mosaic(phases[(i, j)], lim=lim), f"phase ({i},{j})", size=15)
               for j in range(scale)] for i in range(scale)]
    by_phase = stack([stack(row, gap=10) for row in panels], axis=0, gap=10)
    return {"by_phase": by_phase, "all": kernel_mosaic(all_k, zoom=4)}
