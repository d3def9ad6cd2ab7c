"""Reading and writing images, and converting them to and from tensors.

Arrays are numpy ``uint8`` (H, W, 3) RGB unless stated; tensors are float (N, 3, H, W) RGB in
[0, 1]. JPEG EXIF orientation is applied on reading so images come out upright.

For inference on users' own files, :class:`Picture` keeps what a file holds: grey or RGB, an
alpha channel, 8 or 16 bits (read with :func:`read_picture`, written with :func:`write_picture`).
16-bit colour / alpha PNG and TIFF, which Pillow decodes only at 8 bit, go through
:mod:`srnet.io.images16` (pypng and tifffile); everything else through Pillow.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps
from torch import Tensor

from srnet.io.images16 import deep_format, read_deep, write_deep

log = logging.getLogger(__name__)

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
    return write_atomic(lambda tmp: img.save(tmp, **save_kwargs), path, overwrite)


def write_atomic(write: Callable[[str], object], path: str | Path, overwrite: bool = False) -> Path:
    """Call ``write(tmp_path)`` on a temporary file next to ``path``, then rename it to ``path``."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=true to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# -- Pictures: what a user's file holds (grey or RGB, alpha, 8 or 16 bit) -------------------------

ALPHA_SUFFIXES = (".png", ".tif", ".tiff", ".webp")  # formats that keep an alpha channel
DEEP_SUFFIXES = (".png", ".tif", ".tiff")  # formats written at 16 bit


@dataclass
class Picture:
    """A decoded image as the user's file holds it, upright.

    Attributes:
        pixels: (H, W, C) ``uint8`` or ``uint16``; C = 1 (grey) or 3 (RGB).
        alpha: (H, W) of the same dtype, or None.
        icc_profile: the embedded colour profile, kept when writing.
    """

    pixels: np.ndarray
    alpha: np.ndarray | None = None
    icc_profile: bytes | None = None

    def __post_init__(self) -> None:
        if self.pixels.dtype not in (np.uint8, np.uint16):
            raise ValueError(f"pixels must be uint8 or uint16, got {self.pixels.dtype}")
        if self.pixels.ndim == 2:
            self.pixels = self.pixels[:, :, None]
        if self.pixels.ndim != 3 or self.pixels.shape[2] not in (1, 3):
            raise ValueError(f"pixels must be (H, W, 1) or (H, W, 3), got {self.pixels.shape}")
        if self.alpha is not None and self.alpha.shape != self.pixels.shape[:2]:
            raise ValueError(f"alpha {self.alpha.shape} does not match pixels {self.pixels.shape}")

    @property
    def max_value(self) -> int:
        return 65535 if self.pixels.dtype == np.uint16 else 255

    def describe(self) -> str:
        """E.g. ``'640x480 RGB+alpha 16-bit'``."""
        h, w, c = self.pixels.shape
        kind = ("RGB" if c == 3 else "grey") + ("+alpha" if self.alpha is not None else "")
        return f"{w}x{h} {kind} {8 if self.max_value == 255 else 16}-bit"

    def color_tensor(self) -> Tensor:
        """(1, C, H, W) float in [0, 1], normalised by the dtype's maximum."""
        return to_tensor(self.pixels) * (255.0 / self.max_value)

    def alpha_tensor(self) -> Tensor | None:
        """(1, 1, H, W) float in [0, 1], or None."""
        return None if self.alpha is None else to_tensor(self.alpha) * (255.0 / self.max_value)


def picture_from_pil(im: Image.Image, name: str = "image") -> Picture:
    """A PIL image (any mode Pillow decodes) -> :class:`Picture`; CMYK is converted with a warning."""
    icc = im.info.get("icc_profile")
    mode, transparent = im.mode, "transparency" in im.info
    if mode == "CMYK":
        log.warning("%s: CMYK image converted to RGB (naive conversion, no colour management)", name)
        im, icc, mode = im.convert("RGB"), None, "RGB"
    if mode in ("1", "L", "LA", "La"):
        im = im.convert("LA" if transparent or mode in ("LA", "La") else "L")
    elif mode in ("P", "PA", "RGB", "RGBA", "RGBa"):
        im = im.convert("RGBA" if transparent or mode in ("PA", "RGBA", "RGBa") else "RGB")
    elif mode in ("RGBX", "YCbCr", "LAB", "HSV"):
        im = im.convert("RGB")
    elif mode.startswith("I;16") or mode == "I":
        arr = np.asarray(im)
        if arr.size and (arr.min() < 0 or arr.max() > 65535):
            raise ValueError(f"{name}: 32-bit integer image with values outside 0..65535")
        return Picture(arr.astype(np.uint16), icc_profile=icc)
    else:
        raise ValueError(f"{name}: image mode {mode!r} is not supported (8/16-bit grey, RGB, "
                         f"RGBA, LA, palette, CMYK are)")
    arr = np.asarray(im).copy()
    if im.mode in ("LA", "RGBA"):
        return Picture(arr[..., :-1], arr[..., -1], icc)
    return Picture(arr, None, icc)


def picture_from_array(arr: np.ndarray) -> Picture:
    """uint8/uint16 (H, W), (H, W, 1|3) or with alpha (H, W, 2|4) -> :class:`Picture`."""
    if arr.dtype not in (np.uint8, np.uint16):
        raise ValueError(f"expected a uint8 or uint16 array, got {arr.dtype} (for float tensors "
                         f"in [0, 1] use upscale_tensor)")
    if arr.ndim == 3 and arr.shape[2] in (2, 4):
        return Picture(arr[..., :-1].copy(), arr[..., -1].copy())
    if arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] in (1, 3)):
        return Picture(arr.copy())
    raise ValueError(f"expected an (H, W) or (H, W, C) array with C in 1..4, got {arr.shape}")


def picture_to_array(pic: Picture) -> np.ndarray:
    """(H, W, C) with alpha as the last channel when there is one; dtype kept."""
    if pic.alpha is None:
        return pic.pixels
    return np.concatenate([pic.pixels, pic.alpha[:, :, None]], axis=2)


def picture_to_pil(pic: Picture) -> Image.Image:
    """8-bit pictures in mode L / LA / RGB / RGBA; 16-bit grey without alpha in mode I;16."""
    if pic.max_value > 255:
        if pic.pixels.shape[2] == 1 and pic.alpha is None:
            return Image.fromarray(pic.pixels[:, :, 0])  # mode I;16
        raise ValueError("Pillow cannot hold 16-bit colour or alpha; use a numpy array instead")
    arr = picture_to_array(pic)
    return Image.fromarray(arr[:, :, 0] if arr.shape[2] == 1 else arr)


# numpy equivalents of ImageOps.exif_transpose, by EXIF orientation tag (0x0112)
_ORIENT = {2: lambda a: a[:, ::-1], 3: lambda a: a[::-1, ::-1], 4: lambda a: a[::-1],
           5: lambda a: a.swapaxes(0, 1), 6: lambda a: np.rot90(a, -1),
           7: lambda a: a[::-1, ::-1].swapaxes(0, 1), 8: lambda a: np.rot90(a, 1)}


def orient(arr: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation to an (H, W, ...) array so it comes out upright."""
    return np.ascontiguousarray(_ORIENT.get(orientation, lambda a: a)(arr))


def read_picture(path: str | Path) -> Picture:
    """Decode a file into a :class:`Picture`, upright (EXIF), keeping alpha and 16 bit.

    Raises:
        OSError: naming the file, for folders, empty, truncated or non-image files.
    """
    path = Path(path)
    if path.is_dir():
        raise OSError(f"{path} is a folder, not an image")
    if path.stat().st_size == 0:
        raise OSError(f"{path} is empty (0 bytes)")
    try:
        fmt = deep_format(path)  # 16-bit colour / alpha PNG or TIFF
        if fmt is not None:
            arr, icc, orientation = read_deep(path, fmt)  # (H, W, 2|3|4) uint16, alpha last
            pic = picture_from_array(orient(arr, orientation))
            pic.icc_profile = icc
            return pic
        with Image.open(path) as im:
            icc = im.info.get("icc_profile")
            up = ImageOps.exif_transpose(im)
            up.load()
            up.info.setdefault("icc_profile", icc)
            return picture_from_pil(up, str(path))
    except Exception as e:  # PIL raises OSError, ValueError, SyntaxError, zlib.error, ...
        if isinstance(e, OSError) and str(path) in str(e):
            raise
        raise OSError(f"cannot read image {path}: {e}") from e


def write_picture(pic: Picture, path: str | Path, overwrite: bool = False) -> Path:
    """Write atomically in the format of ``path``'s suffix, keeping alpha, 16 bit and ICC profile.

    Raises:
        ValueError: the format cannot hold the picture (alpha in JPEG, 16 bit outside PNG/TIFF).
        FileExistsError: ``path`` exists and not ``overwrite``.
    """
    path, suffix = Path(path), Path(path).suffix.lower()
    if pic.alpha is not None and suffix not in ALPHA_SUFFIXES:
        raise ValueError(f"{path}: {suffix} cannot keep the alpha channel; use one of {ALPHA_SUFFIXES}")
    if pic.max_value > 255 and suffix not in DEEP_SUFFIXES:
        raise ValueError(f"{path}: {suffix} cannot hold 16 bit; use one of {DEEP_SUFFIXES}")
    if pic.max_value > 255 and (pic.pixels.shape[2] == 3 or pic.alpha is not None):
        arr = picture_to_array(pic)  # (H, W, 2|3|4) uint16; Pillow cannot hold it
        return write_atomic(lambda tmp: write_deep(arr, tmp, pic.icc_profile), path, overwrite)
    kwargs: dict = {"icc_profile": pic.icc_profile} if pic.icc_profile else {}
    if suffix in (".jpg", ".jpeg"):
        kwargs.update(quality=95, subsampling=0)
    elif suffix == ".webp":
        kwargs.update(lossless=True)
    return save_atomic(picture_to_pil(pic), path, overwrite, **kwargs)
