"""Shared test fixtures: Hydra composition, generated images, the shared data folder."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"
SHARED = Path(os.environ.get("SRNET_DATA", ROOT.parent / "shared" / "datasets"))


def compose_train(overrides: list[str], out_dir: Path, config_name: str = "train") -> DictConfig:
    """Compose ``configs/<config_name>.yaml`` as ``python train.py`` would, writing to ``out_dir``."""
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONFIGS), version_base="1.3"):
        cfg = compose(config_name, overrides=[f"hydra.run.dir={out_dir}", *overrides],
                      return_hydra_config=True)
    with open_dict(cfg):
        cfg.hydra.runtime.output_dir = str(out_dir)
        cfg.hydra.runtime.cwd = str(ROOT)
        cfg.hydra.job.num = 0
    HydraConfig.instance().set_config(cfg)
    return cfg


def smooth_image(h: int, w: int, seed: int = 0, channels: int = 3) -> np.ndarray:
    """A deterministic uint8 (H, W, C) image with smooth structure and some texture."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.zeros((h, w, channels))
    for c in range(channels):
        fx, fy, ph = rng.uniform(0.01, 0.08, 2).tolist() + [rng.uniform(0, 6.28)]
        img[..., c] = 0.5 + 0.3 * np.sin(fx * x + ph) * np.cos(fy * y) + 0.1 * np.sin(0.3 * x + 0.2 * y)
    img += rng.normal(0, 0.02, img.shape)
    return (img.clip(0, 1) * 255).round().astype(np.uint8)


def write_images(folder: Path, n: int, h: int = 96, w: int = 120, seed: int = 0,
                 suffix: str = ".png") -> list[Path]:
    """Write ``n`` generated RGB images into ``folder``; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        p = folder / f"img_{i:03d}{suffix}"
        Image.fromarray(smooth_image(h, w, seed + i)).save(p)
        paths.append(p)
    return paths


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
