"""Exact resume: 2 epochs straight == 1 epoch + resume for 1 (bitwise on CPU), same run and steps.

Fast tests call ``srnet.train.run.train`` on a tiny generated data set; the slow one runs
``python train.py ... ckpt_path=last`` twice in subprocesses.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import lightning as L
import numpy as np
import pytest
import torch
from helpers import ROOT, StopAfterEpoch, compose_train, make_data, scalars, tiny_overrides

from srnet.train.rng import RNGState, data_generators
from srnet.train.rundirs import newest_run, output_subdir, run_dir, run_dir_of

PY = sys.executable


class ScaleProbe(L.Callback):
    """Records the grad scaler's scale when training (re)starts."""

    scale: float | None = None

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        scaler = getattr(trainer.precision_plugin, "scaler", None)
        ScaleProbe.scale = None if scaler is None else float(scaler.get_scale())


def weights(ckpt: Path) -> dict[str, torch.Tensor]:
    return torch.load(ckpt, map_location="cpu", weights_only=True)["state_dict"]


@pytest.mark.parametrize("extra", [[], ["model.overparam=true"]], ids=["plain", "overparam"])
def test_resume_is_bitwise_exact_with_continuous_steps(tmp_path: Path, extra: list[str]) -> None:
    from srnet.train.run import train

    data = make_data(tmp_path / "data")
    base = tiny_overrides(data) + extra
    train(compose_train(base, tmp_path / "straight"))
    stop = "+callbacks.stop._target_=helpers.StopAfterEpoch"
    train(compose_train([*base, stop], tmp_path / "resumed"))
    first = weights(tmp_path / "resumed/checkpoints/last.ckpt")
    train(compose_train([*base, "ckpt_path=last"], tmp_path / "resumed"))

    a = weights(tmp_path / "straight/checkpoints/last.ckpt")
    b = weights(tmp_path / "resumed/checkpoints/last.ckpt")
    assert a.keys() == b.keys()
    assert any(not torch.equal(first[k], b[k]) for k in a), "the resumed run did not train"
    for k in a:
        assert torch.equal(a[k], b[k]), f"{k} differs after resume"
    assert any(".parametrizations." in k for k in a) == bool(extra)  # branches kept for resume
    if extra:  # ... and read back as the plain network
        from srnet.io.checkpoints import load_net

        plain = load_net(tmp_path / "straight/checkpoints/last.ckpt")
        assert not any(".parametrizations." in k for k in plain.state_dict())
        with pytest.raises(ValueError, match="trained with model.overparam=true; resume it with "
                                             "model.overparam=true"):
            train(compose_train([*base[:-1], "ckpt_path=last", "trainer.max_epochs=3"],
                                tmp_path / "straight"))

    # One TensorBoard run (same folder), steps continuing where they stopped, same losses.
    assert [p.name for p in (tmp_path / "resumed").iterdir() if p.is_dir()].count("tensorboard") == 1
    loss_a = scalars(tmp_path / "straight/tensorboard", "train/loss")
    loss_b = scalars(tmp_path / "resumed/tensorboard", "train/loss")
    assert len(list((tmp_path / "resumed/tensorboard").glob("events.out.tfevents.*"))) >= 2
    assert [s for s, _ in loss_a] == list(range(8))
    assert loss_b == loss_a


def test_precision_scaler_is_restored(tmp_path: Path) -> None:
    """fp16 training keeps a grad scaler; after resume its scale is the checkpoint's.

    Lightning turns ``16-mixed`` into bf16 on a CPU, so the fp16 plugin is given explicitly here
    (CPU autocast to float16 with a GradScaler), with srnet's checkpoint IO and RNG callback.
    """
    import hydra
    from lightning.pytorch.callbacks import ModelCheckpoint
    from lightning.pytorch.plugins.precision import MixedPrecision

    from srnet.train.ckpt_io import AtomicCheckpointIO

    cfg = compose_train(tiny_overrides(make_data(tmp_path / "data")), tmp_path / "run")

    def fit(callbacks: list, ckpt_path: str | None = None) -> None:
        scaler = torch.amp.GradScaler("cpu", init_scale=1024.0)
        trainer = L.Trainer(
            accelerator="cpu", max_epochs=2, logger=False, enable_progress_bar=False,
            plugins=[MixedPrecision("16-mixed", "cpu", scaler=scaler), AtomicCheckpointIO()],
            callbacks=[*callbacks, RNGState(0),
                       ModelCheckpoint(tmp_path / "run/checkpoints", save_last=True)])
        trainer.fit(hydra.utils.instantiate(cfg.model), datamodule=hydra.utils.instantiate(cfg.data),
                    ckpt_path=ckpt_path, weights_only=True)

    fit([StopAfterEpoch(1)])
    last = tmp_path / "run/checkpoints/last.ckpt"
    saved = torch.load(last, weights_only=True)
    assert saved["MixedPrecision"]["scale"] == 1024.0
    saved["MixedPrecision"]["scale"] = 256.0  # a restored scaler shows this, a fresh one 1024
    torch.save(saved, last)
    fit([ScaleProbe()], ckpt_path=str(last))
    assert ScaleProbe.scale == 256.0


def test_rng_state_round_trip() -> None:
    """RNGState restores global and datamodule generators to the saved point."""

    class DM:
        def __init__(self) -> None:
            self.train_batches = torch.utils.data.DataLoader(
                range(4), sampler=torch.utils.data.RandomSampler(
                    range(4), generator=torch.Generator().manual_seed(3)))

    class FakeTrainer:
        world_size, global_rank, global_step = 1, 0, 0

        def __init__(self) -> None:
            self.datamodule = DM()

    trainer = FakeTrainer()
    cb = RNGState(seed=0)
    cb.setup(trainer, None, "fit")
    gen = data_generators(trainer.datamodule)["train_batches.sampler.generator"]
    torch.manual_seed(1)
    np.random.seed(1)
    state = cb.state_dict()

    def draw() -> tuple:
        import random

        return (torch.rand(3).tolist(), np.random.rand(3).tolist(), random.random(),
                torch.rand(3, generator=gen).tolist())

    before = draw()
    draw()
    cb.load_state_dict(state)
    cb.on_train_start(trainer, None)
    assert draw() == before

    # Rank 1 of 2 takes its own row of the gathered states.
    other = {k: v.clone() for k, v in cb.state_dict()["states"].items()}
    after = draw()
    mine = cb.state_dict()["states"]
    trainer.world_size, trainer.global_rank = 2, 1
    cb.load_state_dict({"world_size": 2,
                        "states": {k: torch.cat([other[k], mine[k]]) for k in mine}})
    cb.on_train_start(trainer, None)
    assert draw() != after


def test_last_means_newest_run(tmp_path: Path) -> None:
    for name, age in (("2024-01-01_00-00-00", 100), ("2024-01-02_00-00-00", 0),
                      ("2024-01-03_00-00-00", None)):
        run = tmp_path / "logs" / "train" / name
        (run / ".hydra").mkdir(parents=True)
        if age is not None:  # the newest folder has no last.ckpt: not a candidate
            last = run / "checkpoints" / "last.ckpt"
            last.parent.mkdir()
            last.write_bytes(b"x")
            os.utime(last, (1e9 - age, 1e9 - age))
    want = tmp_path / "logs/train/2024-01-02_00-00-00"
    assert newest_run(tmp_path / "logs/train") == want
    task = str(tmp_path / "logs/train")
    assert run_dir(task, "new", "last", {}) == str(want)
    assert output_subdir("last", task, "t0", {}) == ".hydra/resume_t0"
    # A checkpoint inside a run continues that run; one outside any run starts a new one.
    old = tmp_path / "logs/train/2024-01-01_00-00-00/checkpoints/last.ckpt"
    assert run_dir_of(old) == old.parents[1]
    assert run_dir(task, "new", str(old), {}) == str(old.parents[1])
    assert run_dir(task, "new", str(tmp_path / "x.ckpt"), {}) == str(tmp_path / "logs/train/new")
    assert output_subdir(None, task, "t0", {}) == ".hydra"
    # No run to resume under another task: a fresh directory, and the config check names it.
    assert run_dir(str(tmp_path / "logs/other"), "new", "last", {}) == str(
        tmp_path / "logs/other/new")


def test_missing_last_is_named(tmp_path: Path) -> None:
    from srnet.train.config_check import ConfigError
    from srnet.train.run import train

    data = make_data(tmp_path / "data")
    with pytest.raises(ConfigError, match=r"ckpt_path=last: .*last\.ckpt does not exist"):
        train(compose_train([*tiny_overrides(data), "ckpt_path=last"], tmp_path / "run"))


@pytest.mark.slow
def test_train_py_ckpt_path_last_continues_the_same_run(tmp_path: Path) -> None:
    data = make_data(tmp_path / "data")
    logs = tmp_path / "logs"
    args = [PY, "train.py", *tiny_overrides(data), f"paths.log_dir={logs}"]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "tests"), "OMP_NUM_THREADS": "1"}
    stop = "+callbacks.stop._target_=helpers.StopAfterEpoch"
    subprocess.run([*args, stop], cwd=ROOT, env=env, check=True, capture_output=True)
    out = subprocess.run([*args, "ckpt_path=last"], cwd=ROOT, env=env, capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    runs = [p for p in (logs / "train").iterdir() if p.is_dir()]
    assert len(runs) == 1, runs
    run = runs[0]
    assert list((run / ".hydra").glob("resume_*/config.yaml")), "resume config not kept apart"
    steps = [s for s, _ in scalars(run / "tensorboard", "train/loss")]
    assert steps == list(range(8))
    assert torch.load(run / "checkpoints/last.ckpt", weights_only=True)["global_step"] == 8
