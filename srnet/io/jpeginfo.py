"""The quality a JPEG file was saved at, read back from its quantisation tables.

libjpeg (and every encoder that follows the IJG convention: Pillow, OpenCV, most cameras and
phones, web tools) scales the standard tables of the JPEG specification (Annex K) by the quality
q: ``scale = 5000 / q`` below 50, ``200 - 2 q`` from 50 on, each entry ``(base * scale + 50) //
100`` clipped to [1, 255]. :func:`jpeg_quality` finds the q whose luma table is nearest to the
file's (exact for IJG files; the nearest equivalent for encoders with their own tables).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

# Annex K luminance table, in natural (row-major) order, as Pillow's ``quantization`` gives it.
LUMA = np.array([
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99])


def ijg_table(quality: int) -> np.ndarray:
    """The luma quantisation table libjpeg writes at ``quality`` (1-100)."""
    q = min(100, max(1, int(quality)))
    scale = 5000 // q if q < 50 else 200 - 2 * q
    return np.clip((LUMA * scale + 50) // 100, 1, 255)


TABLES = np.stack([ijg_table(q) for q in range(1, 101)])  # (100, 64)


def quality_of_table(table) -> int:
    """The IJG quality whose luma table is nearest (least squared log ratio) to ``table``."""
    t = np.asarray(list(table), dtype=np.float64)[:64]
    err = (np.log(TABLES) - np.log(np.maximum(t, 1))[None]) ** 2  # (100, 64)
    return int(np.argmin(err.sum(1))) + 1


def jpeg_quality(path: str | Path) -> int | None:
    """The quality a JPEG file was saved at (1-100), or None for a file that is not a JPEG."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            if im.format != "JPEG" or not getattr(im, "quantization", None):
                return None
            tables = im.quantization
    except OSError:
        return None
    return quality_of_table(tables[min(tables)])
