"""quality_from_pixels: the quality of a JPEG read back from its decoded pixels alone."""

from __future__ import annotations

import io

import numpy as np
import pytest
from helpers import smooth_image
from PIL import Image

from srnet.io.jpeginfo import quality_from_pixels


def decoded(img: np.ndarray, quality: int, mode: str = "RGB") -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(img).convert(mode).save(buf, "JPEG", quality=quality)
    return np.asarray(Image.open(buf))


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    """Smooth structure with the fine texture of a photo (noise of a few grey levels)."""
    return smooth_image(120, 160, seed=3)


@pytest.mark.parametrize("quality", [30, 45, 60, 75, 90])
@pytest.mark.parametrize("offset", [(0, 0), (3, 5), (7, 1)])
def test_the_quality_and_the_grid_are_found_at_any_crop(photo, quality, offset) -> None:
    pixels = decoded(photo, quality)[offset[0]:, offset[1]:]  # the grid no longer at (0, 0)
    assert abs(quality_from_pixels(pixels) - quality) <= 2


def test_lossless_resized_and_near_lossless_pictures_show_none(photo) -> None:
    assert quality_from_pixels(photo) is None  # never a JPEG
    assert quality_from_pixels(decoded(photo, 97)) is None  # steps of 1-2: nothing to tell
    resized = np.asarray(Image.fromarray(decoded(photo, 50)).resize((120, 90), Image.BICUBIC))
    assert quality_from_pixels(resized) is None  # the grid is gone
    assert quality_from_pixels(photo[:20]) is None  # too small to tell
    assert quality_from_pixels(photo.astype(np.uint16) * 257) is None  # not 8-bit


def test_grey_and_alpha_pictures(photo) -> None:
    grey = decoded(photo, 60, "L")  # (H, W)
    assert abs(quality_from_pixels(grey) - 60) <= 2
    assert abs(quality_from_pixels(grey[..., None]) - 60) <= 2
    rgba = np.dstack([decoded(photo, 60), np.full(photo.shape[:2], 255, np.uint8)])
    assert abs(quality_from_pixels(rgba) - 60) <= 2
