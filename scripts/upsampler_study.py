"""The upsampler study: the same FSRCNN body with five upsampling tails, trained on one budget.

    OMP_NUM_THREADS=2 python scripts/upsampler_study.py --figure docs/figures/upsampler_study.png

Trains ``configs/experiment/study_<name>.yaml`` for every name in ``--tails`` through
``srnet.train.run.train`` (x3, T91, validated on Set5 and Set14; the budget is in
``configs/experiment/study.yaml``), then writes to ``--out``:

* ``table.md`` -- Y-PSNR per validation set of the final weights, checkerboard score
  (``srnet.analysis.checkerboard``, 8-bit levels), parameters, and ms per output megapixel on this machine
  (one image, ``--threads`` threads), next to the nearest / bilinear / bicubic baselines;
* ``results.json`` -- the same numbers; ``<name>/`` -- each run (TensorBoard logs, checkpoints);
* the figure (``--figure``): crops of the validation images side by side, and the response of
  each method to a flat grey input, amplified (a checkerboard shows up there).

``--reuse`` skips training for tails whose ``<out>/<name>/metrics.json`` exists.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import hydra
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import open_dict

from srnet.analysis.checkerboard import (
    baseline_checkerboard,
    labelled_row,
    net_checkerboard,
    stack,
    titled,
)
from srnet.nets import build_net
from srnet.ops.color import rgb_to_y
from srnet.ops.degradation import BASELINES, degrade, upscale
from srnet.ops.metrics import psnr
from srnet.train.run import train

ROOT = Path(__file__).resolve().parents[1]
TAILS = ("deconv", "deconv_uneven", "pixelshuffle", "resize_conv", "bed_of_nails")


def compose_study(name: str, run_dir: Path, overrides: list[str]):
    """Compose ``train.yaml`` with ``experiment=study_<name>``, as ``python train.py`` would."""
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(ROOT / "configs"), version_base="1.3"):
        cfg = compose("train", overrides=[f"experiment=study_{name}", f"hydra.run.dir={run_dir}",
                                          *overrides], return_hydra_config=True)
    with open_dict(cfg):
        cfg.hydra.runtime.output_dir, cfg.hydra.runtime.cwd = str(run_dir), str(ROOT)
        cfg.hydra.job.num = 0
    HydraConfig.instance().set_config(cfg)
    return cfg


def ms_per_megapixel(fn, lr: torch.Tensor, scale: int, repeats: int = 5) -> float:
    """Median time of ``fn(lr)`` per output megapixel, after one warm-up call."""
    with torch.no_grad():
        fn(lr)
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            fn(lr)
            times.append(time.perf_counter() - t)
    megapixels = lr.shape[-2] * lr.shape[-1] * scale * scale / 1e6
    return 1000 * statistics.median(times) / megapixels


def pick_crops(val_set, scale: int, n: int, size: int) -> list[dict]:
    """The ``n`` images' HR crops (``size`` HR pixels) where bicubic errs most, one per image."""
    found = []
    for i in range(len(val_set)):
        item = val_set[i]
        hr = rgb_to_y(item["hr"][None].float() / 255)  # (1, 1, H, W)
        lr = rgb_to_y(item["lr"][None].float() / 255) if "lr" in item else degrade(hr, scale)
        err = (upscale(lr, scale, "bicubic") - hr).abs()
        err = torch.nn.functional.avg_pool2d(err, size, stride=scale)  # per candidate crop
        best = int(err.flatten().argmax())
        top, left = divmod(best, err.shape[-1])
        found.append((float(err.max()), item["name"], lr, hr, top, left))  # top, left in LR pixels
    found.sort(key=lambda f: -f[0])
    return [dict(name=f[1], lr=f[2], hr=f[3], top=f[4], left=f[5]) for f in found[:n]]


def flat_row(methods: dict, scale: int, size: int, gain: float, label: str):
    """Each method's response to flat grey 0.5, minus its mean, times ``gain``, around 0.5."""
    m, c = 12, size // scale  # LR context around the flat patch, LR side of the tile
    flat = torch.full((1, 1, c + 2 * m, c + 2 * m), 0.5)
    tiles = [torch.full((1, 1, size, size), 0.5)]
    for fn in methods.values():
        with torch.no_grad():
            out = fn(flat)[..., scale * m : scale * m + size, scale * m : scale * m + size]
        tiles.append((out - out.mean()) * gain + 0.5)
    labels = [f"{label}\nminus mean, x{gain:g}", *(f"{name}\n" for name in methods)]
    return labelled_row(tiles, labels, zoom=2)  # two-line labels keep the tiles aligned


def figure(methods: dict, crops: list[dict], scale: int, size: int, gain: float = 30.0,
           init_methods: dict | None = None):
    """Rows: each crop (HR first, Y-PSNR of the crop in the label), then the flat-grey response
    of the trained methods and (``init_methods``) of the same networks untrained."""
    rows = []
    for cr in crops:
        t, le = cr["top"], cr["left"]
        hr = cr["hr"][..., scale * t : scale * t + size, scale * le : scale * le + size]
        tiles, labels = [hr], [f"HR\n{cr['name']}"]
        for name, fn in methods.items():
            with torch.no_grad():
                sr = fn(cr["lr"]).clamp(0, 1)[..., scale * t : scale * t + size,
                                               scale * le : scale * le + size]
            tiles.append(sr)
            labels.append(f"{name}\n{float(psnr(sr, hr, 0)):.2f} dB")
        rows.append(labelled_row(tiles, labels, zoom=2))
    for label, fns in (("trained", methods), ("at init", init_methods or {})):
        if fns:
            rows.append(flat_row(fns, scale, size, gain, f"flat grey {label}"))
    return titled(stack(rows, axis=0, gap=8),
                  f"x{scale}: crops where bicubic errs most (Y, Y-PSNR of the crop); the response "
                  f"to a flat grey input minus its mean, x{gain:g}, trained and at init", size=13)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tails", default=",".join(TAILS), help=f"comma-separated, from {TAILS}")
    p.add_argument("--out", type=Path, default=ROOT / "logs" / "study")
    p.add_argument("--figure", type=Path, default=None, help="default: <out>/upsampler_study.png")
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    p.add_argument("--reuse", action="store_true", help="reuse runs that have metrics.json")
    p.add_argument("overrides", nargs="*",
                   help="Hydra overrides for every run, e.g. trainer.max_epochs=1")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    names = [t for t in args.tails.split(",") if t]
    unknown = set(names) - set(TAILS)
    if unknown:
        raise SystemExit(f"--tails: unknown {sorted(unknown)}; choose from {TAILS}")
    from srnet.io.checkpoints import load_net  # lazily: only needed once runs exist

    results, nets, cfg = {}, {}, None
    for name in names:
        run = args.out / name
        cfg = compose_study(name, run, args.overrides)
        if not (args.reuse and (run / "metrics.json").exists()):
            t = time.perf_counter()
            metrics = train(cfg)
            metrics["train_minutes"] = (time.perf_counter() - t) / 60
            (run / "metrics.json").write_text(json.dumps(metrics, indent=1))
        results[name] = json.loads((run / "metrics.json").read_text())
        nets[name] = load_net(run / "checkpoints" / "last.ckpt").eval()

    summarise(args, cfg, names, results, nets)


def untrained(net: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """A fresh network of the same configuration (what training started from, up to the seed)."""
    torch.manual_seed(seed)
    return build_net(net.cfg.to_dict()).eval()


def summarise(args, cfg, names: list[str], results: dict, nets: dict) -> None:
    """Write table.md, results.json and the figure from the trained runs."""
    scale, sets = int(cfg.scale), list(cfg.data.val)
    probe = torch.rand(1, 1, 128, 128)  # timing input: 128 x 128 LR (Y)
    rows = []
    for b in BASELINES:
        cb = baseline_checkerboard(b, scale)
        rows.append(dict(method=b, psnr=[results[names[0]][f"val/{s}/psnr_{b}"] for s in sets],
                         flat_init=None, flat=cb.flat, ramp=cb.smooth, params=0,
                         ms_per_mp=ms_per_megapixel(lambda x, b=b: upscale(x, scale, b), probe,
                                                    scale)))
    for name, net in nets.items():
        cb = net_checkerboard(net)
        rows.append(dict(method=name, psnr=[results[name][f"val/{s}/psnr"] for s in sets],
                         flat_init=net_checkerboard(untrained(net)).flat, flat=cb.flat,
                         ramp=cb.smooth, params=sum(q.numel() for q in net.parameters()),
                         ms_per_mp=ms_per_megapixel(net, probe, scale),
                         train_minutes=results[name].get("train_minutes")))

    head = (f"| method | {' | '.join(f'{s} PSNR' for s in sets)} | checkerboard flat, at init | "
            "flat, trained | ramp, trained | params | ms/MP | train min |")
    lines = [head, "|---" * (len(sets) + 7) + "|"]
    for r in rows:
        init = "-" if r["flat_init"] is None else f"{r['flat_init']:.3f}"
        minutes = f"{r['train_minutes']:.1f}" if r.get("train_minutes") else "-"
        lines.append(f"| {r['method']} | " + " | ".join(f"{v:.2f}" for v in r["psnr"])
                     + f" | {init} | {r['flat']:.3f} | {r['ramp']:.3f} | {r['params']:,} |"
                     + f" {r['ms_per_mp']:.0f} | {minutes} |")
    table = "\n".join(lines)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "table.md").write_text(table + "\n")
    (args.out / "results.json").write_text(json.dumps(rows, indent=1))
    print(f"\nx{scale}, Y-PSNR dB of the final weights; checkerboard in 8-bit levels; "
          f"ms per output megapixel with {args.threads} thread(s):\n{table}")

    methods = {b: (lambda x, b=b: upscale(x, scale, b)) for b in BASELINES}
    methods.update(nets)
    dm = hydra.utils.instantiate(cfg.data)
    dm.setup("validate")
    crops = pick_crops(next(iter(dm.val_sets.values())), scale, 2, 16 * scale)
    fig_path = args.figure or args.out / "upsampler_study.png"
    fig_path.parent.mkdir(parents=True, exist_ok=True)
    init = {b: methods[b] for b in BASELINES} | {n: untrained(net) for n, net in nets.items()}
    figure(methods, crops, scale, 16 * scale, init_methods=init).save(fig_path, optimize=True)
    print(f"figure: {fig_path}\ntable:  {args.out / 'table.md'}")

if __name__ == "__main__":
    main()
