"""Score checkpoints and the nearest / bilinear / bicubic baselines on image sets, clean or degraded.

    python scripts/evaluate.py ckpt_path=<ckpt> datasets=[Set5,Set14,BSD100] out_dir=<dir>
    python scripts/evaluate.py 'ckpt_path=[x2,x2-real]' datasets=[Set14,BSD100] \\
        'degradation=[bicubic,jpeg_q75,jpeg_q50,noise]'
    python scripts/evaluate.py ckpt_path=x2 'denoise=[0,0.5,1]' datasets=[holdout] \\
        'degradation=[bicubic,jpeg,jpeg_q75,jpeg_q50]'         # along the denoise knob
    python scripts/evaluate.py data_root=../shared/datasets scales=[2,3,4] lr=make   # baselines

Keys (``key=value``, lists as ``[a,b]``):

* ``ckpt_path``   a Lightning ``.ckpt``, a ``.pt``, a bundled name (``x2``, ``x2-real``, ...), or a
  list of them (each a row, named by it); null: baselines only
* ``peers``       tiny-SR peers from ``../shared/peers/tiny-sr`` scored the same way (RGB in
  and out, output rounded to 8 bit), e.g. ``[ECBSR-M4C16,ETDS-M5C16]``: a row per peer and scale
* ``data_root``   folder holding ``benchmark/<set>`` (or ``<set>``), ``T91``, ``BSDS500``, ``DIV2K``;
  default ``$SRNET_DATA`` or ``../shared/datasets`` next to the project
* ``datasets``    set names (``Set5``, ``Set14``, ``BSD100``, ``Urban100``, ..., ``DIV2K``,
  ``holdout``: every 10th training image, the recipes' validation split) or image folders
* ``scales``      SR factors; default ``[2,3,4]`` without a checkpoint, the checkpoints' scales
* ``degradation`` a preset of ``configs/degradation/`` or a list (default ``bicubic``); LR made
  from HR by it, seeded by each image's name
* ``denoise``     strengths (0..1) to score each checkpoint at, blended with ``real`` (the
  weights interpolated as ``denoise=`` does in infer.py): rows ``<name>@<strength>``
* ``real``        the real-photo partner for ``denoise`` (default: ``<bundled name>-real``)
* ``lr``          ``given`` (the sets' LR files, under ``bicubic``) or ``make`` (always made)
* ``methods``     baselines to score (default ``[nearest,bilinear,bicubic]``)
* ``device`` (``auto``, ``cpu``, ``cuda``), ``out_dir`` (default ``logs/evaluate/<date>_<time>``)

Prints a Markdown table (rows: methods, columns: dataset x scale [x degradation], cells PSNR /
SSIM) with the protocol under it, and writes ``results.json``, ``results.csv`` and
``results.md`` to ``out_dir``. The work is done by :mod:`srnet.analysis.evaluation`.
"""

from __future__ import annotations

import csv
import json
import os
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import torch
from kvargs import parse_kv
from tqdm import tqdm

from srnet.analysis.evaluation import check_lr_mode, evaluate_sets, protocol_text, results_table
from srnet.io.checkpoints import load_net
from srnet.io.presets import degradation_preset
from srnet.ops.resize import BASELINES

ROOT = Path(__file__).resolve().parents[1]
FIELDS = ("dataset", "scale", "degradation", "method", "psnr", "ssim", "images")


def defaults() -> dict:
    return {"ckpt_path": None,
            "data_root": os.environ.get("SRNET_DATA", str(ROOT.parent / "shared" / "datasets")),
            "datasets": ["Set5", "Set14", "BSD100"], "scales": None, "lr": "given",
            "methods": list(BASELINES), "degradation": "bicubic", "device": "auto",
            "out_dir": None, "denoise": None, "real": None, "peers": []}


def parse_args(argv: list[str]) -> dict:
    """``key=value`` arguments over :func:`defaults`; errors name the key and the allowed ones."""
    args = parse_kv("evaluate.py", defaults(), argv)
    for key in ("datasets", "methods", "degradation", "ckpt_path", "scales", "denoise", "peers"):
        if args[key] is not None and not isinstance(args[key], list):
            args[key] = [args[key]]
    check_lr_mode(args["lr"])
    for name in args["degradation"]:
        degradation_preset(name)  # unknown names list the presets
    unknown = [m for m in args["methods"] if m not in BASELINES]
    if unknown:
        raise SystemExit(f"methods: {unknown} unknown; choose from {list(BASELINES)}")
    return args


class Peer(torch.nn.Module):
    """A tiny-SR peer as evaluation sees a network: ``cfg.scale``, RGB in and out."""

    def __init__(self, net: torch.nn.Module, scale: int) -> None:
        super().__init__()
        self.net, self.cfg = net, SimpleNamespace(scale=scale, color_mode="rgb")

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, 3, h, w) -> (N, 3, s*h, s*w)
        return self.net(x).clamp(0, 1)


def peer_nets(names: list[str], scales: list[int]) -> dict[str, torch.nn.Module]:
    """``<peer> x<s>`` -> the peer at that scale; SystemExit naming a peer whose files are absent."""
    from srnet.benchmarks.peers import TINY_BUILD, tiny_sr_net

    nets = {}
    for name in names:
        if name not in TINY_BUILD:
            raise SystemExit(f"peers: {name!r} unknown; choose from {sorted(TINY_BUILD)}")
        for s in scales:
            net = tiny_sr_net(name, s)
            if net is None:
                raise SystemExit(f"peers: no {name} x{s} weights under ../shared/peers/tiny-sr")
            nets[f"{name} x{s}"] = Peer(net, s)
    return nets


def write_results(rows: list[dict], out_dir: Path, text: str) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(rows, indent=2) + "\n")
    with open(out_dir / "results.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    (out_dir / "results.md").write_text(text + "\n")


def labels(sources: list) -> list[str]:
    """A column name per checkpoint: its file stem, with as many parent folders as it takes to
    tell apart sources whose stems clash (``run_a/checkpoints/last`` and ``run_b/...``)."""
    parts = [Path(str(s)).with_suffix("").parts for s in sources]
    for k in range(1, max(map(len, parts), default=1) + 1):
        names = ["/".join(p[-k:]) for p in parts]
        if len(set(names)) == len(names):
            return names
    return [f"{n} ({i + 1})" for i, n in enumerate(names)]  # the same file given twice


def main(argv: list[str]) -> list[dict]:
    """Run the evaluation described by ``argv``; returns the result records."""
    a = parse_args(argv)
    device = a["device"] if a["device"] != "auto" else "cuda" if torch.cuda.is_available() else "cpu"
    sources = a["ckpt_path"] or []
    names = ["model"] if len(sources) == 1 else labels(sources)
    nets = {name: load_net(s) for name, s in zip(names, sources, strict=True)}
    if a["denoise"]:  # the clean-to-real knob: each checkpoint blended at each strength
        from srnet.nets.blend import blend

        nets = {f"{name}@{float(t):g}": blend(net, load_net(a["real"] or f"{s}-real"), float(t))
                for s, name, net in zip(sources, labels(sources), nets.values(), strict=True)
                for t in a["denoise"]}
    scales = a["scales"] or sorted({n.cfg.scale for n in nets.values()}) or [2, 3, 4]
    nets.update(peer_nets(a["peers"], scales))
    out_dir = Path(a["out_dir"] or ROOT / "logs" / "evaluate" / time.strftime("%Y-%m-%d_%H-%M-%S"))
    rows = evaluate_sets(nets, a["data_root"], a["datasets"], scales, a["degradation"], a["lr"],
                         a["methods"], device,
                         lambda recs, desc: tqdm(recs, desc=desc, leave=False, file=sys.stderr))
    text = (f"{results_table(rows)}\n\n{protocol_text(a['lr'])}\n"
            f"data: {a['data_root']}; checkpoint: {', '.join(map(str, sources)) or 'none'}")
    print(text)
    write_results(rows, out_dir, text)
    print(f"\nwrote {out_dir / 'results.json'}, results.csv and results.md")
    return rows


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except (FileNotFoundError, ValueError, OSError) as e:  # bad paths / layouts: no traceback
        sys.exit(f"evaluate.py: error: {e}")
