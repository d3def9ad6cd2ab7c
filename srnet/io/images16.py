"""Images Pillow cannot decode: 16-bit colour (RGB, RGBA, grey + alpha) and float TIFF.

PNG is read with ``pypng`` (written by :mod:`srnet.io.pngwrite`) and TIFF with ``tifffile`` (pure Python / numpy, no
OpenCV). 16-bit grey without alpha is left to Pillow (mode ``I;16``). Arrays here are
(H, W, C) ``uint16`` with C = 2 (grey + alpha), 3 (RGB) or 4 (RGBA), alpha last, values exact;
or ``float32`` (H, W, 1..4) for floating-point TIFF (16/32/64-bit samples are read as float32,
values as stored: nothing is clamped). Text (``{"Software": ..., "Description": ...}``) goes into
PNG text chunks and the TIFF Software / ImageDescription tags. Used by :mod:`srnet.io.images`
(``read_picture`` / ``write_picture``); it has no command line.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import png
import tifffile
from PIL import Image

from srnet.io.pngwrite import write_png

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TIFF_MAGICS = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")  # classic and BigTIFF
_ICC_TAG, _ORIENTATION_TAG = 34675, 274  # TIFF tags (the orientation values are EXIF's)


def deep_format(path: str | Path) -> str | None:
    """``'png'`` or ``'tiff'`` when ``path`` holds a 16-bit image with colour or alpha, or a
    floating-point TIFF (any channels); else None.

    Only the header is read; anything that is not such a file (including a broken one) gives
    None and is left to Pillow, which reports the error.
    """
    with open(path, "rb") as f:
        head = f.read(26)
    if head[:8] == PNG_SIGNATURE and head[12:16] == b"IHDR" and len(head) == 26:
        return "png" if head[24] == 16 and head[25] in (2, 4, 6) else None  # RGB, LA, RGBA
    if head[:4] in TIFF_MAGICS:
        try:
            with tifffile.TiffFile(path) as tf:
                page = tf.pages.first
                deep = (page.bitspersample == 16 and page.samplesperpixel > 1
                        and page.sampleformat == 1) or page.sampleformat == 3  # uint / IEEE float
        except Exception:  # tifffile raises many kinds for broken files
            return None
        return "tiff" if deep else None
    return None


def deep_size(path: str | Path, fmt: str) -> tuple[int, int]:
    """(width, height) of a file :func:`deep_format` named, from its header only."""
    if fmt == "png":
        with open(path, "rb") as f:
            head = f.read(24)
        return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    with tifffile.TiffFile(path) as tf:
        page = tf.pages.first
        return int(page.imagewidth), int(page.imagelength)


def read_deep(path: str | Path, fmt: str) -> tuple[np.ndarray, bytes | None, int]:
    """Decode a file :func:`deep_format` named.

    Returns:
        (array (H, W, C) uint16 or float32 with alpha last, ICC profile or None, EXIF
        orientation 1..8)
        -- the array is as stored, not yet turned upright.

    Raises:
        ValueError: naming the file, for a layout or compression that cannot be decoded.
    """
    return _read_png(Path(path)) if fmt == "png" else _read_tiff(Path(path))


def write_deep(arr: np.ndarray, path: str | Path, icc: bytes | None = None,
               text: dict[str, str] | None = None, suffix: str | None = None) -> None:
    """Write (H, W, 2|3|4) uint16 (alpha last when C is 2 or 4) as a 16-bit PNG or TIFF, by
    ``suffix`` (default: ``path``'s), or (H, W, 1..4) float32 as a float TIFF, embedding ``icc``
    and ``text``; grey + alpha becomes RGBA in TIFF. Writes ``path`` directly: callers wrap it in
    :func:`srnet.io.files.write_atomic` (whose temporary name has no suffix: pass ``suffix``)."""
    path, text = Path(path), text or {}
    suffix = (suffix or path.suffix).lower()
    floats = arr.dtype == np.float32 and arr.ndim == 3 and arr.shape[2] in (1, 2, 3, 4)
    if not floats and (arr.dtype != np.uint16 or arr.ndim != 3 or arr.shape[2] not in (2, 3, 4)):
        raise ValueError(f"{path}: expected (H, W, 2|3|4) uint16 or (H, W, 1..4) float32, got "
                         f"{arr.dtype} {arr.shape}")
    if suffix == ".png" and not floats:
        with open(path, "wb") as f:  # alpha last: split off for the band writer
            c = arr.shape[2]
            write_png(f, arr[:, :, :c - (c % 2 == 0)], arr[:, :, -1] if c % 2 == 0 else None,
                      icc, text)
    elif suffix in (".tif", ".tiff"):
        if arr.shape[2] == 2:  # grey + alpha TIFF opens in neither Pillow nor OpenCV: as RGBA
            arr = np.concatenate([np.repeat(arr[:, :, :1], 3, axis=2), arr[:, :, 1:]], axis=2)
        alpha, grey = arr.shape[2] == 4, arr.shape[2] == 1
        tifffile.imwrite(path, arr[:, :, 0] if grey else arr,
                         photometric="rgb" if arr.shape[2] >= 3 else "minisblack",
                         planarconfig=None if grey else "contig",
                         extrasamples=["unassalpha"] if alpha else None,
                         iccprofile=icc, compression="zlib", metadata=None,
                         description=text.get("Description"), software=text.get("Software", ""))
    else:
        raise ValueError(f"{path}: 16-bit colour is written as .png, .tif or .tiff only, "
                         f"float as .tif or .tiff")


def _read_png(path: Path) -> tuple[np.ndarray, bytes | None, int]:
    data = path.read_bytes()
    icc, orientation = None, 1
    for tag, body in png.Reader(bytes=data).chunks():  # pypng skips these two chunks
        if tag == b"iCCP":  # name, NUL, compression method, zlib data
            icc = zlib.decompress(body[body.index(b"\0") + 2:])
        elif tag == b"eXIf":
            exif = Image.Exif()
            exif.load(body)
            orientation = int(exif.get(0x0112, 1))
    width, height, rows, info = png.Reader(bytes=data).read()  # exact values (sBIT not applied)
    arr = np.stack([np.frombuffer(row, np.uint16) for row in rows]).reshape(
        height, width, info["planes"])  # rows are native-endian array('H')
    if "transparent" in info and not info["alpha"]:  # tRNS: one fully transparent colour
        key = np.asarray(info["transparent"], np.uint16).reshape(-1)
        alpha = np.where((arr == key).all(axis=2), 0, 65535).astype(np.uint16)
        arr = np.concatenate([arr, alpha[:, :, None]], axis=2)
    return arr, icc, orientation


def _read_tiff(path: Path) -> tuple[np.ndarray, bytes | None, int]:
    with tifffile.TiffFile(path) as tf:
        page = tf.pages.first
        colour = {1: 1, 2: 3}.get(int(page.photometric))  # MINISBLACK, RGB
        if colour is None:
            kind = "float" if page.sampleformat == 3 else "16-bit"
            raise ValueError(f"{path}: {kind} TIFF with photometric {page.photometric.name} is "
                             f"not supported (MINISBLACK grey and RGB are)")
        try:
            arr = page.asarray()
        except ValueError as e:  # e.g. "<COMPRESSION.LZW: 5> requires the 'imagecodecs' package"
            raise ValueError(f"{path}: cannot decode {page.compression.name} compression ({e}); "
                             f"pip install imagecodecs, or save it uncompressed or with "
                             f"deflate/zip") from e
        tags = page.tags
        icc = bytes(tags[_ICC_TAG].value) if _ICC_TAG in tags else None
        orientation = int(tags[_ORIENTATION_TAG].value) if _ORIENTATION_TAG in tags else 1
        extras = [int(e) for e in page.extrasamples]
        planar = int(page.planarconfig) == 2
        floats = page.sampleformat == 3
    if floats:
        arr = arr.astype(np.float32)
    if planar and arr.ndim == 3:
        arr = np.moveaxis(arr, 0, -1)  # (S, H, W) -> (H, W, S)
    arr = arr.reshape(arr.shape[0], arr.shape[1], -1)
    pixels = arr[:, :, :colour]
    extras = extras or [2] * (arr.shape[2] - colour)  # no ExtraSamples tag (OpenCV): alpha
    if not extras or extras[0] not in (1, 2):  # no alpha (0 = unspecified extra: dropped)
        return np.ascontiguousarray(pixels), icc, orientation
    alpha = arr[:, :, colour]
    if extras[0] == 1 and floats:  # premultiplied -> straight, values unclamped
        with np.errstate(divide="ignore", invalid="ignore"):
            pixels = np.where(alpha[:, :, None] != 0, pixels / alpha[:, :, None], 0)
        pixels = pixels.astype(np.float32)
    elif extras[0] == 1:  # associated (premultiplied) alpha -> straight, as Pillow does for 8 bit
        a = alpha.astype(np.float64)[:, :, None]
        straight = np.where(a > 0, pixels * 65535.0 / np.maximum(a, 1), 0)
        pixels = np.clip(np.round(straight), 0, 65535).astype(np.uint16)
    return np.concatenate([pixels, alpha[:, :, None]], axis=2), icc, orientation
