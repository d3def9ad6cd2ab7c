"""Kill safety: a SIGKILL at any moment leaves the last complete checkpoint, and training resumes.

* fast: a write that dies half-way leaves the old file and no temporary file behind;
* slow: a process rewriting a 32 MB checkpoint through ``AtomicCheckpointIO`` is SIGKILLed at
  random moments, and the file always loads as one complete version;
* slow: ``python train.py`` is SIGKILLed mid-run (checkpoint every step), then
  ``ckpt_path=last`` finishes the run in the same directory.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from helpers import ROOT, make_data, scalars, tiny_overrides

from srnet.io.files import TMP_MARK
from srnet.train import ckpt_io
from srnet.train.ckpt_io import AtomicCheckpointIO, atomic_torch_save

WRITER = """
import sys, torch
from srnet.train.ckpt_io import AtomicCheckpointIO
io, path, i = AtomicCheckpointIO(), sys.argv[1], 0
print("ready", flush=True)
while True:
    i += 1
    io.save_checkpoint({"version": i, "w": torch.full((8, 1024, 1024), float(i))}, path)
"""


def test_interrupted_write_keeps_the_previous_file(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "last.ckpt"
    atomic_torch_save({"version": 1}, path)

    def dies_half_way(obj, f) -> None:
        f.write(b"PK\x03\x04 half a zip")
        raise KeyboardInterrupt  # as if killed while writing

    monkeypatch.setattr(ckpt_io.torch, "save", dies_half_way)
    with pytest.raises(KeyboardInterrupt):
        AtomicCheckpointIO().save_checkpoint({"version": 2}, path)
    monkeypatch.undo()
    assert torch.load(path, weights_only=True) == {"version": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["last.ckpt"]
    # A temporary file left by a SIGKILLed writer is cleared by the next save.
    (tmp_path / f".last.ckpt{TMP_MARK}99999").write_bytes(b"junk")
    AtomicCheckpointIO().save_checkpoint({"version": 3}, path)
    assert [p.name for p in tmp_path.iterdir()] == ["last.ckpt"]
    assert AtomicCheckpointIO().load_checkpoint(path) == {"version": 3}


@pytest.mark.slow
def test_sigkill_during_writes_never_leaves_a_broken_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "last.ckpt"
    rng = random.Random(0)
    for _ in range(3):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], cwd=ROOT,
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "ready"
        deadline = time.time() + 60
        while not path.exists() and time.time() < deadline:
            time.sleep(0.01)
        time.sleep(rng.uniform(0.05, 1.0))  # lands anywhere in a write of 32 MB
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        ckpt = torch.load(path, weights_only=True)
        assert torch.all(ckpt["w"] == float(ckpt["version"]))
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "last.ckpt"]
    assert len(leftovers) <= 1  # at most the killed writer's temporary file, removed next save


@pytest.mark.slow
def test_sigkill_mid_training_then_resume(tmp_path: Path) -> None:
    data = make_data(tmp_path / "data")
    logs = tmp_path / "logs"
    every_step = ["+callbacks.model_checkpoint.every_n_train_steps=1",
                  "callbacks.model_checkpoint.monitor=null",
                  "callbacks.model_checkpoint.filename='step{step:04d}'"]
    args = [sys.executable, "train.py", *tiny_overrides(data, epochs=10), *every_step,
            f"paths.log_dir={logs}"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline, step = time.time() + 300, 0
    try:
        while proc.poll() is None and time.time() < deadline and step < 9:
            lasts = list(logs.glob("train/*/checkpoints/last.ckpt"))
            if lasts:  # readable at every moment: never a half-written file
                step = torch.load(lasts[0], weights_only=True)["global_step"]
            time.sleep(0.05)
        time.sleep(random.Random(1).uniform(0.0, 0.3))
        assert proc.poll() is None, "training ended before it could be killed"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    (run,) = (logs / "train").iterdir()
    killed_at = torch.load(run / "checkpoints/last.ckpt", weights_only=True)["global_step"]
    assert 9 <= killed_at < 40

    out = subprocess.run([*args, "ckpt_path=last"], cwd=ROOT, env=env, capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    assert [p.name for p in (logs / "train").iterdir()] == [run.name]
    final = torch.load(run / "checkpoints/last.ckpt", weights_only=True)
    assert final["global_step"] == 40 and final["epoch"] == 9
    # Lightning writes a step's checkpoint before that step's scalars, so a kill in between
    # loses the scalars of step killed_at - 1; every other step is there.
    steps = set(s for s, _ in scalars(run / "tensorboard", "train/loss"))
    assert set(range(40)) - {killed_at - 1} <= steps <= set(range(40))
    files = sorted((run / "tensorboard").glob("events.out.tfevents.*"))
    per_file = [steps for f in files if (steps := scalars_in(f, "train/loss"))]
    assert len(per_file) == 2  # the killed run's and the resumed run's, in one folder
    assert per_file[1][0] == killed_at  # the resumed run logs on from the checkpoint's step


def scalars_in(events: Path, tag: str) -> list[int]:
    """Steps of ``tag`` in one events file."""
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

    return [ev.step for ev in EventFileLoader(str(events)).Load()
            for v in ev.summary.value if v.tag == tag]
