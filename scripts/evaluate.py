"""Score a checkpoint and the nearest / bilinear / bicubic baselines on benchmark sets.

    python scripts/evaluate.py ckpt_path=<ckpt> data_root=<dir> datasets=[Set5,Set14,BSD100] \\
        out_dir=<dir>
    python scripts/evaluate.py data_root=../shared/datasets scales=[2,3,4] lr=make   # baselines

Keys (``key=value``, lists as ``[a,b]``):

* ``ckpt_path``  Lightning ``.ckpt`` or plain ``.pt`` (see ``srnet.io.checkpoints``); null: baselines
* ``data_root``  folder holding ``benchmark/<set>`` (or ``<set>``) and ``DIV2K``; default
  ``$SRNET_DATA`` or ``../shared/datasets`` next to the project
* ``datasets``   set names (``Set5``, ``Set14``, ``BSD100``, ``Urban100``, ..., ``DIV2K``)
* ``scales``     SR factors; default ``[2,3,4]`` without a checkpoint, the checkpoint's scale with one
* ``lr``         ``given`` (the sets' LR files) or ``make`` (LR made by srnet's degradation)
* ``methods``    baselines to score (default ``[nearest,bilinear,bicubic]``)
* ``degradation``, ``device`` (``auto``, ``cpu``, ``cuda``), ``out_dir`` (default
  ``logs/evaluate/<date>_<time>``)

Prints a Markdown table (rows: methods, columns: dataset x scale, cells PSNR / SSIM) with the
protocol under it, and writes ``results.json`` (a list of records), ``results.csv`` and
``results.md`` to ``out_dir``.
"""

from __future__ import annotations

import csv
import json
import os
import sys
import time
from pathlib import Path

import torch
from tqdm import tqdm

from srnet.cli import parse_kv
from srnet.data.preflight import preflight
from srnet.infer.evaluate import check_lr_mode, dataset_source, evaluate, protocol_text
from srnet.io import tables
from srnet.ops.degrader import Degrader
from srnet.ops.resize import BASELINES

ROOT = Path(__file__).resolve().parents[1]
FIELDS = ("dataset", "scale", "method", "psnr", "ssim", "images")


def defaults() -> dict:
    return {
        "ckpt_path": None,
        "data_root": os.environ.get("SRNET_DATA", str(ROOT.parent / "shared" / "datasets")),
        "datasets": ["Set5", "Set14", "BSD100"],
        "scales": None,
        "lr": "given",
        "methods": list(BASELINES),
        "degradation": "bicubic",
        "device": "auto",
        "out_dir": None,
    }


def parse_args(argv: list[str]) -> dict:
    """``key=value`` arguments over :func:`defaults`; errors name the key and the allowed ones."""
    args = parse_kv("evaluate.py", defaults(), argv)
    for key in ("datasets", "methods"):
        if isinstance(args[key], str):
            args[key] = [args[key]]
    if isinstance(args["scales"], int):
        args["scales"] = [args["scales"]]
    check_lr_mode(args["lr"])
    Degrader(args["degradation"])
    unknown = [m for m in args["methods"] if m not in BASELINES]
    if unknown:
        raise SystemExit(f"methods: {unknown} unknown; choose from {list(BASELINES)}")
    return args


def markdown_table(rows: list[dict], methods: list[str], columns: list[tuple[str, int]]) -> str:
    """Rows: methods; columns: (dataset, scale); cells ``PSNR / SSIM`` (``-`` where not scored)."""
    cell = {(r["method"], r["dataset"], r["scale"]): f"{r['psnr']:.2f} / {r['ssim']:.4f}"
            for r in rows}
    return tables.markdown_table(["method", *(f"{d} x{s}" for d, s in columns)],
                                 [[m, *(cell.get((m, d, s)) for d, s in columns)] for m in methods])


def write_results(rows: list[dict], out_dir: Path, table: str) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(rows, indent=2) + "\n")
    with open(out_dir / "results.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    (out_dir / "results.md").write_text(table + "\n")


def main(argv: list[str]) -> list[dict]:
    """Run the evaluation described by ``argv``; returns the result records."""
    args = parse_args(argv)
    device = args["device"]
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    net = None
    if args["ckpt_path"]:
        from srnet.io.checkpoints import (
            load_net,  # written with `infer.py`; only needed with a model
        )

        net = load_net(args["ckpt_path"], map_location="cpu")
    scales = args["scales"] or ([net.cfg.scale] if net is not None else [2, 3, 4])
    methods = [*args["methods"], *(["model"] if net is not None else [])]
    out_dir = Path(args["out_dir"] or ROOT / "logs" / "evaluate" / time.strftime("%Y-%m-%d_%H-%M-%S"))

    rows, columns = [], []
    for name in args["datasets"]:
        for s in scales:
            source = dataset_source(args["data_root"], name, s, args["lr"])
            records = preflight({name: source.records()}, s)[name]
            model = net if net is not None and net.cfg.scale == s else None
            bar = tqdm(records, desc=f"{name} x{s}", leave=False, file=sys.stderr)
            scores = evaluate(model, bar, s, args["lr"], args["degradation"], args["methods"], device)
            columns.append((name, s))
            rows += [{"dataset": name, "scale": s, "method": m, **scores[m]}
                     for m in methods if m in scores]

    table = markdown_table(rows, methods, columns)
    notes = protocol_text(args["lr"], args["degradation"])
    source = f"data: {args['data_root']}; checkpoint: {args['ckpt_path'] or 'none (baselines only)'}"
    text = f"{table}\n\n{notes}\n{source}"
    print(text)
    write_results(rows, out_dir, text)
    print(f"\nwrote {out_dir / 'results.json'}, results.csv and results.md")
    return rows


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except (FileNotFoundError, ValueError, OSError) as e:  # bad paths / layouts: no traceback
        sys.exit(f"evaluate.py: error: {e}")
