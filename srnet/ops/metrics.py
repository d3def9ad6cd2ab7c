"""The SR evaluation protocol, written down once.

PSNR and SSIM as the super-resolution literature reports them:

* on the luma channel Y of ITU-R BT.601 in studio range (white -> 235, black -> 16),
* with a border of ``scale`` pixels cropped on every side,
* on 8-bit values (the SR output is clamped to [0, 1] and rounded to 1/255 steps first),
* computed in float64 and averaged over images (the mean of per-image PSNRs, not the PSNR of the
  mean squared error).

Every tensor image here is float, RGB channel order, values in [0, 1], shape (N, 3, H, W), unless
the docstring says (N, 1, H, W) luma.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from srnet.ops.color import rgb_to_y


def quantize(img: Tensor) -> Tensor:
    """Clamp to [0, 1] and round to the nearest 8-bit level; stays float in [0, 1]."""
    return img.clamp(0, 1).mul(255).round().div(255)


def crop_border(img: Tensor, border: int) -> Tensor:
    """Remove ``border`` pixels from each side of (N, C, H, W)."""
    if border <= 0:
        return img
    h, w = img.shape[-2:]
    if h <= 2 * border or w <= 2 * border:
        raise ValueError(f"image of {h}x{w} is too small to crop a border of {border} pixels")
    return img[..., border:-border, border:-border]


def _y255(img: Tensor, border: int, round_input: bool) -> Tensor:
    """Y on the 0..255 scale, float64, border cropped; ``img`` is rounded to 8 bit first if asked."""
    img = img.detach().to(torch.float64)
    if round_input:
        img = quantize(img)
    return crop_border(rgb_to_y(img), border) * 255.0


def _check_shapes(sr: Tensor, hr: Tensor, what: str) -> None:
    if sr.shape[0] != hr.shape[0] or sr.shape[-2:] != hr.shape[-2:] or sr.shape[1] not in (1, 3) \
            or hr.shape[1] not in (1, 3):
        raise ValueError(f"{what}: shapes differ, sr {tuple(sr.shape)} vs hr {tuple(hr.shape)}")


def psnr(sr: Tensor, hr: Tensor, border: int = 0, round_sr: bool = True) -> Tensor:
    """Per-image Y-PSNR in dB, shape (N,), float64.

    Args:
        sr: (N, 3, H, W) RGB or (N, 1, H, W) Y, in [0, 1]; clamped and rounded to 8 bit when
            ``round_sr`` (the protocol).
        hr: (N, 3, H, W) 8-bit RGB or (N, 1, H, W) Y; the ground truth. Either kind may be
            compared with either kind: both are reduced to Y.
        border: pixels cropped from each side, normally the scale.
        round_sr: quantize ``sr`` to 8 bit first.

    Identical images give ``inf``.
    """
    _check_shapes(sr, hr, "psnr")
    # The ground truth is 8-bit: snapping its RGB to 8-bit levels only removes float32 noise.
    diff = _y255(sr, border, round_sr) - _y255(hr, border, hr.shape[1] == 3)
    mse = diff.pow(2).flatten(1).mean(1)
    return 10.0 * torch.log10(255.0**2 / mse)


def _gaussian_1d(size: int = 11, sigma: float = 1.5) -> Tensor:
    x = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-(x**2) / (2 * sigma**2))
    return g / g.sum()


def _blur(x: Tensor, g: Tensor) -> Tensor:
    """'Valid' 2-D Gaussian filtering of (N, 1, H, W) as two 1-D passes (the window is separable)."""
    return F.conv2d(F.conv2d(x, g.view(1, 1, -1, 1)), g.view(1, 1, 1, -1))


def ssim(sr: Tensor, hr: Tensor, border: int = 0, round_sr: bool = True) -> Tensor:
    """Per-image SSIM on Y (Wang et al. 2004: 11x11 Gaussian, sigma 1.5, K1=0.01, K2=0.03, L=255).

    Same inputs and protocol as :func:`psnr`; 'valid' filtering (no padding). Shape (N,), float64.
    """
    _check_shapes(sr, hr, "ssim")
    x = _y255(sr, border, round_sr)  # (N, 1, h, w)
    y = _y255(hr, border, hr.shape[1] == 3)
    g = _gaussian_1d().to(x.device)
    if min(x.shape[-2:]) < g.numel():
        raise ValueError(f"ssim needs at least 11x11 pixels after the border crop, got {tuple(x.shape[-2:])}")
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mu_x, mu_y = _blur(x, g), _blur(y, g)
    sxx = _blur(x * x, g) - mu_x**2
    syy = _blur(y * y, g) - mu_y**2
    sxy = _blur(x * y, g) - mu_x * mu_y
    num = (2 * mu_x * mu_y + c1) * (2 * sxy + c2)
    den = (mu_x**2 + mu_y**2 + c1) * (sxx + syy + c2)
    return (num / den).flatten(1).mean(1)
