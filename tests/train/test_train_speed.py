"""The training-throughput benchmark (tiny, CPU) and the throughput switches of SRSystem."""

from __future__ import annotations

import json

import pytest
import torch
from helpers import write_images

from srnet.benchmarks import train_speed
from srnet.train.module import SRSystem

TINY = {"d": 8, "s": 4, "m": 1}


def test_run_gives_a_row_per_path_and_precision(tmp_path) -> None:
    write_images(tmp_path / "hr", 3, 40, 52)
    rows = train_speed.run("cpu", ["auto"], batch_size=4, steps=2, warmup=1, patch_size=6,
                           data_dir=str(tmp_path / "hr"), net=TINY, patches_per_epoch=400)
    assert [(r["path"], r["precision"]) for r in rows] == [("device", "32-true"),
                                                           ("dataloader", "32-true")]
    for r in rows:
        assert r["patches_per_s"] > 0 and r["step_ms"] > 0
        assert r["epoch_s"] == pytest.approx(400 / r["patches_per_s"])
        assert r["step_ms"] == pytest.approx(1000 * 4 / r["patches_per_s"])
        assert r["mem_kind"] == "cpu_peak_rss" and r["peak_mem_mb"] > 0
    json.dumps(rows)  # plain types only: scripts/benchmark.py writes them as JSON
    assert "| device | bicubic | 32-true | 4 |" in train_speed.table(rows)


def test_main_prints_and_writes_json(tmp_path, capsys) -> None:
    write_images(tmp_path / "hr", 2, 48, 52)  # photo: 8 LR pixels of context
    out = tmp_path / "train.json"
    train_speed.main({"precision": "32-true", "path": "device", "batch_size": 2, "steps": 1,
                      "warmup": 1, "patch_size": 6, "d": 8, "s": 4, "m": 1,
                      "data_dir": str(tmp_path / "hr"), "json": str(out), "degradation": "photo"})
    assert "patches/s" in capsys.readouterr().out
    (row,) = json.loads(out.read_text())
    assert row["path"] == "device" and row["precision"] == "32-true"
    assert row["degradation"] == "photo"


def test_bad_arguments_name_the_choices() -> None:
    with pytest.raises(ValueError, match="allowed keys"):
        train_speed.main({"batch-size": 2})
    with pytest.raises(ValueError, match="choose from"):
        train_speed.run("cpu", paths=("disk",))
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA GPU"):
            train_speed.run("cuda")


class Wrapper(torch.nn.Module):
    """Stands in for torch.compile's OptimizedModule (also an nn.Module holding the original)."""

    def __init__(self, module: torch.nn.Module, **kwargs) -> None:
        super().__init__()
        self.orig = module

    def forward(self, x):
        return self.orig(x)


def test_throughput_switches_keep_weights_names_and_results(monkeypatch) -> None:
    monkeypatch.setattr(torch, "compile", Wrapper)  # the real one costs seconds: see below
    monkeypatch.setattr("srnet.train.throughput.find_cxx", lambda: "/usr/bin/g++")
    torch.manual_seed(0)
    plain = SRSystem({"scale": 2, **TINY}, compile=False, channels_last=False)
    last = SRSystem({"scale": 2, **TINY}, channels_last=True, compile=True)
    last.load_state_dict(plain.state_dict())
    last.set_training_forward("cpu", steps=10)
    plain.set_training_forward("cpu", steps=10)
    assert list(last.state_dict()) == list(plain.state_dict())  # compiled copy not registered
    conv = next(m for m in last.net.modules() if isinstance(m, torch.nn.Conv2d))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    assert last.train_net is not last.net and plain.train_net is plain.net
    x = torch.rand(2, 1, 12, 12)
    y = last.train_net(x.contiguous(memory_format=torch.channels_last))
    torch.testing.assert_close(y, plain.net(x))


def test_auto_compiles_long_cpu_fits_in_nchw(monkeypatch) -> None:
    monkeypatch.setattr(torch, "compile", Wrapper)
    monkeypatch.setattr("srnet.train.throughput.find_cxx", lambda: "/usr/bin/g++")
    system = SRSystem({"scale": 3, **TINY})  # model.compile / channels_last: auto
    params = list(system.parameters())
    system.set_training_forward("cpu", steps=24000)
    assert isinstance(system.train_net, Wrapper) and not system.channels_last
    conv = next(m for m in system.net.modules() if isinstance(m, torch.nn.Conv2d))
    assert conv.weight.is_contiguous()
    system.set_training_forward("cpu", steps=50)  # short fit: eager, NHWC
    assert system.train_net is system.net and system.channels_last
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    assert all(a is b for a, b in zip(params, system.parameters(), strict=True))  # optimiser's


@pytest.mark.slow
def test_compiled_training_step_matches_eager() -> None:
    torch.manual_seed(0)
    eager = SRSystem({"scale": 2, **TINY, "skip": "bicubic"}, compile=False)
    compiled = SRSystem({"scale": 2, **TINY, "skip": "bicubic"}, compile=True)
    compiled.load_state_dict(eager.state_dict())
    eager.set_training_forward("cpu", 1)
    compiled.set_training_forward("cpu", 1)
    assert compiled.train_net is not compiled.net
    x, hr = torch.rand(4, 1, 12, 12), torch.rand(4, 1, 24, 24)
    for system in (eager, compiled):
        torch.nn.functional.mse_loss(system.train_net(x), hr).backward()
    torch.testing.assert_close(compiled.train_net(x), eager.train_net(x), rtol=1e-4, atol=1e-5)
    for (name, a), b in zip(compiled.net.named_parameters(), eager.net.parameters(), strict=True):
        torch.testing.assert_close(a.grad, b.grad, rtol=1e-4, atol=1e-6, msg=name)


@pytest.mark.slow
def test_two_process_ddp_row_counts_both_processes(tmp_path) -> None:
    import os
    import subprocess
    import sys

    from helpers import ROOT

    write_images(tmp_path / "hr", 3, 40, 52)
    out = tmp_path / "rows.json"
    cmd = [sys.executable, "scripts/train_speed.py", "devices=2", "steps=2",
           "warmup=1", "batch_size=4", "patch_size=6", "path=dataloader", "precision=32-true",
           f"data_dir={tmp_path / 'hr'}", "d=8", "s=4", "m=1", f"json={out}"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("| dataloader | bicubic | 32-true | 4 |") == 1  # rank 0 reports, once
    (row,) = json.loads(out.read_text())
    assert row["devices"] == 2
    assert row["patches_per_s"] == pytest.approx(2 * 4 * 2 / (row["step_ms"] * 2 / 1000))
