"""The fixed (non-learned) upsamplers, side by side: plain torch, batched, any channel count.

Every function maps an LR batch (N, C, h, w) to (N, C, s*h, s*w) for an integer factor ``s``:

* :func:`nearest`   each pixel copied into an s x s block.
* :func:`bilinear`  linear interpolation along both axes (``align_corners=False``).
* :func:`bicubic`   cubic convolution, a = -0.5 (the kernel of :mod:`srnet.ops.resize`).
* :func:`bed_of_nails`  each pixel at the top-left of its s x s block, zeros elsewhere
  (zero insertion; a transposed convolution with a 1x1 kernel and stride s).
* :func:`max_unpool`  each pixel placed back at the position a preceding
  ``F.max_pool2d(..., return_indices=True)`` recorded, zeros elsewhere (as in SegNet-style
  encoder-decoders; for super-resolution those positions are an oracle taken from the HR image).
* :func:`transposed_bilinear`  a transposed convolution with a fixed bilinear kernel
  (k = 2s - s % 2, FCN's initialisation): bed of nails followed by a smoothing convolution.

The first three reuse :func:`srnet.ops.resize.upscale` (``F.interpolate``) and are clamped to
[0, 1]; the others are linear in their input and not clamped. Demo: ``python -m srnet.analysis.upsampling``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from srnet.nets.tails import deconv_padding
from srnet.ops.resize import upscale

METHODS = ("nearest", "bilinear", "bicubic", "bed_of_nails", "max_unpool", "transposed_bilinear")


def _check(x: Tensor, scale: int) -> None:
    if x.ndim != 4:
        raise ValueError(f"expected a batch (N, C, H, W), got shape {tuple(x.shape)}")
    if int(scale) != scale or scale < 1:
        raise ValueError(f"scale must be a positive integer, got {scale!r}")


def nearest(lr: Tensor, scale: int) -> Tensor:
    """(N, C, h, w) -> (N, C, s*h, s*w): every pixel repeated into an s x s block."""
    _check(lr, scale)
    return upscale(lr, scale, "nearest")


def bilinear(lr: Tensor, scale: int) -> Tensor:
    """(N, C, h, w) -> (N, C, s*h, s*w): bilinear, pixel centres aligned (``align_corners=False``)."""
    _check(lr, scale)
    return upscale(lr, scale, "bilinear")


def bicubic(lr: Tensor, scale: int) -> Tensor:
    """(N, C, h, w) -> (N, C, s*h, s*w): bicubic (a = -0.5), clamped to [0, 1]."""
    _check(lr, scale)
    return upscale(lr, scale, "bicubic")


def bed_of_nails(lr: Tensor, scale: int) -> Tensor:
    """(N, C, h, w) -> (N, C, s*h, s*w): pixel (i, j) goes to (s*i, s*j), every other pixel is 0.

    Built with pixel shuffle: of the s*s sub-pixel channels per input channel only the first
    (offset (0, 0) inside the block) carries the value.
    """
    _check(lr, scale)
    n, c, h, w = lr.shape
    sub = lr.new_zeros(n, c, scale * scale, h, w)  # (N, C, s*s, h, w)
    sub[:, :, 0] = lr
    return F.pixel_shuffle(sub.view(n, c * scale * scale, h, w), scale)  # (N, C, s*h, s*w)


def max_pool(hr: Tensor, scale: int) -> tuple[Tensor, Tensor]:
    """(N, C, s*h, s*w) -> pooled (N, C, h, w) and the argmax ``indices`` (N, C, h, w), int64.

    Non-overlapping s x s windows; ``indices`` are flat positions into each HR plane, the input
    :func:`max_unpool` needs.
    """
    _check(hr, scale)
    return F.max_pool2d(hr, scale, scale, return_indices=True)


def max_unpool(lr: Tensor, indices: Tensor, scale: int,
               size: tuple[int, int] | None = None) -> Tensor:
    """(N, C, h, w) values and (N, C, h, w) ``indices`` from :func:`max_pool` -> (N, C, s*h, s*w).

    Each value lands where its window's maximum was; the rest is 0. ``size`` is the HR (H, W)
    when it is not exactly s*h x s*w.
    """
    _check(lr, scale)
    if indices.shape != lr.shape:
        raise ValueError(f"max_unpool: indices {tuple(indices.shape)} must match values "
                         f"{tuple(lr.shape)}; take them from max_pool of the HR image")
    size = size or (lr.shape[-2] * scale, lr.shape[-1] * scale)
    return F.max_unpool2d(lr, indices, scale, scale, output_size=size)


def bilinear_kernel(scale: int, dtype: torch.dtype = torch.float32) -> Tensor:
    """The (k, k) bilinear upsampling kernel, k = 2s - s % 2 (Long et al., FCN, 2015).

    Each output phase sums to 1, so a flat image stays flat away from the borders.
    """
    k = 2 * scale - scale % 2
    factor = (k + 1) // 2
    centre = factor - 1 if k % 2 else factor - 0.5
    t = 1 - (torch.arange(k, dtype=torch.float64) - centre).abs() / factor  # (k,) triangle
    return (t[:, None] * t[None, :]).to(dtype)


def transposed_bilinear(lr: Tensor, scale: int) -> Tensor:
    """(N, C, h, w) -> (N, C, s*h, s*w): ``conv_transpose2d`` with :func:`bilinear_kernel`, stride s.

    Equals :func:`bilinear` inside the image; at the border the kernel overlaps the (zero)
    outside, so the outermost pixels come out darker.
    """
    _check(lr, scale)
    c = lr.shape[1]
    kernel = bilinear_kernel(scale, lr.dtype).to(lr.device)
    weight = kernel.expand(c, 1, *kernel.shape).contiguous()  # (C, 1, k, k), one per channel
    pad, out_pad = deconv_padding(kernel.shape[-1], scale)
    return F.conv_transpose2d(lr, weight, stride=scale, padding=pad, output_padding=out_pad,
                              groups=c)


def upsample(lr: Tensor, scale: int, method: str, indices: Tensor | None = None) -> Tensor:
    """Dispatch by name (one of :data:`METHODS`); ``max_unpool`` needs ``indices``."""
    if method == "max_unpool":
        if indices is None:
            raise ValueError("method 'max_unpool' needs the indices of a preceding max_pool")
        return max_unpool(lr, indices, scale)
    funcs = {"nearest": nearest, "bilinear": bilinear, "bicubic": bicubic,
             "bed_of_nails": bed_of_nails, "transposed_bilinear": transposed_bilinear}
    if method not in funcs:
        raise ValueError(f"unknown upsampling method {method!r}; choose one of {METHODS}")
    return funcs[method](lr, scale)


if __name__ == "__main__":
    torch.set_printoptions(precision=4)
    x = torch.tensor([[[[0.25, 0.5], [0.75, 1.0]]]])  # (1, 1, 2, 2)
    hr = torch.rand(1, 1, 4, 4)
    _, idx = max_pool(hr, 2)
    for name in METHODS:
        print(f"{name}:\n{upsample(x, 2, name, idx)[0, 0]}\n")
