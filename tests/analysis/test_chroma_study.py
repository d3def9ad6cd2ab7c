"""scripts/chroma_study.py: the chroma score it reports moves the way JPEG and blur should."""

from __future__ import annotations

import numpy as np
from helpers import load_script
from PIL import Image


def test_chroma_psnr_falls_with_jpeg_and_with_blur_of_clean_chroma() -> None:
    study = load_script("chroma_study")
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:96, 0:128]
    rgb = np.stack([128 + 100 * np.sin(xx / 5), 128 + 100 * np.cos(yy / 7),
                    128 + 60 * np.sin((xx + yy) / 9)], -1) + rng.normal(0, 4, (96, 128, 3))
    hr = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))
    clean = study.chroma_psnr(hr, 2, None, 0.0)
    assert study.chroma_psnr(hr, 2, 50, 0.0) < clean  # JPEG costs chroma
    assert study.chroma_psnr(hr, 2, None, 1.5) < clean  # smoothing clean chroma costs too
    assert np.isfinite(clean) and clean > 25
