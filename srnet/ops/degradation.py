"""The steps that turn a clean image into a realistic low-quality one, as plain batch functions.

Each function takes a float batch (N, C, H, W) in [0, 1] on any device and per-image parameters
as tensors of length N (or one value for the batch); none draws random numbers except through the
``generator`` it is given (a CPU generator: the same draws on every device), so a seed fixes the
result. :mod:`srnet.ops.degrader` draws the parameters and chains the steps into presets.

* kernels: isotropic / anisotropic Gaussian, generalised Gaussian (``beta``: flat-topped above 2,
  heavy-tailed below), plateau, and the circular sinc (ringing) filter, each (N, k, k) summing to 1;
* :func:`blur`: each image with its own kernel (reflect padding);
* :func:`resize`: ``area``, ``bilinear`` or ``bicubic`` (antialiased when shrinking);
* :func:`gaussian_noise` (colour or grey per image) and :func:`poisson_noise` (shot noise);
* :func:`jpeg`: encoded and decoded by ``torchvision.io`` at a quality per image (libjpeg's 4:2:0
  chroma subsampling), on the batch's device.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor
from torchvision.io import decode_jpeg, encode_jpeg

from srnet.ops.metrics import quantize

RESIZE_MODES = ("area", "bilinear", "bicubic")


def _grid(k: int, dtype: torch.dtype = torch.float64) -> tuple[Tensor, Tensor]:
    r = torch.arange(k, dtype=dtype) - (k - 1) / 2
    return r[None, :].expand(k, k), r[:, None].expand(k, k)  # x, y (k, k)


def gaussian_kernels(k: int, sigma_x: Tensor, sigma_y: Tensor, theta: Tensor,
                     beta: Tensor | None = None, plateau: bool = False) -> Tensor:
    """(N, k, k) kernels from the Mahalanobis distance d2 = x^T S^-1 x of a rotated covariance
    S (standard deviations ``sigma_x``, ``sigma_y`` in pixels, angle ``theta``): exp(-d2 / 2)
    (Gaussian), exp(-(d2)^beta / 2) (generalised, with ``beta``) or 1 / (1 + (d2)^beta)
    (``plateau``). Each sums to 1."""
    x, y = _grid(k)
    sx, sy, th = (t.double().reshape(-1, 1, 1) for t in (sigma_x, sigma_y, theta))
    c, s = torch.cos(th), torch.sin(th)
    u, v = c * x + s * y, -s * x + c * y  # coordinates along the kernel's own axes
    d2 = (u / sx) ** 2 + (v / sy) ** 2  # (N, k, k)
    if plateau:
        w = 1 / (1 + d2 ** beta.double().reshape(-1, 1, 1))
    elif beta is not None:
        w = torch.exp(-0.5 * d2 ** beta.double().reshape(-1, 1, 1))
    else:
        w = torch.exp(-0.5 * d2)
    return (w / w.sum((-2, -1), keepdim=True)).float()


def sinc_kernels(k: int, cutoff: Tensor) -> Tensor:
    """(N, k, k) circular low-pass (sinc) kernels with cutoff frequencies ``cutoff`` (radians
    per pixel, in (0, pi]): the ringing and overshoot of sharp resampling filters."""
    x, y = _grid(k)
    r = torch.sqrt(x**2 + y**2)[None]  # (1, k, k)
    w = cutoff.double().reshape(-1, 1, 1)
    safe = torch.where(r == 0, torch.ones_like(r), r)
    kern = w * torch.special.bessel_j1(w * safe) / (2 * math.pi * safe)
    kern = torch.where(r == 0, w**2 / (4 * math.pi), kern)  # the limit at the centre
    return (kern / kern.sum((-2, -1), keepdim=True)).float()


def blur(x: Tensor, kernels: Tensor) -> Tensor:
    """Image i of x (N, C, H, W) convolved with ``kernels[i]`` (N, k, k), k odd; reflect padding
    (replicate where the image is smaller than the kernel)."""
    n, c, h, w = x.shape
    k = kernels.shape[-1]
    mode = "reflect" if min(h, w) > k // 2 else "replicate"
    xp = F.pad(x, [k // 2] * 4, mode=mode).reshape(1, n * c, h + k - 1, w + k - 1)
    weight = kernels.to(x).repeat_interleave(c, 0)[:, None]  # (N*C, 1, k, k)
    return F.conv2d(xp, weight, groups=n * c).reshape(n, c, h, w)


def resize(x: Tensor, size: tuple[int, int], mode: str) -> Tensor:
    """x (N, C, H, W) -> (N, C, *size) by ``mode`` (:data:`RESIZE_MODES`); bilinear and bicubic
    are antialiased when shrinking (as image editors resize), ``area`` averages."""
    if mode not in RESIZE_MODES:
        raise ValueError(f"resize mode {mode!r}: choose one of {RESIZE_MODES}")
    if tuple(size) == tuple(x.shape[-2:]):
        return x
    if mode == "area":
        return F.interpolate(x, size=size, mode="area")
    shrink = size[0] < x.shape[-2] or size[1] < x.shape[-1]
    return F.interpolate(x, size=size, mode=mode, align_corners=False, antialias=shrink)


def gaussian_noise(x: Tensor, sigma: Tensor, gray: Tensor, generator: torch.Generator) -> Tensor:
    """x + N(0, sigma^2) per image (``sigma`` (N,) in [0, 1] units); where ``gray`` (N,) is true
    the same noise is added to every channel. Not clamped."""
    n, c, h, w = x.shape
    colour = torch.randn(n, c, h, w, generator=generator)
    mono = torch.randn(n, 1, h, w, generator=generator).expand(n, c, h, w)
    noise = torch.where(gray.reshape(-1, 1, 1, 1), mono, colour) * sigma.reshape(-1, 1, 1, 1)
    return x + noise.to(x)


def poisson_noise(x: Tensor, scale: Tensor, gray: Tensor, generator: torch.Generator,
                  levels: int = 256) -> Tensor:
    """x + ``scale`` times the shot noise of an 8-bit sensor (Poisson with ``levels`` photon
    counts at white), per image; grey images get one noise image (from their luma) for all
    channels. Not clamped."""
    def shot(img: Tensor) -> Tensor:  # (n, c, H, W) -> its shot noise, on the CPU generator
        img = img.clamp(0, 1).float().cpu()
        return torch.poisson(img * levels, generator=generator) / levels - img

    noise = torch.zeros(x.shape, dtype=torch.float32)
    gray = gray.cpu()
    if bool((~gray).any()):
        noise[~gray] = shot(x[(~gray).to(x.device)])
    if bool(gray.any()):
        g = x[gray.to(x.device)]
        luma = (g * g.new_tensor([0.299, 0.587, 0.114]).reshape(1, 3, 1, 1)).sum(1, keepdim=True) \
            if g.shape[1] == 3 else g[:, :1]
        noise[gray] = shot(luma).expand_as(g.cpu())
    return x + (noise * scale.float().reshape(-1, 1, 1, 1)).to(x)


def jpeg(x: Tensor, quality: Tensor) -> Tensor:
    """Each image of x (N, 3 or 1, H, W) in [0, 1] saved as JPEG at ``quality[i]`` (1-100) and
    read back, through ``torchvision.io`` (no codec of srnet's own), on x's device."""
    u8 = (quantize(x.clamp(0, 1)) * 255).round().to(torch.uint8)
    out = torch.empty_like(u8)
    q = quality.round().long().clamp(1, 100).tolist()
    for value in sorted(set(q)):  # one batched call per quality
        idx = [i for i, v in enumerate(q) if v == value]
        data = encode_jpeg([u8[i] for i in idx], quality=value)
        decoded = decode_jpeg([d.cpu() for d in data], device=x.device)
        for i, img in zip(idx, decoded, strict=True):
            out[i] = img
    return out.to(x.dtype) / 255
