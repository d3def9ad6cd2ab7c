"""scripts/train_bundled.sh wires its stages together: which run starts from which checkpoint.

The Python it calls is a stub that records its arguments and writes the files the next stage
looks for, so this runs in a second and trains nothing."""

import os
import subprocess
from pathlib import Path

from helpers import ROOT

STUB = r'''#!/usr/bin/env bash
echo "$*" >> "$CALLS"
for a in "$@"; do case $a in hydra.run.dir=*) d=${a#hydra.run.dir=};
  mkdir -p "$d/checkpoints"; touch "$d/checkpoints/epoch003-psnr29.00.ckpt" "$d/checkpoints/last.ckpt";; esac; done
[ "$1" = -m ] && [ "$2" = srnet.io.checkpoints ] && touch "$4"
exit 0
'''


def run_script(tmp_path: Path, stages: str) -> list[str]:
    stub = tmp_path / "python"
    stub.write_text(STUB)
    stub.chmod(0o755)
    env = {**os.environ, "PY": str(stub), "OUT": str(tmp_path / "out"), "STAGES": stages,
           "CALLS": str(tmp_path / "calls")}
    subprocess.run(["bash", str(ROOT / "scripts/train_bundled.sh")], env=env, check=True,
                   capture_output=True, text=True, timeout=60)
    return (tmp_path / "calls").read_text().splitlines()


def test_each_stage_starts_from_the_previous_best(tmp_path: Path) -> None:
    out = tmp_path / "out"
    calls = run_script(tmp_path, "1 4 5 2 3")
    trains = [c for c in calls if c.startswith("train.py")]
    assert len(trains) == 5 and "model.init_from" not in trains[0]  # stage 1: from scratch
    assert f"model.init_from={out}/x3/checkpoints/last.ckpt" in trains[1]  # stage 4
    assert f"model.init_from={out}/x3_more/checkpoints/epoch003-psnr29.00.ckpt" in trains[2]
    assert "model.overparam=true" in trains[2] and "trainer.max_steps=18000" in trains[2]
    for t in trains[3:]:  # x2 and x4 from stage 5's best body
        assert f"model.init_from={out}/x3_rep/checkpoints/epoch003-psnr29.00.ckpt" in t
    exports = [c for c in calls if c.startswith("-m srnet.io.checkpoints")]
    assert exports[1] == (f"-m srnet.io.checkpoints {out}/x3_rep/checkpoints/epoch003-psnr29.00.ckpt "
                          f"{out}/weights/fsrcnn_x3.pt")
    assert sum(c.startswith("scripts/evaluate.py") for c in calls) == 6  # new and shipped, x2-x4


def test_a_missing_run_stops_the_script(tmp_path: Path) -> None:
    stub_calls = tmp_path / "calls"
    stub_calls.touch()
    try:
        run_script(tmp_path, "5")
    except subprocess.CalledProcessError as e:
        assert "no best checkpoint in" in e.stderr and "x3_more/checkpoints" in e.stderr
    else:
        raise AssertionError("stage 5 without stage 4's run should fail")
    assert not any(c.startswith("train.py") for c in stub_calls.read_text().splitlines())
