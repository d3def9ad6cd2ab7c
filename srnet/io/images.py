"""Reading and writing images, and converting them to and from tensors.

Arrays are numpy ``uint8`` (H, W, 3) RGB unless stated; tensors are float (N, 3, H, W) RGB in
[0, 1]. JPEG EXIF orientation is applied on reading so images come out upright.

For inference on users' own files, :class:`Picture` (:mod:`srnet.io.pictures`, re-exported here)
keeps what a file holds: grey or RGB, an alpha channel, 8 or 16 bits or 32-bit float (read with
:func:`read_picture`, written with :func:`write_picture`, which can also embed text such as
provenance). 16-bit colour / alpha PNG and TIFF and float TIFF, which Pillow cannot decode, go
through :mod:`srnet.io.images16` (pypng and tifffile); everything else through Pillow.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, PngImagePlugin
from torch import Tensor

from srnet.io.files import write_atomic
from srnet.io.images16 import deep_format, deep_size, read_deep, write_deep
from srnet.io.pictures import (
    Picture,
    orient,
    picture_from_array,
    picture_from_pil,
    picture_to_array,
    picture_to_pil,
)
from srnet.io.pngwrite import write_png

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm")
ALPHA_SUFFIXES = (".png", ".tif", ".tiff", ".webp")  # formats that keep an alpha channel
DEEP_SUFFIXES = (".png", ".tif", ".tiff")  # formats written at 16 bit
FLOAT_SUFFIXES = (".tif", ".tiff")  # formats written as 32-bit float
DECODE_SUFFIXES = (".png", ".jpg", ".jpeg")  # read_rgb decodes these with torchvision


def is_image_file(path: str | Path) -> bool:
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def read_rgb(path: str | Path) -> np.ndarray:
    """Decode an image file to uint8 (H, W, 3) RGB, upright. Raises ``OSError`` naming the file.

    8-bit PNG and JPEG (the training and benchmark sets) go through ``torchvision.io.decode_image``
    (the same pixels as Pillow, faster); anything it does not decode to 8-bit RGB, through Pillow.
    """
    path = Path(path)
    if path.suffix.lower() in DECODE_SUFFIXES:
        from torchvision.io import ImageReadMode, decode_image  # on first use: a slow import

        try:
            img = decode_image(str(path), mode=ImageReadMode.RGB, apply_exif_orientation=True)
            if img.dtype == torch.uint8:  # (3, H, W); 16-bit PNG: Pillow's conversion below
                return img.permute(1, 2, 0).numpy().copy()
        except (RuntimeError, ValueError):
            pass  # corrupt or unusual (CMYK, ...): Pillow decodes it or says why not
    try:
        with Image.open(path) as im:
            im = ImageOps.exif_transpose(im)
            return np.asarray(im.convert("RGB"), dtype=np.uint8).copy()
    except (OSError, ValueError, SyntaxError) as e:  # PIL raises all three for bad files
        raise OSError(f"cannot read image {path}: {e}") from e


def to_uint8(t: Tensor) -> np.ndarray:
    """float (1, C, H, W) or (C, H, W) in [0, 1] -> uint8 (H, W, C), rounded."""
    if t.ndim == 4:
        t = t[0]
    return t.detach().float().clamp(0, 1).mul(255).round().byte().permute(1, 2, 0).cpu().numpy()


def pil_format(path: str | Path) -> str:
    """Pillow's format name for ``path``'s suffix (``PNG``, ``JPEG``, ...); ``ValueError`` if none."""
    Image.init()
    fmt = Image.registered_extensions().get(Path(path).suffix.lower())
    if fmt is None:
        raise ValueError(f"{path}: {Path(path).suffix or 'no suffix'} is not an image format "
                         f"Pillow writes (e.g. {', '.join(IMAGE_SUFFIXES)})")
    return fmt


def save_atomic(img: Image.Image, path: str | Path, overwrite: bool = False, **save_kwargs) -> Path:
    """Write ``img`` to ``path`` through a temporary file (:func:`srnet.io.files.write_atomic`),
    so a crash never leaves a half-written image; the format is ``path``'s suffix's unless
    ``format=`` is given. Refuses to replace an existing file unless ``overwrite``."""
    save_kwargs.setdefault("format", pil_format(path))  # the temporary name has no suffix
    return write_atomic(lambda tmp: img.save(tmp, **save_kwargs), path, overwrite)


def check_pixels(path: str | Path, size: tuple[int, int], max_pixels: int | None) -> None:
    """Refuse an image of ``size`` (W, H) over ``max_pixels`` (None or 0: no limit), naming the
    setting (``infer.py max_pixels=``) that allows it."""
    w, h = size
    if max_pixels and w * h > max_pixels:
        raise OSError(f"{path}: {w}x{h} = {w * h / 1e6:.1f} MP is more than max_pixels="
                      f"{max_pixels} (a guard against decompression bombs, small files that "
                      f"claim huge sizes); if you trust the file, pass max_pixels={w * h} or "
                      f"larger (max_pixels=0: no limit)")


def read_picture(path: str | Path, max_pixels: int | None = None) -> Picture:
    """Decode a file into a :class:`Picture`, upright (EXIF), keeping alpha, 16 bit and float.

    ``max_pixels``: refuse larger images before decoding them (:func:`check_pixels`); None
    leaves the check to Pillow's ``Image.MAX_IMAGE_PIXELS``.

    Raises:
        OSError: naming the file, for folders, empty, truncated, too large or non-image files.
    """
    path = Path(path)
    if path.is_dir():
        raise OSError(f"{path} is a folder, not an image")
    if path.stat().st_size == 0:
        raise OSError(f"{path} is empty (0 bytes)")
    try:
        fmt = deep_format(path)  # 16-bit colour / alpha PNG or TIFF, float TIFF
        if fmt is not None:
            check_pixels(path, deep_size(path, fmt), max_pixels)
            arr, icc, orientation = read_deep(path, fmt)  # (H, W, C), alpha last when C is even
            pic = picture_from_array(orient(arr, orientation), floats=True)
            pic.icc_profile = icc
            return pic
        with Image.open(path) as im:
            check_pixels(path, im.size, max_pixels)
            icc = im.info.get("icc_profile")
            up = ImageOps.exif_transpose(im)
            up.load()
            up.info.setdefault("icc_profile", icc)
            return picture_from_pil(up, str(path))
    except Exception as e:  # PIL raises OSError, ValueError, SyntaxError, zlib.error, ...
        if isinstance(e, OSError) and str(path) in str(e):
            raise
        raise OSError(f"cannot read image {path}: {e}") from e


def text_options(suffix: str, text: dict[str, str] | None) -> dict:
    """Pillow ``save`` options embedding ``text`` ({keyword: value}, e.g. ``Software``,
    ``Description``): PNG text chunks, TIFF tags, a JPEG / GIF comment; other formats: none."""
    if not text:
        return {}
    if suffix == ".png":
        info = PngImagePlugin.PngInfo()
        for key, value in text.items():
            info.add_text(key, value)  # tEXt, or iTXt when not Latin-1
        return {"pnginfo": info}
    if suffix in (".tif", ".tiff"):
        return {"tiffinfo": {270: text.get("Description", ""), 305: text.get("Software", "")}}
    if suffix in (".jpg", ".jpeg", ".gif"):
        return {"comment": "; ".join(text.values()).encode()}
    return {}


def write_picture(pic: Picture, path: str | Path, overwrite: bool = False,
                  text: dict[str, str] | None = None, png_level: int = 6,
                  jpeg_quality: int = 95, webp_quality: int | None = None,
                  png_filter: str = "adaptive", png_threads: int = 1) -> Path:
    """Write atomically in the format of ``path``'s suffix, keeping alpha, 16 bit, float and the
    ICC profile, and embedding ``text`` where the format has a place for it (:func:`text_options`).
    ``png_level``: zlib level 0-9 (1 is fast and a few % larger); ``png_filter``: "adaptive"
    (smallest) or "sub" (OpenCV's default, fastest: :mod:`srnet.io.pngwrite`), ``png_threads``
    threads deflating its bands; ``jpeg_quality``: 1-100
    (4:4:4 chroma); ``webp_quality``: 1-100, or None for lossless WebP.

    Raises:
        ValueError: the format cannot hold the picture (alpha in JPEG, 16 bit outside PNG/TIFF,
            float outside TIFF).
        FileExistsError: ``path`` exists and not ``overwrite``.
    """
    path, suffix = Path(path), Path(path).suffix.lower()
    if pic.alpha is not None and suffix not in ALPHA_SUFFIXES:
        raise ValueError(f"{path}: {suffix} cannot keep the alpha channel; use one of {ALPHA_SUFFIXES}")
    if pic.is_float and suffix not in FLOAT_SUFFIXES:
        raise ValueError(f"{path}: {suffix} cannot hold 32-bit float; use one of {FLOAT_SUFFIXES}")
    if pic.bits == 16 and suffix not in DEEP_SUFFIXES:
        raise ValueError(f"{path}: {suffix} cannot hold 16 bit; use one of {DEEP_SUFFIXES}")
    if suffix == ".png":  # band by band, no copy of the picture (srnet.io.pngwrite)
        def png(tmp: str) -> None:
            with open(tmp, "wb") as f:
                write_png(f, pic.pixels, pic.alpha, pic.icc_profile, text, png_level, png_filter,
                          png_threads)

        return write_atomic(png, path, overwrite)
    if pic.is_float or (pic.bits == 16 and (pic.pixels.shape[2] == 3 or pic.alpha is not None)):
        arr = picture_to_array(pic)  # Pillow cannot hold these
        return write_atomic(lambda tmp: write_deep(arr, tmp, pic.icc_profile, text, suffix),
                            path, overwrite)
    kwargs: dict = {"icc_profile": pic.icc_profile} if pic.icc_profile else {}
    if suffix in (".jpg", ".jpeg"):
        kwargs.update(quality=int(jpeg_quality), subsampling=0)
    elif suffix == ".webp" and webp_quality is None:
        kwargs.update(lossless=True)
    elif suffix == ".webp":
        kwargs.update(quality=int(webp_quality))
    kwargs.update(text_options(suffix, text))
    return save_atomic(picture_to_pil(pic), path, overwrite, **kwargs)
