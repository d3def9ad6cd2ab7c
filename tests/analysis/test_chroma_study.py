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


def test_a_model_is_scored_through_its_output() -> None:
    study = load_script("chroma_study")
    yy, xx = np.mgrid[0:64, 0:80]
    rgb = np.stack([128 + 90 * np.sin(xx / 6), 128 + 90 * np.cos(yy / 5), 0 * xx + 128], -1)
    hr = Image.fromarray(rgb.astype(np.uint8))

    def bicubic(a: np.ndarray) -> np.ndarray:
        return np.asarray(Image.fromarray(a).resize((a.shape[1] * 2, a.shape[0] * 2),
                                                    Image.BICUBIC))

    good = study.model_psnr(bicubic, hr, 2, None)
    assert good > 40 and study.model_psnr(bicubic, hr, 2, 50) < good  # JPEG costs chroma
    flat = study.model_psnr(lambda a: np.full((a.shape[0] * 2, a.shape[1] * 2, 3), 128,
                                              np.uint8), hr, 2, None)
    assert flat < good - 10  # a model that loses the colour scores far lower
