"""Provenance in outputs (issue 14): srnet version, model, weights and scale as PNG text, TIFF
Software / ImageDescription, a JPEG / GIF comment and a video comment tag; ``metadata=false``
writes none."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from helpers import compose_infer, make_video, smooth_image, tiny_weights
from PIL import Image

from srnet import __version__
from srnet.app.app import infer


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("prov")
    src = root / "in"
    src.mkdir()
    rgb = smooth_image(12, 16)
    Image.fromarray(rgb).save(src / "a.png")
    Image.fromarray(rgb).save(src / "b.jpg")
    Image.fromarray(rgb).save(src / "c.tif")
    tifffile.imwrite(src / "d.tif", rgb.astype(np.uint16) * 257, photometric="rgb")  # 16-bit
    ims = [Image.fromarray(smooth_image(12, 16, seed=i)).quantize(32) for i in range(2)]
    ims[0].save(src / "e.gif", save_all=True, append_images=ims[1:], duration=[40, 60])
    return src, tiny_weights(root / "tiny.pt")


def texts(folder: Path) -> dict[str, str]:
    """What each output says about its origin (empty string: nothing)."""
    out = {"a.png": Image.open(folder / "a.png").text.get("Description", ""),
           "b.jpg": Image.open(folder / "b.jpg").info.get("comment", b"").decode()}
    for name in ("c.tif", "d.tif"):
        with tifffile.TiffFile(folder / name) as tf:
            page = tf.pages.first
            out[name] = f"{page.software or ''} {page.description or ''}".strip()
    out["e.gif"] = Image.open(folder / "e.gif").info.get("comment", b"").decode()
    return out


def test_outputs_say_what_made_them_unless_metadata_false(tmp_path, inputs):
    src, weights = inputs
    base = (f"input={src}", f"ckpt_path={weights}", "progress=false")
    assert infer(compose_infer(tmp_path, *base, f"output={tmp_path / 'on'}")) == 0
    for name, text in texts(tmp_path / "on").items():
        assert f"srnet {__version__}" in text and "x2 FSRCNN on Y (d=8" in text, name
        assert "weights tiny.pt" in text and "from 16x12 to 32x24" in text, name
    assert Image.open(tmp_path / "on" / "a.png").text["Software"] == f"srnet {__version__}"
    assert infer(compose_infer(tmp_path, *base, f"output={tmp_path / 'off'}",
                               "metadata=false")) == 0
    assert all(text == "" for text in texts(tmp_path / "off").values())


@pytest.mark.parametrize("suffix", [".mkv", ".mp4"])
def test_video_comment_tag(tmp_path, inputs, suffix):
    av = pytest.importorskip("av")
    _, weights = inputs
    src = make_video(tmp_path / f"clip{suffix}", subtitles=False)
    for flag in ("true", "false"):
        out = tmp_path / flag
        assert infer(compose_infer(tmp_path, f"input={src}", f"output={out}", "progress=false",
                                   f"ckpt_path={weights}", f"metadata={flag}")) == 0
        with av.open(str(out / src.name)) as c:
            tags = {k.lower(): v for k, v in c.metadata.items()}
        assert ("srnet" in tags.get("comment", "")) == (flag == "true")
        if flag == "true":
            assert "from 64x48 to 128x96" in tags["comment"] and "weights tiny.pt" in tags["comment"]
