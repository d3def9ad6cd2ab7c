"""scripts/jpeg_pixels.py: its rows count what quality_from_pixels finds and score both choices."""

from __future__ import annotations

import sys

import numpy as np
from helpers import ROOT, load_script, smooth_image
from PIL import Image


def test_rows_count_the_finds_and_score_clean_against_auto(tmp_path) -> None:
    sys.path.insert(0, str(ROOT / "scripts"))  # the script imports chroma_study, as scripts do
    study = load_script("jpeg_pixels")
    for i in range(2):
        Image.fromarray(smooth_image(192, 256, seed=i)).save(tmp_path / f"{i}.png")
    calls = []

    class Fake:  # an upscaler that says which strength was asked for
        def __init__(self, t):
            self.t = t

        def upscale(self, lr):
            calls.append(self.t)
            return np.asarray(Image.fromarray(lr).resize((lr.shape[1] * 2, lr.shape[0] * 2)))

    models = {t: Fake(t) for t in (0.0, 0.25, 0.5, 0.75, 1.0)}
    rows = study.study(str(tmp_path), 2, [None, 50], models)
    (lossless, q50) = rows
    assert lossless[1:4] == ["lossless", "0/2", "-"] and lossless[-1] == "+0.00"
    assert q50[1:4] == [50, "2/2", "2/2"]
    assert calls.count(1.0) == 2  # quality 50 found: the real weights, once per image
