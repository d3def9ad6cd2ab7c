"""The README's real-photo figure: a photo saved as a JPEG at LR, upscaled four ways.

A photograph outside every training and test set (scikit-image's, or any file given) is shrunk
by bicubic, saved as a JPEG at ``quality`` (the file people have), decoded, and upscaled by
bicubic, the clean bundled weights and the real-photo ones through the public API
(``load_model``); the panels show one zoomed crop of each with the whole image's Y-PSNR against
the original (border = scale). Run: ``python scripts/real_photo_figure.py``.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from srnet.analysis.figures import stack, titled, zoomed
from srnet.analysis.samples import detail_box
from srnet.infer.models import load_model
from srnet.ops.metrics import psnr
from srnet.ops.resize import bicubic_down, enlarge, mod_crop


def photo(path: str | None) -> tuple[np.ndarray, str]:
    """The original (uint8 RGB) and its name: ``path``, or scikit-image's coffee cup."""
    if path:
        return np.asarray(Image.open(path).convert("RGB")), Path(path).name
    from skimage import data

    return data.coffee(), "scikit-image coffee"


def as_tensor(img: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.array(img)).permute(2, 0, 1)[None].float() / 255  # (1, 3, H, W)


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """(1, 3, H, W) in [0, 1] -> uint8 (H, W, 3)."""
    return (x[0].permute(1, 2, 0).clamp(0, 1) * 255).round().byte().numpy()


def jpeg_lr(hr: np.ndarray, scale: int, quality: int) -> np.ndarray:
    """Bicubic shrink, 8-bit, then saved and read back as a JPEG at ``quality`` (4:2:0)."""
    arr = to_uint8(bicubic_down(as_tensor(hr), scale))  # (h, w, 3)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "JPEG", quality=quality)
    return np.asarray(Image.open(buf).convert("RGB"))


def figure(path: str | None = None, scale: int = 2, quality: int = 50,
           box: tuple[int, int, int] | None = None, zoom: int = 2) -> tuple[Image.Image, dict]:
    """(the panel image, {method: Y-PSNR}); ``box`` = (top, left, side) of the HR crop."""
    img, name = photo(path)
    hr = mod_crop(as_tensor(img), scale)  # (1, 3, H, W)
    hr8 = to_uint8(hr)
    lr = jpeg_lr(hr8, scale, quality)
    clean, real = load_model(f"x{scale}", device="cpu"), load_model(f"x{scale}-real", device="cpu")
    outs = {"JPEG input (nearest)": np.asarray(Image.fromarray(lr).resize(
                (lr.shape[1] * scale, lr.shape[0] * scale), Image.NEAREST)),
            "bicubic": to_uint8(enlarge(as_tensor(lr), scale, "bicubic")),
            f"srnet x{scale} (clean)": clean.upscale(lr),
            f"srnet x{scale}-real": real.upscale(lr)}
    scores = {k: float(psnr(as_tensor(v), hr, border=scale)) for k, v in outs.items()}
    h, w = hr8.shape[:2]
    top, left, side = box or detail_box(hr, min(128, h // 2, w // 2))  # the most detailed crop
    panels = [titled(zoomed(Image.fromarray(v[top:top + side, left:left + side]), zoom),
                     f"{k}\nY-PSNR {scores[k]:.2f} dB", size=15) for k, v in outs.items()]
    head = f"{name}, shrunk x{scale} and saved as JPEG quality {quality}; crop zoomed {zoom}x"
    return titled(stack(panels), head, size=15), scores
