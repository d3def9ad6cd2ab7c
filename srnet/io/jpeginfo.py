"""The quality a JPEG file was saved at, read back from its quantisation tables.

libjpeg (and every encoder that follows the IJG convention: Pillow, OpenCV, most cameras and
phones, web tools) scales the standard tables of the JPEG specification (Annex K) by the quality
q: ``scale = 5000 / q`` below 50, ``200 - 2 q`` from 50 on, each entry ``(base * scale + 50) //
100`` clipped to [1, 255]. :func:`jpeg_quality` finds the q whose luma table is nearest to the
file's (exact for IJG files; the nearest equivalent for encoders with their own tables).

A JPEG decoded and saved again losslessly (a PNG screenshot of a web photo, a frame grab) has no
tables, but its pixels keep them: in the 8x8 blocks of the original grid, the DCT coefficients of
the luma are multiples of the table's steps (up to 8-bit rounding). :func:`quality_from_pixels`
finds the grid (the offset whose blocks keep the least high-frequency energy; none when no offset
stands out) and the IJG quality whose steps the coefficients fit best (the mean of
cos(2 pi c / step) over the coefficients away from zero: near 1 when they sit on the steps, near
0 for pixels that never were a JPEG).
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


# An orthonormal 8x8 DCT-II: JPEG's forward DCT, so coefficients and table steps share units.
_N = np.arange(8)
DCT = np.sqrt(2 / 8) * np.cos(np.pi * (2 * _N[None] + 1) * _N[:, None] / 16)
DCT[0] /= np.sqrt(2)
PIXEL_QUALITIES = np.arange(20, 93)  # above ~92 the steps are 1-2 and the fit cannot tell
FIT_MIN = 0.3  # fit of a JPEG at quality <= 90: 0.6-0.99; of lossless photos: -0.05-0.01
SIDE = 192  # the centre crop fitted (pixels): enough blocks, a bounded cost
GRID_SIDE = 128  # the part of it searched for the grid
# A grid's offset keeps at most this share of the median offset's high frequencies (training
# photos: 0.15-0.79 for JPEGs of quality 30-95, 0.93-0.99 for lossless ones); above it the
# pixels are taken as never compressed without fitting any table.
GRID_CONTRAST = 0.87
BLOCKS = 48  # blocks fitted, the most detailed of the crop: 3,072 coefficients
STEPS = TABLES[PIXEL_QUALITIES - 1].astype(np.float32)  # (qualities, 64)


def _blocks(y: np.ndarray, oy: int, ox: int) -> np.ndarray:
    """DCT coefficients of the 8x8 blocks of ``y`` from row ``oy``, column ``ox``."""
    y = y[oy:, ox:]
    h, w = y.shape[0] // 8 * 8, y.shape[1] // 8 * 8
    b = y[:h, :w].reshape(h // 8, 8, w // 8, 8).transpose(0, 2, 1, 3).reshape(-1, 8, 8)
    return DCT @ (b - 128) @ DCT.T  # (blocks, 8, 8)


def _grid(y: np.ndarray) -> tuple[int, int] | None:
    """Where the 8x8 blocks of a decoded JPEG likely start (row, column offset in 0..7): the
    offset whose blocks keep the least of the high frequencies (the upper half of the DCT on each
    axis, which JPEG quantises hardest); None when no offset stands out. Every block position is
    computed at once, the transform being separable."""
    hi = DCT[4:].astype(np.float32)  # (4, 8)
    y = y[:GRID_SIDE + 7, :GRID_SIDE + 7].astype(np.float32)
    rows = np.lib.stride_tricks.sliding_window_view(y, 8, axis=1) @ hi.T  # (H, W-7, 4)
    win = np.lib.stride_tricks.sliding_window_view(rows, 8, axis=0)  # (H-7, W-7, 4, 8)
    coef = np.abs(np.einsum("hwck,rk->hwrc", win, hi))  # (H-7, W-7, 4, 4)
    # clipped: a block edge inside the window counts, the texture of busy areas not much more
    rest = np.minimum(coef, 2, out=coef).sum(axis=(2, 3))  # (H-7, W-7)
    h, w = rest.shape[0] // 8 * 8, rest.shape[1] // 8 * 8
    per_offset = rest[:h, :w].reshape(h // 8, 8, w // 8, 8).mean(axis=(0, 2))  # (8, 8)
    if per_offset.min() > GRID_CONTRAST * np.median(per_offset):
        return None  # no offset stands out: no grid
    oy, ox = divmod(int(np.argmin(per_offset)), 8)
    return oy, ox


def quality_from_pixels(rgb: np.ndarray) -> int | None:
    """The IJG quality (20-92) of a JPEG these 8-bit pixels were decoded from, or None when they
    show no JPEG grid (never compressed, compressed above ~92, or resized since).

    Args:
        rgb: (H, W, C) or (H, W) uint8, C = 3 or 4 (the luma is JFIF's: BT.601, full
            range) or 1 or 2 (grey).
    """
    if rgb.dtype != np.uint8 or min(rgb.shape[:2]) < 24:
        return None
    h, w = rgb.shape[:2]
    top, left = max(0, (h - SIDE) // 2) // 8 * 8, max(0, (w - SIDE) // 2) // 8 * 8
    crop = rgb[top:top + SIDE + 8, left:left + SIDE + 8]  # whole blocks at every offset
    if crop.ndim == 3 and crop.shape[2] >= 3:
        y = crop[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    else:  # grey (with or without alpha)
        y = (crop if crop.ndim == 2 else crop[..., 0]).astype(np.float64)
    grid = _grid(y)
    if grid is None:
        return None

    def fit(oy: int, ox: int) -> np.ndarray:  # (qualities,): the table fit at this offset
        c = _blocks(y, oy, ox).reshape(-1, 64)
        c = c[np.argsort(np.abs(c[:, 1:]).sum(1))[-BLOCKS:]]  # (blocks, 64): the most detailed
        return _fits(c.astype(np.float32))

    fits = [fit(*grid)]
    if fits[0].max() < 2 * FIT_MIN:  # unclear: one axis may be off (a picture smooth along
        oy, ox = grid  # it); the fit judges every offset that keeps the other axis
        fits += [fit(oy, x) for x in range(8) if x != ox] + [fit(r, ox) for r in range(8) if r != oy]
    best = np.max(fits, axis=0)
    q = int(np.argmax(best))
    return int(PIXEL_QUALITIES[q]) if best[q] >= FIT_MIN else None


def _fits(c: np.ndarray) -> np.ndarray:
    """How well the coefficients ``c`` (blocks, 64) sit on the steps of each of the
    ``PIXEL_QUALITIES``: the mean of cos(2 pi c / step) away from the zero bin (which fits every
    step); 0 where fewer than 50 coefficients are away from it."""
    c = c[None] / STEPS[:, None]  # (qualities, blocks, 64): in steps of each table
    away = np.abs(c) > 0.5
    count = away.sum(axis=(1, 2))
    fits = np.where(away, np.cos(2 * np.pi * c), 0).sum(axis=(1, 2)) / np.maximum(count, 1)
    return np.where(count < 50, 0.0, fits)


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
