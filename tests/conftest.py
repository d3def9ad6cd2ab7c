"""Shared pytest fixtures; plain helper functions live in helpers.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import SHARED, write_images


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    """A folder of 4 generated 96x120 RGB PNG images."""
    write_images(tmp_path / "images", 4)
    return tmp_path / "images"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/datasets, or skip the test when it is not there."""
    if not (SHARED / "benchmark").is_dir():
        pytest.skip(f"shared datasets not found at {SHARED}")
    return SHARED
