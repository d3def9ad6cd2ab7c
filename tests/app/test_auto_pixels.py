"""``infer.py`` with its default ``weights=auto`` on a folder: a PNG saved from a JPEG gets the
real-photo weights (its pixels give the quality), a clean PNG the clean ones, in the pipeline
(the look at the pixels happens in the reader thread) as one file at a time."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from helpers import compose_infer, smooth_image
from PIL import Image

from srnet.app.app import infer
from srnet.infer.models import load_model


@pytest.mark.parametrize("batch", [1, 4])
def test_a_png_of_a_jpeg_gets_the_real_weights(tmp_path, batch, capsys) -> None:
    photo = smooth_image(64, 80, seed=5)
    buf = io.BytesIO()
    Image.fromarray(photo).save(buf, "JPEG", quality=45)
    screenshot = np.asarray(Image.open(buf))
    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(screenshot).save(src / "a_screenshot.png")
    Image.fromarray(photo).save(src / "b_clean.png")
    cfg = compose_infer(tmp_path, f"input={src}", f"output={tmp_path / 'out'}", "scale=2",
                        "device=cpu", "progress=false", f"batch={batch}")
    assert infer(cfg) == 0
    out = {p.stem: np.asarray(Image.open(p)) for p in (tmp_path / "out").iterdir()}
    assert np.array_equal(out["a_screenshot"], load_model("x2-real", "cpu").upscale(screenshot))
    assert np.array_equal(out["b_clean"], load_model("x2", "cpu").upscale(photo))
    lines = capsys.readouterr().out
    found = re.search(r"a_screenshot\.png .*weights x2-real for JPEG quality (\d+)\)", lines)
    assert found and abs(int(found.group(1)) - 45) <= 2
    assert "b_clean.png (80x64 RGB 8-bit) -> " in lines and "weights x2)" in lines
