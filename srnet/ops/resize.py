"""Resizing by fixed rules: the MATLAB-faithful bicubic shrink and the upscaling baselines.

* :func:`bicubic_down`: MATLAB ``imresize``-style bicubic shrinking, i.e. antialiased (the kernel
  is stretched by the scale) with a = -0.5. ``torch.nn.functional.interpolate(mode="bicubic",
  antialias=True)`` is exactly that kernel (Pillow's); measured against the MATLAB-made LR files of
  Set5/Set14/BSD100 it agrees to 47-56 dB and reproduces the published bicubic baselines to 0.02 dB.
  The result is rounded to 8 bit, as MATLAB's ``imresize`` on uint8 images does. It is the
  ``bicubic`` degradation preset (:mod:`srnet.ops.degrader`).
* :func:`upscale`, the baselines: ``nearest`` (each pixel copied into an s x s block),
  ``bilinear`` (``align_corners=False``) and ``bicubic`` (the same antialiased kernel;
  antialiasing is a no-op when enlarging).

Images are float tensors (N, C, H, W) with values in [0, 1]; any channel count.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from srnet.ops.metrics import quantize

BASELINES = ("nearest", "bilinear", "bicubic")


def mod_crop(img: Tensor, scale: int) -> Tensor:
    """Crop (..., H, W) at the bottom/right so both sides are multiples of ``scale``."""
    h, w = img.shape[-2:]
    return img[..., : h - h % scale, : w - w % scale]


def bicubic_down(hr: Tensor, scale: int) -> Tensor:
    """HR (N, C, s*h, s*w) in [0, 1] -> LR (N, C, h, w) in [0, 1], rounded to 8-bit levels.

    The HR sides must be multiples of ``scale`` (use :func:`mod_crop`).
    """
    h, w = hr.shape[-2:]
    if h % scale or w % scale:
        raise ValueError(f"HR size {h}x{w} is not a multiple of scale {scale}; mod-crop it first")
    lr = F.interpolate(hr.float(), size=(h // scale, w // scale), mode="bicubic",
                       antialias=True, align_corners=False)
    return quantize(lr).to(hr.dtype)


def upscale(lr: Tensor, scale: int, method: str, clamp: bool = True) -> Tensor:
    """Fixed-rule upscaling of LR (N, C, h, w) in [0, 1] to (N, C, s*h, s*w), clamped to [0, 1]
    unless ``clamp=False`` (bicubic over- and undershoots at edges)."""
    size = (lr.shape[-2] * scale, lr.shape[-1] * scale)
    if method == "nearest":
        out = F.interpolate(lr, size=size, mode="nearest")
    elif method in ("bilinear", "bicubic"):
        out = F.interpolate(lr, size=size, mode=method, align_corners=False,
                            antialias=method == "bicubic")
    else:
        raise ValueError(f"unknown upscaling method {method!r}; choose one of {BASELINES}")
    return out.clamp(0, 1) if clamp else out


def enlarge(x: Tensor, scale: int, method: str, clamp: bool = True) -> Tensor:
    """:func:`upscale` that gives the same values on a tile as on the whole image.

    Interpolation positions are computed in the input's precision; for scales that are not powers
    of two they drift with the distance from the origin in float32, so those run in float64.
    """
    exact = method == "nearest" or scale & (scale - 1) == 0  # 1/2, 1/4: exact in float32
    return upscale(x if exact else x.double(), scale, method, clamp).to(x.dtype)
