"""DDP: one run directory for all ranks, validation images scored exactly once.

The slow test trains with 2 CPU processes (gloo) through ``train.py trainer=ddp`` and checks the
run's final ``val/psnr`` against a single-process validation of the same checkpoint; the
validation set has 3 images, so a padding sampler (2 + 2) would count one twice and differ.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import hydra
import lightning as L
import pytest
import torch
from helpers import ROOT, compose_train, scalars, tiny_overrides, write_images

from srnet.data.sharding import ShardSampler
from srnet.train.module import SRSystem
from srnet.train.rundirs import job_name, output_subdir, run_dir


@pytest.mark.parametrize("n,world", [(3, 2), (1, 2), (7, 3), (4, 4), (2, 5)])
def test_shard_sampler_covers_every_image_once(n: int, world: int) -> None:
    shards = [list(ShardSampler(range(n), world, r)) for r in range(world)]
    assert sorted(i for s in shards for i in s) == list(range(n))
    assert [len(ShardSampler(range(n), world, r)) for r in range(world)] == [len(s) for s in shards]


def test_shared_run_dir_under_torchrun_and_slurm(tmp_path: Path) -> None:
    task = str(tmp_path / "train")
    torchrun = {"TORCHELASTIC_RUN_ID": "abc", "RANK": "1", "WORLD_SIZE": "4"}
    assert run_dir(task, "stamp", None, torchrun) == str(tmp_path / "train" / "torchrun_abc")
    assert output_subdir(None, task, "t", torchrun) is None  # only rank 0 writes .hydra/
    assert job_name("train", torchrun) == "train_rank1"
    rank0 = {**torchrun, "RANK": "0"}
    assert run_dir(task, "stamp", None, rank0) == str(tmp_path / "train" / "torchrun_abc")
    assert output_subdir(None, task, "t", rank0) == ".hydra" and job_name("train", rank0) == "train"
    slurm = {"SLURM_PROCID": "0", "SLURM_NTASKS": "8", "SLURM_JOB_ID": "77"}
    assert run_dir(task, "stamp", None, slurm) == str(tmp_path / "train" / "slurm_77")
    one = {**slurm, "SLURM_NTASKS": "1"}  # one process: a fresh time-stamped run
    assert run_dir(task, "stamp", None, one) == str(tmp_path / "train" / "stamp")
    assert run_dir(task, "stamp", None, {}) == str(tmp_path / "train" / "stamp")  # no launcher
    with pytest.raises(ValueError, match="hydra.run.dir"):
        run_dir(task, "stamp", None, {**torchrun, "TORCHELASTIC_RUN_ID": "none"})


def test_train_config_resolves_the_run_dir_without_touching_argv(tmp_path: Path,
                                                                 monkeypatch) -> None:
    monkeypatch.setenv("TORCHELASTIC_RUN_ID", "xyz")
    monkeypatch.setenv("RANK", "2")
    monkeypatch.setenv("WORLD_SIZE", "3")
    cfg = compose_train([f"paths.log_dir={tmp_path}"], None)
    assert cfg.hydra.run.dir == str(tmp_path / "train" / "torchrun_xyz")
    assert cfg.hydra.output_subdir is None and cfg.hydra.job.name == "train_rank2"


def test_ddp_config_reads_the_launcher_environment(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "4")
    monkeypatch.setenv("GROUP_WORLD_SIZE", "2")
    cfg = compose_train(["trainer=ddp"], tmp_path)
    assert (cfg.trainer.devices, cfg.trainer.num_nodes, cfg.trainer.strategy) == (4, 2, "ddp")
    monkeypatch.delenv("LOCAL_WORLD_SIZE")
    monkeypatch.delenv("GROUP_WORLD_SIZE")
    monkeypatch.setenv("SLURM_NTASKS_PER_NODE", "8")
    monkeypatch.setenv("SLURM_NNODES", "3")
    cfg = compose_train(["trainer=ddp"], tmp_path)
    assert (cfg.trainer.devices, cfg.trainer.num_nodes) == (8, 3)
    monkeypatch.delenv("SLURM_NTASKS_PER_NODE")
    monkeypatch.delenv("SLURM_NNODES")
    cfg = compose_train(["trainer=ddp"], tmp_path)
    assert (cfg.trainer.devices, cfg.trainer.num_nodes) == ("auto", 1)


@pytest.mark.slow
def test_two_process_gloo_run_matches_single_process_validation(tmp_path: Path) -> None:
    data = tmp_path / "data"
    write_images(data / "train", 3, 40, 48)
    write_images(data / "val", 3, 40, 48, seed=10)  # odd: padding would repeat one image
    logs = tmp_path / "logs"
    overrides = [*tiny_overrides(data), "trainer=ddp", "trainer.accelerator=cpu",
                 "trainer.devices=2", f"paths.log_dir={logs}"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "train.py", *overrides], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=540)
    assert out.returncode == 0, out.stderr[-3000:]

    runs = list((logs / "train").iterdir())
    assert len(runs) == 1, runs  # both ranks wrote into one run directory
    run = runs[0]
    assert (run / "train_ddp_process_1.log").exists()  # rank 1's Hydra log, same folder
    assert [p.name for p in run.iterdir() if p.name.startswith(".hydra")] == [".hydra"]
    assert out.stdout.count("Validation of the final weights") == 1  # printed by rank 0 only
    ddp_psnr = scalars(run / "tensorboard", "val/gen/psnr")[-1][1]
    ddp_ssim = scalars(run / "tensorboard", "val/gen/ssim")[-1][1]

    cfg = compose_train(tiny_overrides(data), tmp_path / "single")
    model = SRSystem.load_from_checkpoint(run / "checkpoints/last.ckpt", map_location="cpu",
                                          weights_only=True)
    trainer = L.Trainer(accelerator="cpu", devices=1, logger=False, enable_progress_bar=False)
    (single,) = trainer.validate(model, datamodule=hydra.utils.instantiate(cfg.data),
                                 verbose=False)
    assert ddp_psnr == pytest.approx(single["val/gen/psnr"], abs=1e-4)
    assert ddp_ssim == pytest.approx(single["val/gen/ssim"], abs=1e-6)

    # Resuming a DDP run: same directory, steps carry on (2 steps per epoch per rank).
    steps = torch.load(run / "checkpoints/last.ckpt", weights_only=True)["global_step"]
    assert steps == 4
    more = [*overrides, "trainer.max_epochs=3", "ckpt_path=last"]
    out = subprocess.run([sys.executable, "train.py", *more], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=540)
    assert out.returncode == 0, out.stderr[-3000:]
    assert list((logs / "train").iterdir()) == [run]
    assert torch.load(run / "checkpoints/last.ckpt", weights_only=True)["global_step"] == 6
    assert [s for s, _ in scalars(run / "tensorboard", "train/loss")] == list(range(6))
