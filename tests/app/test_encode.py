"""Encoder settings of infer.py: png_level, jpeg_quality, webp_quality reach the files, and a bad
value is a usage error (exit 2) that names the key, before any work."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import compose_train
from PIL import Image

from srnet import cli
from srnet.io.checkpoints import save_weights
from srnet.nets.fsrcnn import FSRCNN


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    return save_weights(FSRCNN(scale=2, d=8, s=4, m=1), tmp_path_factory.mktemp("w") / "w.pt")


@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> Path:
    """A textured 96x80 picture (noise over a gradient), so that levels and qualities differ."""
    rng = np.random.default_rng(0)
    x = np.linspace(0, 200, 96)[None, :, None] + rng.normal(0, 20, (80, 96, 3))
    path = tmp_path_factory.mktemp("in") / "p.png"
    Image.fromarray(np.clip(x, 0, 255).astype(np.uint8)).save(path)
    return path


def infer(tmp_path: Path, *overrides: str) -> int:
    return cli.run_infer(compose_train(list(overrides), tmp_path / "hydra", config_name="infer"))


def test_png_level_changes_bytes_not_pixels(tmp_path, weights, photo):
    outs = {}
    for setting in ("png_level=0", "png_level=9", "png_filter=adaptive"):
        out = tmp_path / f"{setting.replace('=', '_')}.png"
        assert infer(tmp_path, f"input={photo}", f"output={out}", f"ckpt_path={weights}",
                     setting, "progress=false") == 0
        outs[setting] = out
    sizes = [p.stat().st_size for p in outs.values()]
    assert sizes[0] > 1.5 * sizes[1]  # level 0: stored, not deflated
    assert sizes[2] != sizes[1]  # the filter reaches the writer
    a, b, c = (np.asarray(Image.open(p)) for p in outs.values())
    assert np.array_equal(a, b) and np.array_equal(a, c)


@pytest.mark.parametrize("ext,key", [(".jpg", "jpeg_quality"), (".webp", "webp_quality")])
def test_lossy_quality_reaches_the_file(tmp_path, weights, photo, ext, key):
    sizes = {}
    for q in (30, 95):
        out = tmp_path / f"q{q}{ext}"
        assert infer(tmp_path, f"input={photo}", f"output={out}", f"ckpt_path={weights}",
                     f"{key}={q}", "progress=false") == 0
        sizes[q] = out.stat().st_size
    assert sizes[30] < 0.8 * sizes[95]


def test_webp_default_is_lossless(tmp_path, weights, photo):
    ref, out = tmp_path / "ref.png", tmp_path / "o.webp"
    for dst in (ref, out):
        assert infer(tmp_path, f"input={photo}", f"output={dst}", f"ckpt_path={weights}",
                     "progress=false") == 0
    assert np.array_equal(np.asarray(Image.open(ref)), np.asarray(Image.open(out).convert("RGB")))


@pytest.mark.parametrize("setting", ["png_level=10", "jpeg_quality=0", "webp_quality=abc",
                                     "png_level=true", "png_filter=paeth"])
def test_bad_setting_names_the_key(tmp_path, capsys, weights, photo, setting):
    assert infer(tmp_path, f"input={photo}", f"output={tmp_path / 'o'}",
                 f"ckpt_path={weights}", setting) == 2
    assert setting.split("=")[0] in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
