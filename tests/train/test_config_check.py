"""Start-up config validation: each mistake is named with its key and the allowed values."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import torch
from helpers import compose_train, make_data, tiny_overrides, write_images

from srnet.io.checkpoints import save_weights
from srnet.nets.fsrcnn import build_net
from srnet.train.config_check import ConfigError, build


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return make_data(tmp_path / "data")


def problems(tmp_path: Path, data: Path, *overrides: str) -> str:
    """The ConfigError text for the tiny config plus ``overrides``."""
    cfg = compose_train([*tiny_overrides(data), *overrides], tmp_path / "run")
    with pytest.raises(ConfigError) as err:
        build(cfg)
    return str(err.value)


def test_valid_config_passes(tmp_path: Path, data: Path) -> None:
    build(compose_train(tiny_overrides(data), tmp_path / "run"))


def test_scale(tmp_path: Path, data: Path) -> None:
    msg = problems(tmp_path, data, "scale=5")
    assert "scale=5 is not supported" in msg and "[2, 3, 4]" in msg
    msg = problems(tmp_path, data, "model.net.scale=3")
    assert "model.net.scale=3 differs from scale=2" in msg


def test_tail_kernel_must_be_a_multiple_of_the_scale(tmp_path: Path, data: Path) -> None:
    msg = problems(tmp_path, data, "model.net.tail_kernel=7")
    assert "model.net.tail_kernel=7 is not a multiple of the stride (scale=2)" in msg
    assert "model.net.allow_checkerboard=true" in msg and "default 8" in msg
    build(compose_train([*tiny_overrides(data), "model.net.tail_kernel=7",
                                "model.net.allow_checkerboard=true"], tmp_path / "run"))


def test_patch_batch_and_epoch_sizes(tmp_path: Path, data: Path) -> None:
    assert "data.patch_size=0: must be a positive integer" in problems(
        tmp_path, data, "data.patch_size=0")
    msg = problems(tmp_path, data, "data.patches_per_epoch=2")
    assert "data.patches_per_epoch=2 is less than one batch (data.batch_size=4)" in msg
    msg = problems(tmp_path, data, "data.patch_size=30")  # needs 68 px, images are 40x48
    assert "data.patch_size=30 at scale 2 needs HR images of at least 68x68" in msg
    msg = problems(tmp_path, data, "data.patch_size=0", "data.batch_size=-2")  # both, at once
    assert "data.patch_size=0: must be a positive integer" in msg
    assert "data.batch_size=-2: must be a positive integer" in msg


def test_small_images_are_listed_or_skipped(tmp_path: Path, data: Path, caplog) -> None:
    small = write_images(data / "train", 1, 20, 30, seed=7, suffix=".jpg")[0]
    msg = problems(tmp_path, data)
    assert "needs HR images of at least 24x24" in msg and str(small) in msg
    assert "data.skip_bad=true" in msg
    cfg = compose_train([*tiny_overrides(data), "data.skip_bad=true"], tmp_path / "run")
    with caplog.at_level(logging.WARNING, logger="srnet"):
        dm = build(cfg).datamodule  # set up: the run trains on this one
    assert len(dm.train_set.images) == 3
    assert str(small) in caplog.text and "leaving out 1 training image" in caplog.text


def test_dataset_paths_must_exist(tmp_path: Path, data: Path) -> None:
    msg = problems(tmp_path, data, f"data.train=['{tmp_path / 'nowhere'}']")
    assert "data.train[0]" in msg and str(tmp_path / "nowhere") in msg
    msg = problems(tmp_path, data, f"data.val.gen='{tmp_path / 'gone'}'")
    assert "data.val.gen" in msg and "gone" in msg


def test_precision(tmp_path: Path, data: Path, monkeypatch) -> None:
    msg = problems(tmp_path, data, "trainer.precision=fp8")
    assert "trainer.precision='fp8'" in msg and "32-true" in msg
    # bf16 asked on a CUDA GPU without it (simulated: this machine may have no GPU).
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda *a, **k: "Tesla T4")
    msg = problems(tmp_path, data, "trainer.precision=bf16-mixed", "trainer.accelerator=gpu")
    assert "trainer.precision='bf16-mixed'" in msg and "Tesla T4" in msg


def test_ckpt_path_exists_and_matches(tmp_path: Path, data: Path) -> None:
    msg = problems(tmp_path, data, f"ckpt_path={tmp_path / 'none.ckpt'}")
    assert f"ckpt_path={tmp_path / 'none.ckpt'}: no such file" in msg
    x3 = save_weights(build_net({"scale": 3, "d": 8, "s": 4, "m": 1}), tmp_path / "x3.pt")
    msg = problems(tmp_path, data, f"ckpt_path={x3}")
    assert "holds an x3 FSRCNN" in msg and "scale=2 was asked but the checkpoint has scale=3" in msg
    d16 = save_weights(build_net({"scale": 2, "d": 16, "s": 4, "m": 1}), tmp_path / "d16.pt")
    assert "d=8 was asked but the checkpoint has d=16" in problems(tmp_path, data,
                                                                   f"ckpt_path={d16}")
    junk = tmp_path / "junk.ckpt"
    junk.write_bytes(b"not a checkpoint")
    assert "cannot be read as a PyTorch checkpoint" in problems(tmp_path, data,
                                                                f"ckpt_path={junk}")
    same = save_weights(build_net({"scale": 2, "d": 8, "s": 4, "m": 1}), tmp_path / "ok.pt")
    build(compose_train([*tiny_overrides(data), f"ckpt_path={same}"], tmp_path / "run"))


def test_all_problems_at_once_and_before_training(tmp_path: Path, data: Path) -> None:
    from srnet.train.run import train

    cfg = compose_train([*tiny_overrides(data), "scale=7", "data.patch_size=-1",
                         "trainer.precision=half"], tmp_path / "run")
    with pytest.raises(ConfigError) as err:
        train(cfg)
    assert len(err.value.problems) == 3
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_train_py_lists_config_mistakes_and_exits_2(tmp_path: Path) -> None:
    """``python train.py scale=5 data.train=[<missing>]``: both problems, exit code 2, no traceback
    (unless HYDRA_FULL_ERROR=1)."""
    import os
    import subprocess
    import sys

    from helpers import ROOT

    cmd = [sys.executable, str(ROOT / "train.py"), "scale=5", f"data.train=[{tmp_path / 'none'}]",
           f"paths.log_dir={tmp_path / 'logs'}"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env.pop("HYDRA_FULL_ERROR", None)
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert out.returncode == 2, out.stderr
    assert "scale=5 is not supported" in out.stderr and str(tmp_path / "none") in out.stderr
    assert "Traceback" not in out.stderr
    full = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, timeout=120,
                          env={**env, "HYDRA_FULL_ERROR": "1"})
    assert full.returncode != 0 and "Traceback" in full.stderr


def test_a_training_folder_given_as_a_string_is_one_folder(tmp_path: Path, data: Path) -> None:
    """``data.train=/my/photos`` (not ``[/my/photos]``): that folder, not one source per letter."""
    cfg = compose_train([*tiny_overrides(data), f"data.train={data / 'train'}"], tmp_path / "run")
    assert len(build(cfg).datamodule.train_set.images) == 3
    with pytest.raises(ConfigError) as err:
        build(compose_train([*tiny_overrides(data), f"data.train={tmp_path / 'nowhere'}"],
                            tmp_path / "run"))
    assert len(err.value.problems) == 1 and err.value.problems[0].startswith("data.train: ")
    assert str(tmp_path / "nowhere") in err.value.problems[0]


def test_loss_border_must_leave_part_of_the_patch(tmp_path: Path, data: Path) -> None:
    msg = problems(tmp_path, data, "model.loss_border=4", "data.patch_size=8")
    assert "model.loss_border=4 leaves nothing of data.patch_size=8 to score" in msg
    for bad in ("-1", "1.5", "true"):
        assert "a whole number of LR pixels >= 0" in problems(
            tmp_path, data, f"model.loss_border={bad}")
    build(compose_train([*tiny_overrides(data), "model.loss_border=1", "data.patch_size=8"],
                        tmp_path / "run"))
