"""What training runs reached, side by side: each run's last and best-holdout validation, and CPU time.

Read off the runs' TensorBoard events (``val/<set>/psnr``, ``time/cpu_hours``); the best row is
chosen on ``select`` (the holdout) only, never on a test set. Used for the recipe A/Bs in
docs/training.md: ``python scripts/runs_table.py root=logs/ablation``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from srnet.analysis.curves import read_scalars
from srnet.io.tables import markdown_table


def run_dirs(root: str | Path) -> list[Path]:
    """The run directories under ``root`` (those holding TensorBoard events), sorted by name."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such folder of runs")
    runs = sorted(p for p in root.iterdir() if p.is_dir() and any(p.rglob("events.out.tfevents.*")))
    if not runs:
        raise FileNotFoundError(f"{root}: no run folder with TensorBoard events in it")
    return runs


def summarise(run: str | Path, sets: Sequence[str] = ("holdout", "Set5", "Set14"),
              select: str = "holdout") -> dict:
    """One run: ``steps``, ``cpu_hours`` (at its last validation), ``last`` and ``best`` (set ->
    PSNR at the last validation / at the best ``select`` one) and ``best_step``."""
    tags = {s: f"val/{s}/psnr" for s in dict.fromkeys([select, *sets])}
    data = read_scalars(run, [*tags.values(), "time/cpu_hours"])
    chosen = data[tags[select]]
    if not chosen:
        raise ValueError(f"{run}: no {tags[select]} logged, so no checkpoint can be chosen by it")
    by_step = {s: {e[0]: e[2] for e in data[t]} for s, t in tags.items()}
    last_step = chosen[-1][0]
    best_step = max(chosen, key=lambda e: (e[2], -e[0]))[0]  # the earliest of equal bests
    cpu = data["time/cpu_hours"]
    return {"run": Path(run).name, "steps": last_step,
            "cpu_hours": cpu[-1][2] if cpu else None, "best_step": best_step,
            "last": {s: by_step[s].get(last_step) for s in sets},
            "best": {s: by_step[s].get(best_step) for s in sets}}


def table(rows: Sequence[dict], sets: Sequence[str] = ("holdout", "Set5", "Set14"),
          select: str = "holdout") -> str:
    """Markdown table of :func:`summarise` rows: last validation, then the best-``select`` one."""

    def db(v: float | None) -> str:
        return "-" if v is None else f"{v:.3f}"

    head = ["run", "steps", "CPU-hours", *(f"{s} (last)" for s in sets),
            f"best {select} at step", *(f"{s} (best {select})" for s in sets)]
    body = [[r["run"], r["steps"], "-" if r["cpu_hours"] is None else f"{r['cpu_hours']:.3f}",
             *(db(r["last"][s]) for s in sets), r["best_step"], *(db(r["best"][s]) for s in sets)]
            for r in rows]
    return markdown_table(head, body)
