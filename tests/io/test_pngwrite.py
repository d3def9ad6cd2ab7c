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
@pytest.mark.parametrize("filters", ["adaptive", "sub"])
def test_round_trip(monkeypatch, channels, alpha, deep, hw, filters):
    monkeypatch.setattr(pngwrite, "BAND_BYTES", 64)  # many bands, some of one row
    rng = np.random.default_rng(channels + 2 * alpha + 4 * deep)
    top = 65535 if deep else 255
    dtype = np.uint16 if deep else np.uint8
    pixels = rng.integers(0, top + 1, (*hw, channels)).astype(dtype)
    a = rng.integers(0, top + 1, hw).astype(dtype) if alpha else None
    buf = io.BytesIO()
    write_png(buf, pixels, a, icc=b"profile", text={"Software": "srnet", "Note": "日本"},
              filters=filters)
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


def idat_filter_types(data: bytes, height: int) -> set[int]:
    """The filter type byte of every row of a PNG's image data."""
    pos, idat = 8, b""
    while pos < len(data):
        n = int.from_bytes(data[pos:pos + 4], "big")
        if data[pos + 4:pos + 8] == b"IDAT":
            idat += data[pos + 8:pos + 8 + n]
        pos += 12 + n
    raw = zlib.decompress(idat)
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


def test_unknown_filters_named():
    with pytest.raises(ValueError, match="filters='paeth'"):
        write_png(io.BytesIO(), smooth_image(8, 8), filters="paeth")
