"""Running the arms of a study: ``train.py`` runs, a few at a time, each logged to a file.

Scripts import it as ``from arms import run_all, train`` (``scripts/`` is on ``sys.path`` when one
of them runs). An arm that fails is named and the others go on.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def train(overrides: list[str], out: Path, threads: int) -> None:
    """``python train.py <overrides> hydra.run.dir=<out>`` on ``threads`` threads, logged to
    ``<out>.log``; RuntimeError naming the log when it fails."""
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "train.py", *overrides, f"hydra.run.dir={out}",
           "+trainer.enable_progress_bar=false"]
    with open(f"{out}.log", "w") as log:
        rc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT).returncode
    if rc:
        raise RuntimeError(f"{out.name}: train.py exited with {rc}; see {out}.log")


def finished(out: Path) -> bool:
    """Whether a run folder holds a finished run (its last checkpoint)."""
    return (out / "checkpoints" / "last.ckpt").is_file()


def run_all(arms: dict[str, Callable[[], object]], jobs: int) -> dict[str, object]:
    """Call every arm's function, ``jobs`` at a time; the results of those that did not fail
    (failures are printed with their arm's name)."""
    results = {}
    with ThreadPoolExecutor(jobs) as pool:
        futures = {name: pool.submit(fn) for name, fn in arms.items()}
        for name, f in futures.items():
            try:
                results[name] = f.result()
            except Exception as e:  # noqa: BLE001 - name the arm, go on with the others
                print(f"{name}: {e}", file=sys.stderr)
    return results
