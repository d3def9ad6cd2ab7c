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


def run_script(tmp_path: Path, stages: str, **env_extra: str) -> list[str]:
    stub = tmp_path / "python"
    stub.write_text(STUB)
    stub.chmod(0o755)
    env = {**os.environ, "PY": str(stub), "OUT": str(tmp_path / "out"), "STAGES": stages,
           "CALLS": str(tmp_path / "calls"), **env_extra}
    subprocess.run(["bash", str(ROOT / "scripts/train_bundled.sh")], env=env, check=True,
                   capture_output=True, text=True, timeout=60)
    return (tmp_path / "calls").read_text().splitlines()


BEST = "checkpoints/epoch003-psnr29.00.ckpt"


def test_each_stage_starts_from_the_previous_best(tmp_path: Path) -> None:
    out = tmp_path / "out"
    calls = run_script(tmp_path, "1 2 3 4 5", X3_ARGS="trainer.max_steps=12")
    trains = [c for c in calls if c.startswith("train.py")]
    assert len(trains) == 9
    assert "experiment=slim_x3" in trains[0] and "model.init_from" not in trains[0]
    assert "trainer.max_steps=12" in trains[0]  # X3_ARGS reach the body run only
    for t, s in zip(trains[1:3], (2, 4), strict=True):  # x2 and x4 from the body's best
        assert f"experiment=slim_x{s}" in t and f"model.init_from={out}/x3/{BEST}" in t
        assert "trainer.max_steps=12" not in t
    for t, s in zip(trains[3:5], (2, 4), strict=True):  # each deepened from its own best
        assert f"experiment=slim_x{s}_m5" in t and f"model.init_from={out}/x{s}/{BEST}" in t
    assert "experiment=slim_x2_k6" in trains[5]  # x2's kernel-6 tail, from the deepened x2
    assert f"model.init_from={out}/x2_m5/{BEST}" in trains[5]
    for t, s in zip(trains[6:], (2, 3, 4), strict=True):  # real weights from the new clean files
        assert f"experiment=real_x{s}" in t and f"model.init_from={out}/weights/fsrcnn_x{s}.pt" in t
    exports = [c for c in calls if c.startswith("-m srnet.io.checkpoints")]
    assert exports[0] == f"-m srnet.io.checkpoints {out}/x2_k6/{BEST} {out}/weights/fsrcnn_x2.pt"
    assert exports[1] == f"-m srnet.io.checkpoints {out}/x3/{BEST} {out}/weights/fsrcnn_x3.pt"
    assert exports[2] == f"-m srnet.io.checkpoints {out}/x4_m5/{BEST} {out}/weights/fsrcnn_x4.pt"
    assert exports[3] == (f"-m srnet.io.checkpoints {out}/x2_real/{BEST} "
                          f"{out}/weights/fsrcnn_x2_real.pt")
    evals = [c for c in calls if c.startswith("scripts/evaluate.py")]
    assert len(evals) == 6 and "degradation=[bicubic]" in evals[0]
    assert "jpeg_q50" in evals[3] and f"ckpt_path=[{out}/weights/fsrcnn_x2_real.pt,x2]" in evals[3]


def test_real_weights_can_start_from_the_shipped_ones(tmp_path: Path) -> None:
    trains = [c for c in run_script(tmp_path, "4", START="shipped") if c.startswith("train.py")]
    assert [t.split("model.init_from=")[1].split()[0] for t in trains] == ["x2", "x3", "x4"]


def test_a_missing_run_stops_the_script(tmp_path: Path) -> None:
    stub_calls = tmp_path / "calls"
    stub_calls.touch()
    try:
        run_script(tmp_path, "2")
    except subprocess.CalledProcessError as e:
        assert "no best checkpoint in" in e.stderr and "x3/checkpoints" in e.stderr
    else:
        raise AssertionError("stage 2 without stage 1's run should fail")
    assert not any(c.startswith("train.py") for c in stub_calls.read_text().splitlines())


def test_a_new_run_keeps_an_earlier_one_aside(tmp_path: Path) -> None:
    """Rerunning a stage never mixes the old run's best checkpoint into the new one's choice."""
    old = tmp_path / "out" / "x3" / "checkpoints"
    old.mkdir(parents=True)
    (old / "epoch009-psnr99.99.ckpt").write_text("the earlier run's best")
    (tmp_path / "out" / "x3.log").write_text("the earlier log")
    calls = run_script(tmp_path, "1 2")
    kept = [p for p in (tmp_path / "out").iterdir() if p.name.startswith("x3.before-")]
    assert len(kept) == 2 and sum(p.name.endswith(".log") for p in kept) == 1
    aside = next(p for p in kept if p.is_dir())
    assert (aside / "checkpoints" / "epoch009-psnr99.99.ckpt").read_text() == "the earlier run's best"
    assert not (tmp_path / "out" / "x3" / "checkpoints" / "epoch009-psnr99.99.ckpt").exists()
    assert f"model.init_from={tmp_path}/out/x3/{BEST}" in calls[1]  # the new run's best


def test_resume_continues_the_run_in_place(tmp_path: Path) -> None:
    ckpts = tmp_path / "out" / "x3" / "checkpoints"
    ckpts.mkdir(parents=True)
    (ckpts / "last.ckpt").write_text("state")
    calls = run_script(tmp_path, "1", RESUME="1")
    assert "ckpt_path=last" in calls[0]
    assert not [p for p in (tmp_path / "out").iterdir() if ".before-" in p.name]


def test_the_wide_real_network_is_its_own_run_and_file(tmp_path: Path) -> None:
    out = tmp_path / "out"
    calls = run_script(tmp_path, "4 5", START="shipped", REAL_SCALES="2", REAL_VARIANT="wide")
    trains = [c for c in calls if c.startswith("train.py")]
    assert len(trains) == 1 and "experiment=real_x2_wide" in trains[0]
    assert f"hydra.run.dir={out}/x2_real_wide" in trains[0] and "model.init_from=x2" in trains[0]
    exports = [c for c in calls if c.startswith("-m srnet.io.checkpoints")]
    assert exports == [f"-m srnet.io.checkpoints {out}/x2_real_wide/{BEST} "
                       f"{out}/weights/fsrcnn_x2_real_wide.pt"]
