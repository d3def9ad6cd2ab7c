"""Reading and writing images, and converting them to and from tensors.

Arrays are numpy ``uint8`` (H, W, 3) RGB unless stated; tensors are float (N, 3, H, W) RGB in
[0, 1]. JPEG EXIF orientation is applied on reading so images come out upright.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps
from torch import Tensor

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm")


def is_image_file(path: str | Path) -> bool:
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def read_rgb(path: str | Path) -> np.ndarray:
    """Decode an image file to uint8 (H, W, 3) RGB, upright. Raises ``OSError`` naming the file."""
    path = Path(path)
    try:
        with Image.open(path) as im:
            im = ImageOps.exif_transpose(im)
            return np.asarray(im.convert("RGB"), dtype=np.uint8).copy()
    except (OSError, ValueError, SyntaxError) as e:  # PIL raises all three for bad files
        raise OSError(f"cannot read image {path}: {e}") from e


def to_tensor(img: np.ndarray) -> Tensor:
    """uint8 (H, W, C) -> float (1, C, H, W) in [0, 1]."""
    if img.ndim == 2:
        img = img[:, :, None]
    return torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1)[None].float().div(255)


def to_uint8(t: Tensor) -> np.ndarray:
    """float (1, C, H, W) or (C, H, W) in [0, 1] -> uint8 (H, W, C), rounded."""
    if t.ndim == 4:
        t = t[0]
    return t.detach().float().clamp(0, 1).mul(255).round().byte().permute(1, 2, 0).cpu().numpy()


def save_atomic(img: Image.Image, path: str | Path, overwrite: bool = False, **save_kwargs) -> Path:
    """Write ``img`` to ``path`` through a temporary file and a rename, so a crash never leaves a
    half-written image. Refuses to replace an existing file unless ``overwrite``."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=true to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        img.save(tmp, **save_kwargs)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
