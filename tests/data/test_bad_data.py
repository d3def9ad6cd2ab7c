"""Bad data during training: stopped before the first step with the list, or skipped and listed."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import torch
from helpers import compose_train, make_data, scalars, tiny_overrides

from srnet.train.config_check import ConfigError
from srnet.train.run import train


def spoil(folder: Path, good: Path | None = None) -> list[Path]:
    """Add a truncated PNG (cut from ``good``, default the folder's first image), an empty file and
    a text file named .png to ``folder``."""
    good = (good or sorted(folder.glob("*.png"))[0]).read_bytes()
    folder.mkdir(parents=True, exist_ok=True)
    truncated, empty, text = folder / "truncated.png", folder / "empty.png", folder / "text.png"
    truncated.write_bytes(good[: len(good) // 2])
    empty.write_bytes(b"")
    text.write_text("not an image")
    return [truncated, empty, text]


def test_bad_files_stop_before_the_first_step(tmp_path: Path) -> None:
    data = make_data(tmp_path / "data")
    bad = spoil(data / "train") + spoil(data / "val")
    with pytest.raises(ConfigError) as err:  # found while the config is built: exit code 2
        train(compose_train(tiny_overrides(data), tmp_path / "run"))
    (found,) = err.value.problems  # the pre-flight check's one report, every file in it
    assert found.startswith("data: pre-flight data check failed: 6 problem(s)")
    assert "data.skip_bad=true" in found
    for path in bad:
        assert str(path) in found
    assert not (tmp_path / "run" / "checkpoints").exists()
    assert not scalars(tmp_path / "run" / "tensorboard", "train/loss")


def test_skip_bad_trains_on_the_rest_and_lists_them(tmp_path: Path, caplog) -> None:
    data = make_data(tmp_path / "data")
    bad = spoil(data / "train")
    cfg = compose_train([*tiny_overrides(data, epochs=1), "data.skip_bad=true"], tmp_path / "run")
    with caplog.at_level(logging.WARNING, logger="srnet"):
        train(cfg)
    assert "leaving out 3 bad file(s)" in caplog.text
    for path in bad:
        assert str(path) in caplog.text
    ckpt = torch.load(tmp_path / "run/checkpoints/last.ckpt", weights_only=True)
    assert ckpt["global_step"] == 4


def test_no_usable_image_is_an_error_never_an_empty_epoch(tmp_path: Path) -> None:
    data = make_data(tmp_path / "data")
    spoil(tmp_path / "allbad", good=data / "val" / "img_000.png")
    data = tmp_path / "data"
    cfg = compose_train([*tiny_overrides(data, epochs=1), "data.skip_bad=true",
                         f"data.train=['{tmp_path / 'allbad'}']"], tmp_path / "run")
    with pytest.raises(ValueError, match=r"no usable images in \['train'\]"):
        train(cfg)
    empty = tmp_path / "empty"
    empty.mkdir()
    cfg = compose_train([*tiny_overrides(data), f"data.train=['{empty}']"], tmp_path / "run2")
    with pytest.raises(ConfigError, match=r"data.train\[0\].*no images"):
        train(cfg)
