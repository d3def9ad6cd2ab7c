"""PNG files written band by band from arrays, with no full-size copy of the image.

Pillow copies an array into its own image (4 bytes per RGB pixel) before encoding, and pypng
wants the rows as Python objects; here the rows are filtered a band at a time in numpy and fed
to one zlib stream, so a PNG of any size costs a few megabytes besides the array. Each row gets
the filter that gives the smallest sum of absolute (signed) filtered bytes, the heuristic of
libpng and Pillow (among Sub, Up, Average and Paeth: None is hardly ever the smallest), so files
are about as small as Pillow's at the same ``compress_level``, and written faster. ``filters=
"sub"`` gives every row the Sub filter and deflates with zlib's run-length strategy, OpenCV's
default: several times faster than the adaptive choice for files about 10 % larger (``benchmark.py
part=encode``). Grey, grey + alpha, RGB and RGBA at 8 or 16 bits; ICC profile (``iCCP``) and
text (``tEXt`` / ``iTXt``).
"""

from __future__ import annotations

import struct
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import islice
from typing import BinaryIO

import numpy as np

try:  # zlib-ng: the same deflate format as zlib, written 1.5-2x faster (benchmark.py part=encode)
    from zlib_ng import zlib_ng
except ImportError:  # a dependency, but PNG still works without it
    zlib_ng = None

SIGNATURE = b"\x89PNG\r\n\x1a\n"
COLOUR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> PNG colour type (grey, LA, RGB, RGBA)
BAND_BYTES = 1 << 20  # filtered bytes per band
IDAT_BYTES = 1 << 20  # compressed bytes per IDAT chunk


def chunk(f: BinaryIO, tag: bytes, body: bytes) -> None:
    f.write(struct.pack(">I", len(body)) + tag + body)
    f.write(struct.pack(">I", zlib.crc32(body, zlib.crc32(tag)) & 0xFFFFFFFF))


def text_chunk(key: str, value: str) -> tuple[bytes, bytes]:
    """tEXt when Latin-1 can hold it, else iTXt (UTF-8, uncompressed)."""
    try:
        return b"tEXt", key.encode("latin-1") + b"\0" + value.encode("latin-1")
    except UnicodeEncodeError:
        return b"iTXt", key.encode("latin-1") + b"\0\0\0\0\0" + value.encode()


def filter_rows(rows: np.ndarray, prev: np.ndarray, bpp: int) -> np.ndarray:
    """Rows (R, L) uint8 after row ``prev`` (L,) -> (R, 1 + L): each row's filter type (Sub,
    Up, Average or Paeth: the smallest sum of absolute signed bytes) and its filtered bytes."""
    r, n = rows.shape
    up = np.concatenate([prev[None], rows[:-1]])
    left = np.zeros_like(rows)
    left[:, bpp:] = rows[:, :-bpp]
    upleft = np.zeros_like(rows)
    upleft[:, bpp:] = up[:, :-bpp]
    cands = np.empty((4, r, n), np.uint8)  # types 1..4
    np.subtract(rows, left, out=cands[0])
    np.subtract(rows, up, out=cands[1])
    avg = left.astype(np.uint16)
    avg += up
    avg >>= 1
    np.subtract(rows, avg.astype(np.uint8), out=cands[2])
    a, b, c = (v.astype(np.int16) for v in (left, up, upleft))
    pa, pb, pc = np.abs(b - c), np.abs(a - c), np.abs(a + b - 2 * c)
    paeth = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, up, upleft))
    np.subtract(rows, paeth, out=cands[3])
    # |signed byte|: abs in int8 wraps -128 to -128, whose uint8 view is 128, as it should be
    scores = np.abs(cands.view(np.int8)).view(np.uint8).sum(axis=2, dtype=np.uint32)
    best = scores.argmin(axis=0)
    out = np.empty((r, n + 1), np.uint8)
    out[:, 0] = best + 1
    out[:, 1:] = cands[best, np.arange(r)]
    return out


def sub_rows(rows: np.ndarray, bpp: int) -> np.ndarray:
    """Rows (R, L) uint8 -> (R, 1 + L): filter type 1 (Sub: each byte minus the byte one pixel to
    its left) on every row."""
    r, n = rows.shape
    out = np.empty((r, n + 1), np.uint8)
    out[:, 0] = 1
    out[:, 1:bpp + 1] = rows[:, :bpp]
    np.subtract(rows[:, bpp:], rows[:, :-bpp], out=out[:, bpp + 1:])
    return out


FILTERS = ("adaptive", "sub")


def byte_rows(pixels: np.ndarray, alpha: np.ndarray | None, y0: int, y1: int) -> np.ndarray:
    """Rows ``y0:y1`` as PNG stores them: (R, L) uint8, alpha last, 16 bit big-endian."""
    band = pixels[y0:y1]
    if alpha is not None:
        band = np.concatenate([band, alpha[y0:y1, :, None]], axis=2)
    if band.dtype == np.uint16:
        band = band.astype(">u2")  # PNG stores big-endian samples
    return np.ascontiguousarray(band).view(np.uint8).reshape(len(band), -1)


def compressor(level: int, wbits: int, strategy: int):
    """A deflate compressor: zlib-ng's, except at level 1 with the default strategy, where zlib-ng
    switches to its "quick" mode (files ~35 % larger than zlib's level 1)."""
    lib = zlib if zlib_ng is None or (level == 1 and strategy == zlib.Z_DEFAULT_STRATEGY) else zlib_ng
    return lib.compressobj(level, zlib.DEFLATED, wbits, zlib.DEF_MEM_LEVEL, strategy)


def deflated(bands: Iterator[np.ndarray], level: int, strategy: int) -> Iterator[bytes]:
    """One zlib stream over the filtered bands, in order."""
    z = compressor(level, 15, strategy)
    for band in bands:
        yield z.compress(band)
    yield z.flush()


def deflated_parallel(make: Callable[[int], np.ndarray], n: int, level: int, strategy: int,
                      threads: int) -> Iterator[bytes]:
    """The same zlib stream from ``threads`` threads, as pigz makes it: band ``i`` (``make(i)``)
    deflated on its own and ended by a sync flush (byte-aligned, not final; the last one
    finished), one zlib header before them and the Adler-32 of all bands after. Bands cannot
    refer back across a border, which costs a few bytes per band."""
    def one(i: int) -> tuple[np.ndarray, bytes]:
        band = make(i)
        z = compressor(level, -15, strategy)
        return band, z.compress(band) + z.flush(zlib.Z_FINISH if i == n - 1 else zlib.Z_SYNC_FLUSH)

    yield b"\x78\x01"  # deflate, 32 KiB window; (0x7801 % 31 == 0)
    adler, todo = 1, iter(range(n))
    with ThreadPoolExecutor(threads, thread_name_prefix="srnet-png") as pool:
        window = deque(pool.submit(one, i) for i in islice(todo, 2 * threads))
        while window:
            band, data = window.popleft().result()
            window.extend(pool.submit(one, i) for i in islice(todo, 1))
            adler = zlib.adler32(band, adler)
            yield data
    yield struct.pack(">I", adler & 0xFFFFFFFF)


def write_png(f: BinaryIO, pixels: np.ndarray, alpha: np.ndarray | None = None,
              icc: bytes | None = None, text: dict[str, str] | None = None,
              compress_level: int = 6, filters: str = "adaptive", threads: int = 1) -> None:
    """Write pixels (H, W, 1|3) uint8 / uint16, plus ``alpha`` (H, W) of the same dtype, as a
    PNG to the open binary file ``f``; ``filters``: "adaptive" (smallest) or "sub" (fastest);
    ``threads`` > 1 filters and deflates bands in parallel (a picture written alone)."""
    if filters not in FILTERS:
        raise ValueError(f"PNG filters={filters!r}: expected one of {FILTERS}")
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    h, w, c = pixels.shape
    if pixels.dtype not in (np.uint8, np.uint16) or c not in (1, 3):
        raise ValueError(f"PNG takes (H, W, 1|3) uint8 / uint16, got {pixels.dtype} {pixels.shape}")
    channels = c + (alpha is not None)
    depth = 8 * pixels.dtype.itemsize
    f.write(SIGNATURE)
    chunk(f, b"IHDR", struct.pack(">IIBBBBB", w, h, depth, COLOUR_TYPES[channels], 0, 0, 0))
    if icc:  # before IDAT
        chunk(f, b"iCCP", b"ICC profile\0\0" + zlib.compress(icc))
    for key, value in (text or {}).items():
        chunk(f, *text_chunk(key, value))
    bpp, line = channels * depth // 8, w * channels * depth // 8
    rows_per_band = max(1, BAND_BYTES // max(line, 1))
    n = -(-h // rows_per_band)

    def band(i: int) -> np.ndarray:  # (rows, 1 + line) filtered
        y0 = i * rows_per_band
        rows = byte_rows(pixels, alpha, y0, min(h, y0 + rows_per_band))
        if filters == "sub":
            return sub_rows(rows, bpp)
        prev = byte_rows(pixels, alpha, y0 - 1, y0)[0] if y0 else np.zeros(line, np.uint8)
        return filter_rows(rows, prev, bpp)

    strategy = zlib.Z_RLE if filters == "sub" else zlib.Z_DEFAULT_STRATEGY
    parts = (deflated_parallel(band, n, compress_level, strategy, threads) if threads > 1 and n > 1
             else deflated(map(band, range(n)), compress_level, strategy))
    pending: list[bytes] = []
    for data in parts:
        pending.append(data)
        if sum(map(len, pending)) >= IDAT_BYTES:
            chunk(f, b"IDAT", b"".join(pending))
            pending = []
    chunk(f, b"IDAT", b"".join(pending))
    chunk(f, b"IEND", b"")
