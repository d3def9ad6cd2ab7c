"""``python infer.py`` end to end: a real training checkpoint, refusals, safety, compare, evaluate,
a folder with bad files, and the README's commands.

Most runs compose ``configs/infer.yaml`` in-process and call ``srnet.app.app.infer``; a few run
``python infer.py`` / ``srnet-infer`` as a subprocess, as a user would.
"""

from __future__ import annotations

import os
import re
import runpy
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import ROOT, compose_train, smooth_image, write_images
from PIL import Image

from srnet import cli
from srnet.app.inputs import UsageError, list_inputs
from srnet.io import checkpoints as checkpoint
from srnet.io.checkpoints import load_net, save_weights
from srnet.nets.fsrcnn import FSRCNN

ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


@pytest.fixture(scope="module")
def trained_ckpt(tmp_path_factory) -> Path:
    """A real Lightning checkpoint from a 6-step training run of a tiny x2 FSRCNN."""
    from srnet.train.run import train

    out = tmp_path_factory.mktemp("train")
    cfg = compose_train(["debug=short", "model.net.d=8", "model.net.s=4", "model.net.m=1",
                         "trainer=cpu", "seed=0", "trainer.max_steps=6", "data.batch_size=8",
                         "data.patches_per_epoch=48", "+trainer.num_sanity_val_steps=0"], out)
    train(cfg)
    return out / "checkpoints" / "last.ckpt"


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> Path:
    """A plain weights file of a tiny x2 y-channel FSRCNN."""
    torch.manual_seed(0)
    return save_weights(FSRCNN(scale=2, d=8, s=4, m=1),
                        tmp_path_factory.mktemp("w") / "w.pt")


def run_infer(tmp_path: Path, *overrides: str) -> int:
    return cli.run_infer(compose_train(list(overrides), tmp_path / "hydra", config_name="infer"))


def size(path: Path) -> tuple[int, int]:
    with Image.open(path) as im:
        return im.size


def test_lightning_checkpoint_loads_strict_and_self_described(trained_ckpt):
    net = load_net(trained_ckpt)
    blob = torch.load(trained_ckpt, weights_only=True)
    assert net.cfg.to_dict() == blob["srnet"]["net"] and net.degradation == {"name": "bicubic"}
    for k, v in net.state_dict().items():
        assert torch.equal(v, blob["state_dict"][f"net.{k}"])


def test_issue2_infer_writes_exactly_scale_times_the_input(tmp_path, trained_ckpt):
    Image.fromarray(smooth_image(23, 37)).save(tmp_path / "in.png")
    res = subprocess.run([sys.executable, str(ROOT / "infer.py"), f"input={tmp_path / 'in.png'}",
                          f"output={tmp_path / 'out'}", f"ckpt_path={trained_ckpt}"],
                         capture_output=True, text=True, env=ENV, cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert size(tmp_path / "out" / "in.png") == (74, 46)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.png", "out"]  # no stray log files


def test_folder_with_bad_files(tmp_path, weights):
    src = tmp_path / "in"
    good = write_images(src, 2, 20, 30)
    (src / "empty.png").touch()
    (src / "text.png").write_text("not an image")
    (src / "truncated.png").write_bytes(good[0].read_bytes()[:200])
    (src / "folder.png").mkdir()
    res = subprocess.run([sys.executable, str(ROOT / "infer.py"), f"input={src}",
                          f"output={tmp_path / 'out'}", f"ckpt_path={weights}"],
                         capture_output=True, text=True, env=ENV, cwd=tmp_path)
    assert res.returncode == 1, res.stdout + res.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [p.name for p in good]
    assert all(size(tmp_path / "out" / p.name) == (60, 40) for p in good)
    assert "summary: 2 of 6 image(s) done" in res.stdout and "4 failed" in res.stdout
    for bad in ("empty.png", "text.png", "truncated.png", "folder.png"):
        assert re.search(rf"FAILED .*{bad}", res.stdout) and bad in res.stderr  # summary, warning


def test_scale_conflict_is_refused(tmp_path, capsys, weights):
    write_images(tmp_path / "in", 1, 10, 12)
    assert run_infer(tmp_path, f"input={tmp_path / 'in'}", f"output={tmp_path / 'o'}",
                     f"ckpt_path={weights}", "scale=3") == 2
    err = capsys.readouterr().err
    assert "holds an x2 FSRCNN" in err and "scale=3 was asked but the checkpoint has scale=2" in err
    assert not (tmp_path / "o").exists()
    assert run_infer(tmp_path, f"input={tmp_path / 'in'}", f"output={tmp_path / 'o'}",
                     f"ckpt_path={weights}", "scale=2") == 0


@pytest.mark.parametrize("content", [b"garbage", b""])
def test_corrupt_checkpoint_is_a_usage_error(tmp_path, capsys, content):
    write_images(tmp_path / "in", 1, 10, 12)
    (tmp_path / "bad.ckpt").write_bytes(content)
    assert run_infer(tmp_path, f"input={tmp_path / 'in'}", f"output={tmp_path / 'o'}",
                     f"ckpt_path={tmp_path / 'bad.ckpt'}") == 2
    assert f"{tmp_path / 'bad.ckpt'} cannot be read" in capsys.readouterr().err


def test_without_ckpt_path_bundled_weights_or_a_clear_message(tmp_path, capsys, monkeypatch,
                                                             weights):
    monkeypatch.setattr(checkpoint, "WEIGHTS_DIR", tmp_path / "weights")
    write_images(tmp_path / "in", 1, 10, 12)
    args = (f"input={tmp_path / 'in'}", f"output={tmp_path / 'o'}")
    assert run_infer(tmp_path, *args) == 2
    assert "a checkpoint is needed, pass ckpt_path=" in capsys.readouterr().err
    (tmp_path / "weights").mkdir()
    shutil.copy(weights, tmp_path / "weights" / "fsrcnn_x2.pt")
    assert run_infer(tmp_path, *args) == 0 and size(tmp_path / "o" / "img_000.png") == (24, 20)


def test_inputs_are_never_overwritten(tmp_path, capsys, weights):
    paths = write_images(tmp_path / "in", 2, 10, 12)
    before = [p.read_bytes() for p in paths]
    for flag in ("overwrite=false", "overwrite=true"):  # a usage error, found before any work
        assert run_infer(tmp_path, f"input={tmp_path / 'in'}", f"output={tmp_path / 'in'}",
                         f"ckpt_path={weights}", flag) == 2
        assert "would replace the input" in capsys.readouterr().err
    assert [p.read_bytes() for p in paths] == before
    assert sorted(p.name for p in (tmp_path / "in").iterdir()) == [p.name for p in paths]


def test_existing_outputs_need_overwrite(tmp_path, capsys, weights):
    write_images(tmp_path / "in", 1, 10, 12)
    (tmp_path / "o").mkdir()
    Image.new("RGB", (1, 1)).save(tmp_path / "o" / "img_000.png")
    args = (f"input={tmp_path / 'in'}", f"output={tmp_path / 'o'}", f"ckpt_path={weights}")
    assert run_infer(tmp_path, *args) == 1
    assert "exists; pass overwrite=true" in capsys.readouterr().out
    assert size(tmp_path / "o" / "img_000.png") == (1, 1)
    assert run_infer(tmp_path, *args, "overwrite=true") == 0
    assert size(tmp_path / "o" / "img_000.png") == (24, 20)


def test_kinds_and_formats_through_the_cli(tmp_path, weights):
    src = tmp_path / "in"
    src.mkdir()
    rgb = smooth_image(10, 14)
    Image.fromarray(np.dstack([rgb, rgb[..., :1]])).save(src / "rgba.png")
    Image.fromarray(rgb[..., 0]).save(src / "grey.png")
    Image.fromarray(rgb).save(src / "photo.jpg")
    Image.fromarray(rgb[..., 0].astype(np.uint16) * 257).save(src / "deep.tif")
    assert run_infer(tmp_path, f"input={src}", f"output={tmp_path / 'o'}",
                     f"ckpt_path={weights}", "ext=.jpg") == 0
    out = {p.name: Image.open(p) for p in (tmp_path / "o").iterdir()}
    assert sorted(out) == ["deep.png", "grey.jpg", "photo.jpg", "rgba.png"]  # alpha, 16 bit: PNG
    assert out["rgba.png"].mode == "RGBA" and out["grey.jpg"].mode == "L"
    assert out["deep.png"].mode.startswith("I;16")
    assert all(im.size == (28, 20) for im in out.values())


def test_compare_and_single_output_file(tmp_path, weights):
    Image.fromarray(smooth_image(11, 13)).save(tmp_path / "a.png")
    assert run_infer(tmp_path, f"input={tmp_path / 'a.png'}", f"output={tmp_path / 'big.png'}",
                     f"ckpt_path={weights}", "compare=true", "tile=5") == 0
    big = np.asarray(Image.open(tmp_path / "big.png"))
    side = np.asarray(Image.open(tmp_path / "big_compare.png"))
    assert big.shape == (22, 26, 3) and side.shape == (22, 78, 3)
    assert np.array_equal(side[:, 52:], big)  # nearest | bicubic | srnet
    assert np.array_equal(side[:, :26], np.repeat(np.repeat(smooth_image(11, 13), 2, 0), 2, 1))


def test_evaluate_mode_prints_model_and_baselines(tmp_path, capsys, weights):
    write_images(tmp_path / "hr", 2, 40, 44)
    Image.fromarray(smooth_image(8, 8)).save(tmp_path / "hr" / "tiny.png")
    assert run_infer(tmp_path, f"input={tmp_path / 'hr'}", "mode=evaluate",
                     f"ckpt_path={weights}") == 1  # the tiny image cannot be scored
    out = capsys.readouterr().out
    assert "| image | model | nearest | bilinear | bicubic |" in out and "| mean of 2 |" in out
    rows = re.findall(r"\| img_00\d\.png \| (.*) \|", out)
    assert len(rows) == 2
    psnrs = [float(cell.split(" / ")[0]) for cell in rows[0].split(" | ")]
    assert psnrs[3] > psnrs[1] > 20  # bicubic beats nearest on smooth images
    assert "FAILED" in out and "too small" in out


def test_usage_errors(tmp_path, capsys, weights):
    write_images(tmp_path / "in", 1, 10, 12)
    cases = {(): "input=<file|folder|glob> is required",
             ("input=/no/such/file.png", "output=o"): "no such file",
             (f"input={tmp_path / 'in'}",): "output=<folder> is required",
             (f"input={tmp_path / 'in'}", "output=o", "mode=fast"): "mode='fast'",
             (f"input={tmp_path / 'in'}", "output=o", "precision=fp16", "device=cpu"):
                 "fp16 needs a CUDA device",
             (f"input={tmp_path / 'in'}", "output=o", "tile=big"): "tile='big'",
             (f"input=[{tmp_path / 'in'},{tmp_path / 'in2'}]", "output=o.png"): "give a folder"}
    write_images(tmp_path / "in2", 1, 10, 12, seed=5)
    for args, msg in cases.items():
        assert run_infer(tmp_path, *args, f"ckpt_path={weights}") == 2, args
        assert msg in capsys.readouterr().err, args


def test_list_inputs_file_folder_glob_list(tmp_path):
    paths = write_images(tmp_path / "in", 3, 8, 8)
    (tmp_path / "in" / "notes.txt").write_text("not listed")
    assert list_inputs(str(tmp_path / "in")) == paths
    assert list_inputs(str(tmp_path / "in" / "*_00[12].png")) == paths[1:]
    assert list_inputs([str(paths[0]), str(tmp_path / "in")]) == paths  # no duplicates
    with pytest.raises(UsageError, match="no image files"):
        list_inputs(str(tmp_path / "in" / "*.jpg"))


def _readme_section() -> str:
    text = (ROOT / "README.md").read_text()
    return text.split("## Upscale your images", 1)[1].split("\n## ", 1)[0]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # runpy of an imported module
def test_readme_commands(tmp_path, trained_ckpt, monkeypatch, capsys):
    """Run every command and the Python snippet of the README section, in a folder holding
    ``photo.jpg``, ``photos/`` and ``run.ckpt`` (a real training checkpoint).

    ``srnet-infer`` runs as a subprocess (the console script); ``python infer.py`` and
    ``python -m`` lines run in-process with the same arguments, to keep the suite fast
    (``python infer.py`` itself runs as a subprocess in the tests above).
    """
    section = _readme_section()
    bash = re.findall(r"```bash\n(.*?)```", section, re.S)
    python = re.findall(r"```python\n(.*?)```", section, re.S)
    assert bash and python
    Image.fromarray(smooth_image(30, 40)).save(tmp_path / "photo.jpg")
    write_images(tmp_path / "photos", 2, 36, 48)
    shutil.copy(trained_ckpt, tmp_path / "run.ckpt")
    monkeypatch.chdir(tmp_path)
    script = Path(sys.executable).parent / "srnet-infer"
    ran = []
    for line in (ln.split(" #")[0].strip() for block in bash for ln in block.splitlines()):
        if not line or line.startswith("#"):
            continue
        argv = shlex.split(line)
        if argv[:2] == ["python", "infer.py"]:
            assert run_infer(tmp_path, *argv[2:]) == 0, (line, capsys.readouterr())
        elif argv[:2] == ["python", "-m"]:
            monkeypatch.setattr(sys, "argv", argv[2:])
            runpy.run_module(argv[2], run_name="__main__")
        elif argv[0] == "srnet-infer":
            argv[:1] = [str(script)] if script.exists() else [
                sys.executable, "-c", "from srnet.cli import infer_main; infer_main()"]
            res = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, env=ENV)
            assert res.returncode == 0, f"{line}\n{res.stdout}\n{res.stderr}"
        else:
            raise AssertionError(f"README command not understood by this test: {line}")
        ran.append(argv[0])
    assert len(ran) >= 5 and "srnet-infer" in " ".join(ran)
    up = tmp_path / "upscaled"
    assert size(up / "photo.jpg") == (80, 60) and size(up / "photo_x2.png") == (80, 60)
    assert size(up / "img_000_compare.png") == (3 * 96, 72)
    assert size(up / "img_001_big.png") == (96, 72)
    assert load_net(tmp_path / "weights.pt").cfg == load_net(tmp_path / "run.ckpt").cfg
    exec(compile(python[0], "README.md", "exec"), {})
    assert "2 y (80, 60) (60, 80, 3)" in capsys.readouterr().out


@pytest.mark.parametrize("entry,name", [("train_main", "task_name: train"),
                                        ("infer_main", "mode: upscale")])
def test_console_scripts_find_the_configs(monkeypatch, capsys, entry, name):
    """``srnet-train`` / ``srnet-infer`` compose configs/ next to the package (``--cfg job``)."""
    from hydra.core.global_hydra import GlobalHydra

    from srnet import cli

    assert cli.CONFIG_DIR == ROOT / "configs"
    GlobalHydra.instance().clear()
    extra = ["input=x.png"] if entry == "infer_main" else []
    monkeypatch.setattr(sys, "argv", [entry, "--cfg", "job", *extra])
    getattr(cli, entry)()
    assert name in capsys.readouterr().out
