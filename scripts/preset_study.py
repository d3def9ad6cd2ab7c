"""Designing the ``photo`` degradation preset by measurement: the same fine-tune on candidates.

Each arm fine-tunes one clean checkpoint (``start``) for the same steps with one training
degradation (a preset plus overrides) by the real-photo recipe (``experiment=real_x<scale>``),
then every arm and the start are scored on the holdout
(every 10th training image, never a test set) under the evaluation degradations: clean
(``bicubic``), JPEG q90 / q75 / q50, noise, blur + noise + JPEG. The table ranks the arms by
their mean gain over bicubic on the degraded inputs and shows what each costs on clean ones.

    python scripts/preset_study.py start=x2 steps=2500
    python scripts/preset_study.py arms=[photo,jpeg_only] run=false      # the table only

Logs: ``<out>/<arm>.log``; table: ``<out>/report.md``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from arms import finished, run_all, train
from kvargs import parse_kv

from srnet.analysis.evaluation import evaluate_sets
from srnet.io.checkpoints import load_net
from srnet.io.tables import markdown_table

ROOT = Path(__file__).resolve().parents[1]
EVAL = ["bicubic", "jpeg", "jpeg_q75", "jpeg_q50", "noise", "blur_noise_jpeg"]
ARMS = {  # name -> overrides of the training degradation
    "bicubic": ["degradation=bicubic"],
    "jpeg_only": ["degradation=photo", "degradation.first.blur=null",
                  "degradation.first.noise=null"],
    "photo": ["degradation=photo"],  # bicubic resampling (measured against photo_mixed)
    "photo_mixed": ["degradation=photo", "degradation.first.resize.modes=[bicubic,bilinear,area]"],
    "photo_jpeg60": ["degradation=photo", "degradation.first.jpeg.p=0.6"],
    "photo_blur50": ["degradation=photo", "degradation.first.blur.p=0.5"],
    "photo_heavy": ["degradation=photo", "degradation.first.blur.p=0.5",
                    "degradation.first.noise.p=0.5", "degradation.first.noise.sigma=[1,12]",
                    "degradation.first.jpeg.p=0.9", "degradation.first.jpeg.quality=[30,95]"],
    "realesrgan": ["degradation=realesrgan"],
}


def fine_tune(arm: str, start: str, net: dict, steps: int, out: Path, threads: int) -> Path:
    """Fine-tune ``start`` (its config ``net``) on the arm's degradation; its last checkpoint."""
    if not finished(out):
        train([f"experiment=real_x{net['scale']}", f"model.init_from={start}",
               f"model.net.d={net['d']}", f"trainer.max_steps={steps}",
               "data.patches_per_epoch=64000", "~data.val.Set5", "~data.val.Set14",
               *ARMS[arm]], out, threads)
    return out / "checkpoints" / "last.ckpt"


def main(argv: list[str] | None = None) -> None:
    a = parse_kv("preset_study.py", {"arms": list(ARMS), "start": "x2", "steps": 2500,
                                     "jobs": 2, "threads": 1, "out": "logs/preset_study",
                                     "run": True, "data_root": str(ROOT.parent / "shared" /
                                                                   "datasets")},
                 sys.argv[1:] if argv is None else argv)
    unknown = [x for x in a["arms"] if x not in ARMS]
    if unknown:
        raise SystemExit(f"preset_study.py: unknown arms {unknown}; arms: {list(ARMS)}")
    root = ROOT / a["out"]
    start = load_net(a["start"])
    scale = start.cfg.scale
    ckpts = {arm: root / arm / "checkpoints" / "last.ckpt" for arm in a["arms"]}
    if a["run"]:
        net = start.cfg.to_dict()
        ckpts = run_all({arm: (lambda arm=arm: fine_tune(arm, a["start"], net, a["steps"],
                                                         root / arm, a["threads"]))
                         for arm in a["arms"]}, a["jobs"])
    nets = {"start": start, **{arm: load_net(c) for arm, c in ckpts.items() if c.is_file()}}
    rows = evaluate_sets(nets, a["data_root"], ["holdout"], [scale], EVAL)
    (root / "scores.json").write_text(json.dumps(rows, indent=1))
    psnr = {(r["method"], r["degradation"]): r["psnr"] for r in rows}
    table = []
    for name in nets:
        gains = [psnr[(name, d)] - psnr[("bicubic", d)] for d in EVAL]
        table.append([name, *(f"{g:+.2f}" for g in gains), f"{sum(gains[1:]) / (len(EVAL) - 1):+.3f}"])
    table.sort(key=lambda r: -float(r[-1]))
    head = ["arm", *(f"{d} gain" for d in EVAL), "mean degraded gain"]
    text = (f"x{scale}, holdout, gain over bicubic (dB) of each arm fine-tuned {a['steps']} steps "
            f"from {a['start']}:\n\n" + markdown_table(head, table))
    (root / "report.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
