"""The colour path of a deployed ``y`` model, computed at LR resolution in phase space.

:func:`srnet.inference.merge_y` enlarges the LR RGB by bicubic interpolation, converts it to YCbCr,
swaps in the network's Y and converts back, all on full-size images. Here the same result is
formed from the network's *phases* (its tail output before pixel shuffle, (N, s*s, H, W)):

    RGB(sH, sW) = 255/219 * (Y - 16/255) + bicubic_s(chroma(LR))

where ``chroma`` is the Cb/Cr part of the YCbCr -> RGB conversion applied to the LR image (a 3x3
colour matrix; bicubic interpolation commutes with it because its weights sum to 1). Bicubic
enlargement by an integer factor is itself a convolution per output phase, so it is one small
convolution at LR resolution whose s*s*3 output channels line up with the network's phases: one
add, one clamp, one pixel shuffle. The weights are PyTorch's antialiased bicubic (a = -0.5,
``srnet.degradation.upscale``), renormalised on the two border rows/columns exactly as it does.

The one difference from ``merge_y``: the enlarged RGB is not clamped to [0, 1] before the colour
conversion (it is clamped at the end). Tests bound the effect (tests/test_deploy.py).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from srnet.metrics import _CB, _CR, _Y, rgb_to_y

TAPS = 5  # LR taps per axis covering the bicubic support (radius 2) of every phase


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


def border_gain(scale: int, size: int) -> Tensor:
    """(min(size, 4), s): 1 / (sum of in-image weights) for the first and last two LR rows.

    Rows 0, 1, size-2, size-1 in that order (fewer when ``size`` < 4).
    """
    w = phase_weights(scale)  # (s, TAPS)
    rows = sorted({0, 1, size - 2, size - 1} & set(range(size)))
    t = torch.arange(TAPS) - TAPS // 2
    gains = [1 / w[:, ((q + t) >= 0) & ((q + t) < size)].sum(1) for q in rows]
    return torch.stack(gains), rows


def _chroma_matrix() -> Tensor:
    """(3, 3): LR RGB -> the Cb/Cr part of the reconstructed RGB (offsets cancel)."""
    m = torch.tensor([_Y, _CB, _CR], dtype=torch.float64)
    return torch.linalg.inv(m)[:, 1:] @ m[1:]


def chroma_phases(lr_rgb: Tensor, scale: int, gain: float = 1.0, offset: float = 0.0) -> Tensor:
    """LR RGB (N, 3, H, W) -> ``gain`` * bicubic-enlarged chroma + ``offset``, (N, 3, s, s, H, W).

    Dims 2 and 3 are the output phases (ry, rx): element (n, c, ry, rx, q, p) is HR pixel
    (s*q + ry, s*p + rx). Equals ``bicubic_s(chroma(lr_rgb))`` rearranged by phase.
    """
    n, _, h, w = lr_rgb.shape
    wts = phase_weights(scale)
    k2 = wts[:, None, :, None] * wts[None, :, None, :]  # (s, s, TAPS, TAPS)
    m = _chroma_matrix() * gain  # (3 out, 3 in)
    weight = m[:, None, None, :, None, None] * k2[None, :, :, None]  # (3, s, s, 3, T, T)
    weight = weight.reshape(3 * scale * scale, 3, TAPS, TAPS).to(lr_rgb)
    weight = weight.contiguous(memory_format=torch.channels_last)
    bias = torch.full((3 * scale * scale,), offset).to(lr_rgb)
    x = lr_rgb.contiguous(memory_format=torch.channels_last)
    out = F.conv2d(x, weight, bias, padding=TAPS // 2).view(n, 3, scale, scale, h, w)
    for dim, size in ((4, h), (5, w)):  # renormalise the two border rows / columns
        gains, rows = border_gain(scale, size)
        for g, q in zip(gains.to(out), rows):
            shape = (1, 1, scale, 1, 1, 1) if dim == 4 else (1, 1, 1, scale, 1, 1)
            out.narrow(dim, q, 1).sub_(offset).mul_(g.view(shape)).add_(offset)
    return out


@torch.no_grad()
def upscale_rgb(deployed, lr_rgb: Tensor, as_uint8: bool = False) -> Tensor:
    """SR of an LR RGB batch through a :class:`srnet.deploy.DeployedNet`.

    Args:
        deployed: the deployed network (``y`` or ``rgb`` colour mode).
        lr_rgb: (N, 3, H, W) float in [0, 1], RGB.
        as_uint8: return (N, sH, sW, 3) uint8 (rounded) instead of (N, 3, sH, sW) float in [0, 1].
    """
    s = deployed.scale
    n, _, h, w = lr_rgb.shape
    lr_rgb = lr_rgb.float()
    top = 255.0 if as_uint8 else 1.0
    if as_uint8:  # written in place as (N, sH, sW, 3); +0.5 then truncation rounds
        out = torch.empty(n, s * h, s * w, 3)
        view = out.view(n, h, s, w, s, 3).permute(0, 5, 2, 4, 1, 3)  # (N, 3, ry, rx, H, W)
    else:
        out = torch.empty(n, 3, s * h, s * w)
        view = out.view(n, 3, h, s, w, s).permute(0, 1, 3, 5, 2, 4)
    shift = 0.5 if as_uint8 else 0.0
    if deployed.channels == 1:
        y_gain = top * 255.0 / 219.0
        chroma = chroma_phases(lr_rgb, s, top, shift - y_gain * 16.0 / 255.0)
        phases = deployed.forward_phases(rgb_to_y(lr_rgb))[:, :s * s]  # (N, s*s, H, W) Y
        torch.add(chroma, phases.float().view(n, 1, s, s, h, w), alpha=y_gain, out=view)
    else:
        phases = deployed.forward_phases(lr_rgb)[:, :3 * s * s].float()
        torch.add(phases.view(n, 3, s, s, h, w) * top, shift, out=view)
    out.clamp_(0, top)
    return out.to(torch.uint8) if as_uint8 else out
