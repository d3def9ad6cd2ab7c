"""A stride-s transposed convolution computed exactly as convolution + pixel shuffle.

A ``ConvTranspose2d`` with stride s, kernel k and padding p computes, along each axis,

    y[o] = sum_i x[i] * w[o + p - s*i]          (taps with 0 <= o + p - s*i < k)

Write the output position as o = s*q + r (r is the *phase*, 0 <= r < s) and r + p = s*a_r + b_r.
With the kernel zero-padded to m*s taps (m = ceil(k/s)), phase r uses the taps w[s*j + b_r],
j = 0..m-1, applied to x[q + a_r - j]: an ordinary correlation at LR resolution. All s*s phases
together are one ``Conv2d`` with s*s*C outputs, followed by ``PixelShuffle(s)``. The phases
partition the kernel's taps, so the conv weight is a pure re-indexing of the transposed
convolution's weight (:func:`phase_weight`), differentiable, and the work drops by s*s because no
inserted zero is ever multiplied.

As one conv (:func:`phase_weight`: what the deploy rewrite :mod:`srnet.nets.reparam` bakes and
the closed-form tail fit uses) it has L = max(a) - min(a) + m taps per axis and needs m-1-min(a)
zeros on the left and max(a) on the right; for FSRCNN's kernels (8/9/12 at x2/x3/x4) these are
equal (L = 5, 3, 3) and no crop is needed. Otherwise the conv pads symmetrically and the output is
cropped.

Training uses :func:`subpixel_deconv` (the parameters stay the ``ConvTranspose2d`` weight), which
spends no multiply-adds on the zero taps of that L x L window: it runs an m x m conv over an
output max(a) - min(a) larger and takes each phase's H x W window at its own offset a_r - min(a)
(:func:`compact_index`). At x2 with k = 8 (a = 1, 2) that is 16 taps on a 33 x 33 grid per
32 x 32 patch instead of 25 taps on 32 x 32.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import torch
import torch.nn.functional as F
from torch import Tensor


@dataclass(frozen=True)
class AxisPlan:
    """One axis of the rewrite: conv taps, symmetric conv padding, crop offset, and, for every
    (phase, conv tap), the transposed-convolution tap it reads (-1: a zero of the padded kernel)."""

    length: int
    pad: int
    crop: int
    taps: tuple[tuple[int, ...], ...]  # (s, length)


@lru_cache(maxsize=64)
def axis_plan(kernel: int, stride: int, padding: int) -> AxisPlan:
    """The rewrite of one axis of a transposed convolution (kernel, stride, padding)."""
    m = math.ceil(kernel / stride)
    a = [(r + padding) // stride for r in range(stride)]
    b = [(r + padding) % stride for r in range(stride)]
    left, right = m - 1 - min(a), max(a)
    length, pad = max(a) - min(a) + m, max(left, right)
    taps = []
    for r in range(stride):
        row = [-1] * length
        for j in range(m):
            k = stride * j + b[r]
            if k < kernel:
                row[a[r] - j + left] = k  # conv tap index for x[q + a_r - j]
        taps.append(tuple(row))
    return AxisPlan(length, pad, pad - left, tuple(taps))


@lru_cache(maxsize=64)
def gather_index(kh: int, kw: int, stride: int, ph: int, pw: int) -> tuple[Tensor, AxisPlan,
                                                                             AxisPlan]:
    """Flat index (s, s, Ly, Lx) into the (kh*kw + 1) taps of a kernel with a trailing zero."""
    py, px = axis_plan(kh, stride, ph), axis_plan(kw, stride, pw)
    with torch.inference_mode(False):  # cached: must stay usable by autograd later
        ty = torch.tensor(py.taps)  # (s, Ly)
        tx = torch.tensor(px.taps)  # (s, Lx)
        idx = ty[:, None, :, None] * kw + tx[None, :, None, :]  # (s, s, Ly, Lx)
        zero = (ty[:, None, :, None] < 0) | (tx[None, :, None, :] < 0)
        idx = idx.masked_fill(zero, kh * kw)
    return idx, py, px


def check_family(stride: tuple[int, int], kernel: tuple[int, int], padding: tuple[int, int],
                 output_padding: tuple[int, int]) -> int:
    """The stride, if this transposed convolution maps H to s*H with equal strides; else raise."""
    s = stride[0]
    if stride[1] != s:
        raise ValueError(f"sub-pixel form: stride {stride} must be equal on both axes")
    for k, p, op in zip(kernel, padding, output_padding, strict=True):
        if k + op - 2 * p != s:
            raise ValueError(f"sub-pixel form: kernel {k}, padding {p}, output_padding {op} do not "
                             f"map H to {s}*H (need kernel + output_padding - 2*padding == stride; "
                             f"see srnet.nets.tails.deconv_padding)")
    return s


@dataclass(frozen=True)
class CompactPlan:
    """The m x m form of one geometry: a flat index (s, s, my, mx) into the taps plus a trailing
    zero, the input padding (left, right, top, bottom), and each phase's output offsets."""

    index: Tensor
    pad: tuple[int, int, int, int]
    offsets_y: tuple[int, ...]
    offsets_x: tuple[int, ...]


def _compact_axis(kernel: int, stride: int, padding: int) -> tuple[list, list, int, int]:
    m = math.ceil(kernel / stride)
    a = [(r + padding) // stride for r in range(stride)]
    b = [(r + padding) % stride for r in range(stride)]
    # conv tap t of phase r reads x[q + a_r - (m-1) + t] with kernel tap s*(m-1-t) + b_r
    taps = [[k if (k := stride * (m - 1 - t) + b[r]) < kernel else -1 for t in range(m)]
            for r in range(stride)]
    return taps, [x - min(a) for x in a], m - 1 - min(a), max(a)


@lru_cache(maxsize=64)
def compact_index(kh: int, kw: int, stride: int, ph: int, pw: int) -> CompactPlan:
    """The plan :func:`subpixel_deconv` trains with, for a (kh, kw) kernel, stride, padding."""
    (ty, oy, top, bottom), (tx, ox, left, right) = (_compact_axis(kh, stride, ph),
                                                    _compact_axis(kw, stride, pw))
    with torch.inference_mode(False):  # cached: must stay usable by autograd later
        ty, tx = torch.tensor(ty), torch.tensor(tx)  # (s, my), (s, mx)
        idx = ty[:, None, :, None] * kw + tx[None, :, None, :]  # (s, s, my, mx)
        zero = (ty[:, None, :, None] < 0) | (tx[None, :, None, :] < 0)
        idx = idx.masked_fill(zero, kh * kw)
    return CompactPlan(idx, (left, right, top, bottom), tuple(oy), tuple(ox))


def phase_weight(weight: Tensor, stride: int, padding: tuple[int, int]) -> tuple[Tensor, tuple,
                                                                                    tuple]:
    """Re-index a ``ConvTranspose2d`` weight (c_in, c_out, kh, kw) into the equivalent ``Conv2d``
    weight (c_out*s*s, c_in, Ly, Lx) (output channel c*s*s + phase, as ``PixelShuffle`` expects).

    Differentiable: gradients flow back to ``weight``. Returns (weight, conv padding, crop).
    """
    c_in, c_out, kh, kw = weight.shape
    idx, py, px = gather_index(kh, kw, stride, padding[0], padding[1])
    flat = torch.cat([weight.reshape(c_in, c_out, kh * kw),
                      weight.new_zeros(c_in, c_out, 1)], dim=2)  # (c_in, c_out, kh*kw + 1)
    w = flat[:, :, idx.to(weight.device)]  # (c_in, c_out, s, s, Ly, Lx)
    w = w.permute(1, 2, 3, 0, 4, 5).reshape(c_out * stride * stride, c_in, py.length, px.length)
    return w, (py.pad, px.pad), (py.crop, px.crop)


def subpixel_deconv(x: Tensor, weight: Tensor, bias: Tensor | None, stride: int,
                    padding: tuple[int, int], plan: CompactPlan | None = None) -> Tensor:
    """``conv_transpose2d(x, weight, bias, stride, padding, output_padding)`` for the
    H -> s*H family, computed as conv at LR resolution + pixel shuffle: (N, C, s*H, s*W).

    ``plan``: :func:`compact_index` of this geometry, if the caller keeps it (modules do, so that
    a compiled forward traces no cache lookups)."""
    c_in, c_out, kh, kw = weight.shape
    s, (n, _, h, w) = stride, x.shape
    plan = plan or compact_index(kh, kw, s, padding[0], padding[1])
    flat = torch.cat([weight.reshape(c_in, c_out, kh * kw),
                      weight.new_zeros(c_in, c_out, 1)], dim=2)  # (c_in, c_out, kh*kw + 1)
    wc = flat[:, :, plan.index.to(weight.device)]  # (c_in, c_out, s, s, my, mx)
    wc = wc.permute(1, 2, 3, 0, 4, 5).reshape(c_out * s * s, c_in, *plan.index.shape[-2:])
    y = F.conv2d(F.pad(x, plan.pad), wc)  # (N, c_out*s*s, H + Dy, W + Dx)
    if any(plan.offsets_y) or any(plan.offsets_x):  # each phase's H x W window at its offset
        y = y.view(n, c_out, s, s, *y.shape[-2:])
        y = torch.stack([torch.stack([y[:, :, i, j, oy: oy + h, ox: ox + w]
                                      for j, ox in enumerate(plan.offsets_x)], dim=2)
                         for i, oy in enumerate(plan.offsets_y)], dim=2)  # (N, c_out, s, s, H, W)
        y = y.reshape(n, c_out * s * s, h, w)
    if bias is not None:
        y = y + bias.repeat_interleave(s * s).view(1, -1, 1, 1)
    return F.pixel_shuffle(y, s)
