"""scripts/upsampler_study.py end to end on generated images (two tiny runs), its reuse path,
and the study's table and multiply-add count."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import load_script, write_images
from PIL import Image

from srnet.analysis.study import cell, columns, late_gain, macs_per_pixel, table
from srnet.nets.fsrcnn import FSRCNN
from srnet.ops.resize import bicubic_down

study = load_script("upsampler_study")


def test_cells_and_table():
    assert cell([1.0, 3.0], 2) == f"2.00 ± {2**0.5:.2f}"  # mean ± sample sd over seeds
    assert cell([12800, 12800], 0) == "12,800" and cell([None], 1) == "-"
    text = table({"bicubic": [{"Gen/psnr": 30.0}], "deconv": [{"Gen/psnr": 31.0, "steps": 4}]},
                 columns(["Gen"]))
    lines = text.splitlines()
    assert lines[0].startswith("| method | n | Gen PSNR | Gen SSIM | ckb flat")
    assert lines[3].startswith("| deconv | 1 | 31.00 | - |")


def test_late_gain_is_the_rise_over_the_last_40_percent():
    curve = [(999, 0.0, 30.0), (1999, 0.0, 31.0), (2999, 0.0, 31.5), (3999, 0.0, 31.7),
             (4999, 0.0, 31.8)]
    assert late_gain(curve) == pytest.approx(31.8 - 31.5)  # from step 2999 (<= 0.6 * 4999)
    assert late_gain(curve[:1]) is None and late_gain([]) is None


def test_macs_per_pixel_counts_the_subpixel_deconv():
    net = FSRCNN(scale=3, d=8, s=4, m=1)  # per LR pixel: body 200 + 32 + 144 + 32, tail 9 * 9 * 8
    assert macs_per_pixel(net) == pytest.approx((408 + 648) / 9)


def test_arguments_and_commands(tmp_path):
    args = study.parse_args(["--reuse", "scales=[2]", "seeds=[0]"])
    assert args["reuse"] is True and args["scales"] == [2] and len(args["variants"]) == 7
    with pytest.raises(SystemExit, match="not known"):
        study.parse_args(["variants=[deconv,magic]"])
    with pytest.raises(SystemExit, match="unknown key"):
        study.parse_args(["epochs=3"])
    args = study.parse_args(['train=["trainer.max_steps=5","data.rescales=[1.0]"]'])
    assert args["train"] == ["trainer.max_steps=5", "data.rescales=[1.0]"]
    cmd = study.run_command("deconv_uneven_smooth", 2, 1, tmp_path, ["trainer.max_steps=5"])
    assert "experiment=study_deconv_uneven_smooth" in cmd and "model.net.tail_kernel=9" in cmd
    assert cmd[-1] == "trainer.max_steps=5" and "seed=1" in cmd
    assert not any("tail_kernel" in c for c in study.run_command("deconv", 3, 0, tmp_path, []))


def fake_benchmark(root: Path, scale: int) -> None:
    """root/benchmark/Gen/X<s>/{HR,LR}: generated HR and LR made by srnet's degradation."""
    where = root / "benchmark" / "Gen" / f"X{scale}"
    (where / "LR").mkdir(parents=True)
    for p in write_images(where / "HR", 2, 96, 120, seed=20):
        hr = torch.from_numpy(np.array(Image.open(p))).permute(2, 0, 1)[None].float() / 255
        lr = bicubic_down(hr, scale)[0].permute(1, 2, 0).mul(255).round().byte().numpy()
        Image.fromarray(lr).save(where / "LR" / p.name)


def test_study_end_to_end_and_reuse(tmp_path, monkeypatch):
    write_images(tmp_path / "train", 3, 96, 120)
    fake_benchmark(tmp_path, 2)
    argv = ["variants=[deconv,pixelshuffle_icnr]", "scales=[2]", "seeds=[0]",
            f"out={tmp_path / 'runs'}", f"docs={tmp_path / 'docs'}", f"data_root={tmp_path}",
            "sets=[Gen]", "train=[" + ",".join(f"'{o}'" for o in [
                f"study_sources=[{tmp_path / 'train'}]", "data.patch_size=8", "data.batch_size=4",
                "data.patches_per_epoch=8", "data.rescales=[1.0]", "trainer.max_steps=4",
                "model.net.d=8", "model.net.s=4", "model.net.m=1",
                "model.scheduler.warmup_steps=2", "trainer.log_every_n_steps=1"]) + "]"]
    study.main(argv)
    for variant in ("deconv", "pixelshuffle_icnr"):
        info = json.loads((tmp_path / "runs" / "x2" / variant / "seed0" / "run.json").read_text())
        assert info["returncode"] == 0 and info["steps"] == 4 and info["cpu_min"] > 0
    md = (tmp_path / "docs" / "study_results.md").read_text()
    assert "## x2" in md and "| deconv | 1 |" in md and "| pixelshuffle_icnr | 1 |" in md
    assert "| bicubic | 1 |" in md and "HR (its own period-s content)" in md
    records = json.loads((tmp_path / "docs" / "study_results.json").read_text())
    deconv = next(r for r in records if r["variant"] == "deconv")
    assert deconv["steps"] == 4 and deconv["params"] > 0 and deconv["macs"] > 0
    assert all(deconv[k] >= 0 for k in ("flat", "ramp", "real", "Gen/psnr", "cpu_min"))
    fig = Image.open(tmp_path / "docs" / "figures" / "upsampler_study.png")
    assert fig.width > 3 * 64 and fig.height > 4 * 64  # HR + bicubic + two tails, three views

    # reuse: the table and figure again from the saved runs, no training process started
    (tmp_path / "docs" / "study_results.md").unlink()

    def no_training(*a, **k):
        raise AssertionError("reuse=true must not train finished runs")

    monkeypatch.setattr(study.subprocess, "Popen", no_training)
    study.main([*argv, "reuse=true", f"keep={tmp_path / 'kept'}"])
    assert (tmp_path / "docs" / "study_results.md").read_text() == md

    # the kept runs (weights, run.json, holdout.json) alone give the same table
    kept = tmp_path / "kept" / "x2" / "deconv" / "seed0"
    assert sorted(p.name for p in kept.iterdir()) == ["holdout.json", "run.json", "weights.pt"]
    (tmp_path / "docs" / "study_results.md").unlink()
    study.main([*[a for a in argv if not a.startswith("out=")], f"out={tmp_path / 'kept'}",
                "reuse=true"])
    assert (tmp_path / "docs" / "study_results.md").read_text() == md.replace(
        str(tmp_path / "runs"), str(tmp_path / "kept"))
