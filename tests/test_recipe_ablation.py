"""scripts/recipe_ablation.sh: each arm is the recipe with its one change, failures are named.

The Python it calls is a stub that records its arguments (and fails where told), so this trains
nothing."""

import os
import subprocess
from pathlib import Path

from helpers import ROOT

STUB = r'''#!/usr/bin/env bash
echo "$OMP_NUM_THREADS $*" >> "$CALLS"
for a in "$@"; do case $a in hydra.run.dir=*) mkdir -p "${a#hydra.run.dir=}";; esac; done
case "$*" in *"$FAIL_ON"*) exit 1;; esac
exit 0
'''


def run_script(tmp_path: Path, arms: str, fail_on: str = "no arm fails") -> tuple[int, str, list[str]]:
    stub = tmp_path / "python"
    stub.write_text(STUB)
    stub.chmod(0o755)
    calls = tmp_path / "calls"
    calls.touch()
    env = {**os.environ, "PY": str(stub), "OUT": str(tmp_path / "out"), "ARMS": arms,
           "CALLS": str(calls), "FAIL_ON": fail_on}
    done = subprocess.run(["bash", str(ROOT / "scripts/recipe_ablation.sh")], env=env,
                          capture_output=True, text=True, timeout=60)
    return done.returncode, done.stderr, calls.read_text().splitlines()


def test_each_arm_changes_one_thing_and_the_table_lists_them_in_order(tmp_path: Path) -> None:
    out = tmp_path / "out"
    rc, err, calls = run_script(tmp_path, "base skip_none x2_init_tail x2_scratch")
    assert rc == 0, err
    trains = {c.split("hydra.run.dir=")[1].split()[0]: c for c in calls if " train.py " in c}
    base = trains[f"{out}/base"]
    assert base.startswith("1 train.py experiment=bundle_x3 trainer.max_steps=6000 hydra.run.dir")
    assert trains[f"{out}/skip_none"].replace(" model.net.skip=none", "").replace(
        "skip_none", "base") == base
    assert "model.init_from=srnet/weights/fsrcnn_x3.pt model.tail_fit_batches=0" in trains[
        f"{out}/x2_init_tail"]
    assert "experiment=bundle_x3 scale=2 trainer.max_steps=4000" in trains[f"{out}/x2_scratch"]
    assert calls[-1].split("scripts/runs_table.py ")[1] == (
        f"runs=[{out}/base,{out}/skip_none,{out}/x2_init_tail,{out}/x2_scratch]")
    # a combined arm carries every change it combines
    rc, err, calls = run_script(tmp_path, "l1_tail_lr_1_overparam")
    assert rc == 0, err
    assert ("trainer.max_steps=6000 model.loss=l1 model.tail_lr_scale=1.0 model.overparam=true "
            "hydra.run.dir") in calls[-2]


def test_existing_runs_are_kept_and_failures_named(tmp_path: Path) -> None:
    (tmp_path / "out" / "base").mkdir(parents=True)
    rc, err, calls = run_script(tmp_path, "base l1 bf16", fail_on="model.loss=l1")
    assert rc == 1 and "l1 failed, see" in err and "bf16 failed" not in err
    assert not any("out/base " in c for c in calls)  # not run again
    assert not any("runs_table" in c for c in calls)  # no table of a failed ablation
    rc, err, calls = run_script(tmp_path, "base nonsense")
    assert rc == 2 and "no arm 'nonsense'" in err
