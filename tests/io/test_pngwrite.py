"""PNG written band by band (srnet.io.pngwrite): every kind reads back exactly with Pillow and
pypng, with text and ICC profile, across many bands, about as small as Pillow's file."""

from __future__ import annotations

import io
import zlib

import numpy as np
import png
import pytest
from helpers import smooth_image
from PIL import Image

from srnet.io import pngwrite
from srnet.io.pngwrite import write_png


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("alpha", [False, True])
@pytest.mark.parametrize("deep", [False, True])
@pytest.mark.parametrize("hw", [(1, 1), (37, 23)])
@pytest.mark.parametrize("filters,threads", [("adaptive", 1), ("sub", 1), ("adaptive", 2),
                                             ("sub", 3)])
def test_round_trip(monkeypatch, channels, alpha, deep, hw, filters, threads):
    monkeypatch.setattr(pngwrite, "BAND_BYTES", 64)  # many bands, some of one row
    rng = np.random.default_rng(channels + 2 * alpha + 4 * deep)
    top = 65535 if deep else 255
    dtype = np.uint16 if deep else np.uint8
    pixels = rng.integers(0, top + 1, (*hw, channels)).astype(dtype)
    a = rng.integers(0, top + 1, hw).astype(dtype) if alpha else None
    buf = io.BytesIO()
    write_png(buf, pixels, a, icc=b"profile", text={"Software": "srnet", "Note": "日本"},
              filters=filters, threads=threads)
    width, height, rows, info = png.Reader(bytes=buf.getvalue()).read()
    got = np.vstack([np.asarray(r, dtype) for r in rows]).reshape(height, width, -1)
    want = pixels if a is None else np.concatenate([pixels, a[:, :, None]], axis=2)
    assert np.array_equal(got, want) and info["bitdepth"] == (16 if deep else 8)
    im = Image.open(io.BytesIO(buf.getvalue()))
    im.load()
    assert im.info["Software"] == "srnet" and im.info["Note"] == "日本"
    assert im.info["icc_profile"] == b"profile"


def test_as_small_as_pillows():
    img = smooth_image(200, 300)
    ours, pillow = io.BytesIO(), io.BytesIO()
    write_png(ours, img)
    Image.fromarray(img).save(pillow, format="PNG")
    assert np.array_equal(np.asarray(Image.open(ours)), img)
    assert len(ours.getvalue()) <= 1.1 * len(pillow.getvalue())


def idat_raw(data: bytes) -> bytes:
    """A PNG's image data inflated: the filtered rows."""
    pos, idat = 8, b""
    while pos < len(data):
        n = int.from_bytes(data[pos:pos + 4], "big")
        if data[pos + 4:pos + 8] == b"IDAT":
            idat += data[pos + 8:pos + 8 + n]
        pos += 12 + n
    return zlib.decompress(idat)


def idat_filter_types(data: bytes, height: int) -> set[int]:
    """The filter type byte of every row of a PNG's image data."""
    raw = idat_raw(data)
    line = len(raw) // height
    return {raw[y * line] for y in range(height)}


def test_sub_filters_every_row_and_adaptive_mixes():
    img = smooth_image(120, 90)
    sub, adaptive = io.BytesIO(), io.BytesIO()
    write_png(sub, img, compress_level=1, filters="sub")
    write_png(adaptive, img, compress_level=1)
    assert idat_filter_types(sub.getvalue(), 120) == {1}
    assert len(idat_filter_types(adaptive.getvalue(), 120)) > 1
    assert np.array_equal(np.asarray(Image.open(sub)), img)


@pytest.mark.parametrize("filters", ["adaptive", "sub"])
def test_parallel_bands_make_the_same_image_data(monkeypatch, filters):
    monkeypatch.setattr(pngwrite, "BAND_BYTES", 3000)  # 11 bands
    img = smooth_image(120, 90)
    one, two = io.BytesIO(), io.BytesIO()
    write_png(one, img, compress_level=1, filters=filters)
    write_png(two, img, compress_level=1, filters=filters, threads=2)
    assert one.getvalue() != two.getvalue()  # bands deflated apart ...
    raw = [idat_raw(b.getvalue()) for b in (one, two)]  # ... (zlib checks the Adler-32)
    assert raw[0] == raw[1]  # ... into the same filtered rows
    assert len(two.getvalue()) < 1.05 * len(one.getvalue())


def test_unknown_filters_named():
    with pytest.raises(ValueError, match="filters='paeth'"):
        write_png(io.BytesIO(), smooth_image(8, 8), filters="paeth")


@pytest.mark.parametrize("filters", ["adaptive", "sub"])
def test_plain_zlib_without_zlib_ng_gives_the_same_pixels(monkeypatch, filters):
    img = smooth_image(50, 70)
    outs = []
    for lib in (pngwrite.zlib_ng, None):
        monkeypatch.setattr(pngwrite, "zlib_ng", lib)
        buf = io.BytesIO()
        write_png(buf, img, compress_level=1, filters=filters, threads=2)
        outs.append(idat_raw(buf.getvalue()))
    assert outs[0] == outs[1]
