"""What a user's image file holds, in memory: :class:`Picture` and its conversions.

A picture is grey or RGB, with or without alpha, at 8 or 16 bits (integers) or 32-bit float
(float TIFF: values as stored, not clamped to [0, 1]). Files are read and written by
:mod:`srnet.io.images`; these helpers only convert between pictures, PIL images and arrays.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from torch import Tensor

log = logging.getLogger("srnet.io.images")
DTYPES = (np.uint8, np.uint16, np.float32)


def to_tensor(img: np.ndarray) -> Tensor:
    """uint8 (H, W, C) -> float (1, C, H, W) in [0, 1] (values / 255: callers rescale 16 bit)."""
    if img.ndim == 2:
        img = img[:, :, None]
    return torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1)[None].float().div(255)


@dataclass
class Picture:
    """A decoded image as the user's file holds it, upright.

    Attributes:
        pixels: (H, W, C) ``uint8``, ``uint16`` or ``float32``; C = 1 (grey) or 3 (RGB).
        alpha: (H, W) of the same dtype, or None.
        icc_profile: the embedded colour profile, kept when writing.
    """

    pixels: np.ndarray
    alpha: np.ndarray | None = None
    icc_profile: bytes | None = None

    def __post_init__(self) -> None:
        if self.pixels.dtype not in DTYPES:
            raise ValueError(f"pixels must be uint8, uint16 or float32, got {self.pixels.dtype}")
        if self.pixels.ndim == 2:
            self.pixels = self.pixels[:, :, None]
        if self.pixels.ndim != 3 or self.pixels.shape[2] not in (1, 3):
            raise ValueError(f"pixels must be (H, W, 1) or (H, W, 3), got {self.pixels.shape}")
        if self.alpha is not None and self.alpha.shape != self.pixels.shape[:2]:
            raise ValueError(f"alpha {self.alpha.shape} does not match pixels {self.pixels.shape}")

    @property
    def is_float(self) -> bool:
        return self.pixels.dtype == np.float32

    @property
    def bits(self) -> int:
        """8, 16 or 32 (float)."""
        return {np.dtype(np.uint8): 8, np.dtype(np.uint16): 16}.get(self.pixels.dtype, 32)

    @property
    def max_value(self) -> int:
        """255 or 65535; a float picture has no integer levels (raises ``ValueError``)."""
        if self.is_float:
            raise ValueError("a 32-bit float picture has no integer levels (uint8 or uint16): "
                             "upscale it with srnet.infer.floats.upscale_float")
        return 65535 if self.pixels.dtype == np.uint16 else 255

    def describe(self) -> str:
        """E.g. ``'640x480 RGB+alpha 16-bit'`` or ``'64x48 grey 32-bit float'``."""
        h, w, c = self.pixels.shape
        kind = ("RGB" if c == 3 else "grey") + ("+alpha" if self.alpha is not None else "")
        return f"{w}x{h} {kind} {self.bits}-bit" + (" float" if self.is_float else "")

    def color_tensor(self) -> Tensor:
        """(1, C, H, W) float: integers normalised to [0, 1], float values as they are."""
        if self.is_float:
            return torch.from_numpy(np.ascontiguousarray(self.pixels)).permute(2, 0, 1)[None]
        return to_tensor(self.pixels) * (255.0 / self.max_value)

    def alpha_tensor(self) -> Tensor | None:
        """(1, 1, H, W) float (integers in [0, 1]), or None."""
        if self.alpha is None:
            return None
        return Picture(self.alpha).color_tensor()


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
                         f"RGBA, LA, palette, CMYK are; 32-bit float as TIFF files)")
    arr = np.asarray(im).copy()
    if im.mode in ("LA", "RGBA"):
        return Picture(arr[..., :-1], arr[..., -1], icc)
    return Picture(arr, None, icc)


def picture_from_array(arr: np.ndarray, floats: bool = False) -> Picture:
    """uint8/uint16 (H, W), (H, W, 1|3) or with alpha (H, W, 2|4) -> :class:`Picture`; float32
    too with ``floats=True`` (a float picture is upscaled by :mod:`srnet.infer.floats` only)."""
    if arr.dtype not in DTYPES[:2] and not (floats and arr.dtype == np.float32):
        raise ValueError(f"expected a uint8 or uint16 array, got {arr.dtype} (for float tensors "
                         f"in [0, 1] use upscale_tensor; float images: srnet.infer.floats)")
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
    if pic.bits > 8:
        if pic.bits == 16 and pic.pixels.shape[2] == 1 and pic.alpha is None:
            return Image.fromarray(pic.pixels[:, :, 0])  # mode I;16
        raise ValueError(f"Pillow cannot hold {pic.describe()}; use a numpy array instead")
    arr = picture_to_array(pic)
    return Image.fromarray(arr[:, :, 0] if arr.shape[2] == 1 else arr)


# numpy equivalents of ImageOps.exif_transpose, by EXIF orientation tag (0x0112)
_ORIENT = {2: lambda a: a[:, ::-1], 3: lambda a: a[::-1, ::-1], 4: lambda a: a[::-1],
           5: lambda a: a.swapaxes(0, 1), 6: lambda a: np.rot90(a, -1),
           7: lambda a: a[::-1, ::-1].swapaxes(0, 1), 8: lambda a: np.rot90(a, 1)}


def orient(arr: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation to an (H, W, ...) array so it comes out upright."""
    return np.ascontiguousarray(_ORIENT.get(orientation, lambda a: a)(arr))
