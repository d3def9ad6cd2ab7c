"""Network shapes compared at equal CPU time: the classic FSRCNN body against re-shaped ones.

Every arm trains from scratch with the bundled recipe (``experiment=bundle_x3`` at its scale:
MSE, bicubic skip, Adam 1e-3 cosine, batch 64 of 32x32 LR patches), validating on the holdout
only (every 10th training image, never a test set). Each arm gets the same CPU time, not the same
steps: a short calibration run of the arm measures its CPU seconds per step (the compiled
forward, as long runs use), and the arm's step count is the budget divided by that. The report
compares the runs at equal CPU-minutes along their holdout curves (srnet/analysis/body_study.py).

    python scripts/body_study.py                          # every arm, then the report
    python scripts/body_study.py arms=[x2_classic,x2_d16_m4] minutes=15 jobs=2 threads=1
    python scripts/body_study.py run=false                # the report of the runs already there
                                                          # (stopped ones too, marked so)

An arm whose run folder holds a finished run is not run again (delete the folder to rerun).
Logs: ``<out>/<arm>.log``; report: ``<out>/report.md`` and ``<out>/curves.png``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from arms import finished, run_all, train
from kvargs import parse_kv
from omegaconf import OmegaConf

from srnet.analysis.body_study import cpu_seconds, figure, report

ROOT = Path(__file__).resolve().parents[1]
CLASSIC = ["model=fsrcnn"]
SLIM = ["model=fsrcnn_slim"]
# name -> (scale, overrides): the shapes of issue "FSRCNN at the tiny-SR frontier"
ARMS = {
    "x2_classic": (2, CLASSIC),
    "x2_d16_m3": (2, [*SLIM, "model.net.m=3"]),
    "x2_d16_m4": (2, SLIM),
    "x2_d16_m5": (2, [*SLIM, "model.net.m=5"]),
    "x2_d24_m4": (2, [*SLIM, "model.net.d=24"]),
    "x3_classic": (3, CLASSIC),
    "x3_d16_m4": (3, SLIM),
    "x3_d16_m5": (3, [*SLIM, "model.net.m=5"]),
    "x3_d24_m4": (3, [*SLIM, "model.net.d=24"]),
    # the over-parameterised training's branches, on the 16-channel body (see docs/training.md)
    "x2_d16_m4_op": (2, [*SLIM, "model.overparam=true"]),
    "x2_d16_m4_op_seq": (2, [*SLIM, "model.overparam=true", "model.branches=[seq]"]),
    "x2_d16_m4_op_edges": (2, [*SLIM, "model.overparam=true", "model.branches=[edges]"]),
    "x2_d16_m4_op_all": (2, [*SLIM, "model.overparam=true", "model.branches=[seq,edges]"]),
}
SHAPES = [a for a in ARMS if "_op" not in a]
BATCH = 64
CALIBRATION_STEPS = 300
VALIDATIONS = 8  # per arm: points of its curve


def command(arm: str, steps: int, every: int) -> list[str]:
    scale, extra = ARMS[arm]
    return ["experiment=bundle_x3", f"scale={scale}", *extra, "~data.val.Set5", "~data.val.Set14",
            "model.compile=true", f"trainer.max_steps={steps}",
            f"data.patches_per_epoch={BATCH * every}"]


def run_arm(arm: str, root: Path, minutes: float, threads: int) -> dict:
    """Calibrate, then train ``arm`` for ``minutes`` CPU-minutes; its record for the report."""
    out, meta = root / arm, root / f"{arm}.json"
    if meta.is_file() and finished(out):
        return json.loads(meta.read_text())
    cal = root / "calibration" / arm
    if not finished(cal):
        train(command(arm, CALIBRATION_STEPS, 100), cal, threads)
    # step -> CPU seconds at the validations every 100 steps (not the extra one at the end)
    cpu = {k: v for k, v in cpu_seconds(cal).items() if (k + 1) % 100 == 0}
    first, last = min(cpu), max(cpu)
    per_step = (cpu[last] - cpu[first]) / (last - first)  # CPU seconds per step, steady state
    fixed = max(0.0, cpu[first] - (first + 1) * per_step)  # compiling, first validation
    steps = int((minutes * 60 - fixed) / per_step)
    every = max(1, steps // VALIDATIONS)
    print(f"{time.strftime('%T')} {arm}: {per_step:.3f} CPU-s/step -> {steps} steps", flush=True)
    train(command(arm, steps, every), out, threads)
    net = OmegaConf.load(out / ".hydra" / "config.yaml").model.net  # what the run trained
    record = {"dir": str(out), "steps": steps, "cpu_s_per_step": per_step,
              "net": OmegaConf.to_container(net, resolve=True)}
    meta.write_text(json.dumps(record, indent=1))
    return record


def main(argv: list[str] | None = None) -> None:
    a = parse_kv("body_study.py", {"arms": SHAPES, "minutes": 15.0, "jobs": 2, "threads": 1,
                                   "out": "logs/body_study", "run": True, "marks": [4, 8, 12]},
                 sys.argv[1:] if argv is None else argv)
    unknown = [x for x in a["arms"] if x not in ARMS]
    if unknown:
        raise SystemExit(f"body_study.py: unknown arms {unknown}; arms: {list(ARMS)}")
    root = ROOT / a["out"]
    root.mkdir(parents=True, exist_ok=True)
    records = {}
    if a["run"]:
        records = run_all({arm: (lambda arm=arm: run_arm(arm, root, a["minutes"], a["threads"]))
                           for arm in a["arms"]}, a["jobs"])
    else:
        for arm in a["arms"]:
            meta, cfg = root / f"{arm}.json", root / arm / ".hydra" / "config.yaml"
            if meta.is_file():
                records[arm] = json.loads(meta.read_text())
            elif cfg.is_file():  # a run stopped before its budget: its curve so far
                net = OmegaConf.to_container(OmegaConf.load(cfg).model.net, resolve=True)
                records[f"{arm} (stopped)"] = {"dir": str(root / arm), "net": net}
    if not records:
        raise SystemExit("body_study.py: no finished arm to report")
    text = report(records, a["marks"])
    (root / "report.md").write_text(text + "\n")
    figure(records, root / "curves.png")
    print(text)


if __name__ == "__main__":
    main()
