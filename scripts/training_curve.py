"""Test-set PSNR against CPU-hours for training runs, with bicubic and the FSRCNN paper as lines.

    python scripts/training_curve.py \\
        'runs=[{scale:3,dir:logs/bundle/x3},{scale:2,dir:logs/bundle/x2,offset:2.3}]' \\
        out=docs/figures/bundle_curve.png

Keys (``key=value``):

* ``runs``   list of ``{scale, dir, cpu_hours, offset}``: a run directory (its TensorBoard
  events); CPU-hours come from the logged ``time/cpu_hours`` when the run has it, else
  ``cpu_hours`` (the run's measured total) is spread evenly over its steps; ``offset`` adds the
  CPU-hours spent before the run (e.g. the body it started from)
* ``sets``   validation sets to draw (default ``[Set5,Set14]``), one panel per set and scale
* ``out``    PNG to write (default ``docs/figures/bundle_curve.png``)

The points are whatever the runs logged (validation every epoch); nothing is chosen by them.
Prints a Markdown table of each run's last point.
"""

from __future__ import annotations

import sys

from kvargs import parse_kv

from srnet.analysis.curves import line_chart, read_scalars
from srnet.io.tables import markdown_table

# FSRCNN (Dong et al. 2016), d=56 s=12 m=4, Y-PSNR as published.
PAPER = {"Set5": {2: 37.00, 3: 33.16, 4: 30.71}, "Set14": {2: 32.63, 3: 29.43, 4: 27.59}}


def curve(run: dict, sets: list[str]) -> dict:
    tags = [f"val/{s}/psnr" for s in sets] + [f"val/{s}/psnr_bicubic" for s in sets]
    data = read_scalars(run["dir"], [*tags, "time/cpu_hours"])
    steps = {t: [e[0] for e in data[t]] for t in tags}
    last = max(max(v) for v in steps.values() if v)
    cpu = {e[0]: e[2] for e in data["time/cpu_hours"]}
    if not cpu and run.get("cpu_hours") is None:
        raise SystemExit(f"training_curve.py: {run['dir']} has no time/cpu_hours; give cpu_hours=")

    def hours(step: int) -> float:
        base = cpu.get(step, run["cpu_hours"] * step / last if not cpu else None)
        if base is None:  # nearest logged step
            base = cpu[min(cpu, key=lambda s: abs(s - step))]
        return base + float(run.get("offset") or 0)

    out = {"scale": int(run["scale"]), "steps": last}
    for s in sets:
        pts = data[f"val/{s}/psnr"]
        out[s] = ([hours(e[0]) for e in pts], [e[2] for e in pts])
        bic = data[f"val/{s}/psnr_bicubic"]
        out[f"{s}_bicubic"] = bic[-1][2] if bic else None
    return out


def main(argv: list[str] | None = None) -> None:
    args = parse_kv("training_curve.py", {"runs": [], "sets": ["Set5", "Set14"],
                                          "out": "docs/figures/bundle_curve.png"},
                    sys.argv[1:] if argv is None else argv)
    if not args["runs"]:
        raise SystemExit("training_curve.py: give runs=[{scale:3,dir:<run>,cpu_hours:<h>}, ...]")
    curves = sorted((curve(r, args["sets"]) for r in args["runs"]), key=lambda c: c["scale"])
    panels = []
    for s in args["sets"]:
        for c in curves:
            xs, ys = c[s]
            lines = [("paper", PAPER[s][c["scale"]])] if c["scale"] in PAPER.get(s, {}) else []
            if c[f"{s}_bicubic"] is not None:
                lines.append(("bicubic", c[f"{s}_bicubic"]))
            panels.append({"title": f"{s} x{c['scale']}: Y-PSNR (dB)", "xlabel": "CPU-hours",
                           "ylabel": "", "curves": [("srnet", xs, ys)], "lines": lines})
    print(f"wrote {line_chart(panels, args['out'], cols=len(curves))}")
    print(markdown_table(
        ["scale", "steps", "CPU-hours", *(f"{s} dB" for s in args["sets"])],
        [[f"x{c['scale']}", c["steps"], f"{c[args['sets'][0]][0][-1]:.2f}",
          *(f"{c[s][1][-1]:.2f}" for s in args["sets"])] for c in curves]))


if __name__ == "__main__":
    main()
