"""Training runs side by side: last and best-holdout validation PSNR and CPU-hours of each.

    python scripts/runs_table.py root=logs/ablation
    python scripts/runs_table.py 'runs=[logs/ablation/base,logs/ablation/skip_none]' \\
        sets=[holdout,Set5,Set14] select=holdout out=logs/ablation/table.md

Keys (``key=value``):

* ``root``    a folder whose sub-folders are runs (those with TensorBoard events)
* ``runs``    run folders, in the order to list them (instead of, or after, ``root``'s)
* ``sets``    validation sets to show (default ``[holdout,Set5,Set14]``)
* ``select``  the set that picks each run's best validation (default ``holdout``; never a test set)
* ``out``     also write the table to this Markdown file (refuses to overwrite one)
"""

from __future__ import annotations

import sys
from pathlib import Path

from kvargs import parse_kv

from srnet.analysis.runs import run_dirs, summarise, table


def main(argv: list[str] | None = None) -> str:
    args = parse_kv("runs_table.py", {"root": None, "runs": [], "sets": ["holdout", "Set5", "Set14"],
                                      "select": "holdout", "out": None},
                    sys.argv[1:] if argv is None else argv)
    runs = [*(run_dirs(args["root"]) if args["root"] else []), *map(Path, args["runs"])]
    if not runs:
        raise SystemExit("runs_table.py: give root=<folder of runs> or runs=[<run>, ...]")
    if args["out"] and Path(args["out"]).exists():
        raise SystemExit(f"runs_table.py: {args['out']} exists; give another out= (nothing written)")
    text = table([summarise(r, args["sets"], args["select"]) for r in runs], args["sets"],
                 args["select"])
    print(text)
    if args["out"]:
        Path(args["out"]).parent.mkdir(parents=True, exist_ok=True)
        Path(args["out"]).write_text(text + "\n")
    return text


if __name__ == "__main__":
    main()
