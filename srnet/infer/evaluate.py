"""Scoring a network and the fixed-rule baselines on a set of HR (and optional LR) images.

Used by ``scripts/evaluate.py`` and ``infer.py mode=evaluate``; the protocol is the one of
:mod:`srnet.ops.metrics` and the same as training's validation (``srnet.ops.scoring.score``), so a
checkpoint's ``val/<set>/psnr`` and its evaluation here agree:

* HR is mod-cropped to a multiple of the scale; LR is the set's given file (``lr="given"``) or
  made from HR by srnet's degradation (``lr="make"``);
* PSNR / SSIM on Y (BT.601 studio range), ``scale`` pixels of border cropped, the output rounded
  to 8 bit, mean over images. A ``y`` model is scored on its own luma output (as the FSRCNN
  paper's code does), an ``rgb`` model on the Y of its RGB output.

Run a quick check: ``python -m srnet.infer.evaluate <benchmark set folder> [scale]`` prints the
baselines' scores with the given LR files.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import torch
from torch import Tensor, nn

from srnet.data.sources import DIV2K, PairedBenchmark, Record
from srnet.infer.upscaler import to_net_space
from srnet.io.images import to_tensor
from srnet.ops.degrader import Degrader, seeded
from srnet.ops.resize import BASELINES, mod_crop
from srnet.ops.scoring import score

LR_MODES = ("given", "make")
PROTOCOL = (
    "PSNR (dB) / SSIM on the Y channel (ITU-R BT.601, studio range 16-235), {scale_note}, SR "
    "output rounded to 8 bit, mean over the images of each set; HR mod-cropped to a multiple of "
    "the scale. LR: {lr_note}. Baselines: nearest; bilinear (align_corners=False); bicubic "
    "(antialiased kernel, a = -0.5, as MATLAB imresize).")
LR_NOTES = {
    "given": "the set's own LR files (MATLAB imresize bicubic)",
    "make": "made from HR by srnet's degradation ({degradation}: antialiased bicubic, a = -0.5, "
            "rounded to 8 bit)",
}


def protocol_text(lr: str, degradation: str = "bicubic") -> str:
    """One paragraph stating how the numbers were computed."""
    lr_note = LR_NOTES[check_lr_mode(lr)].format(degradation=degradation)
    return PROTOCOL.format(scale_note="a border of `scale` pixels cropped", lr_note=lr_note)


def check_lr_mode(lr: str) -> str:
    if lr not in LR_MODES:
        raise ValueError(f"lr={lr!r}: choose one of {LR_MODES}")
    return lr


def dataset_source(data_root: str | Path, name: str, scale: int, lr: str = "given"):
    """The source of an evaluation set by name, looked up under ``data_root``.

    ``DIV2K`` (or ``DIV2K_valid``) is DIV2K's validation split in ``data_root[/DIV2K]``; any other
    name is a paired benchmark set in ``data_root/benchmark/<name>`` or ``data_root/<name>``.
    """
    root, use_lr = Path(data_root).expanduser(), check_lr_mode(lr) == "given"
    if name.lower() in ("div2k", "div2k_valid"):
        div2k = root / "DIV2K" if (root / "DIV2K").is_dir() else root
        return DIV2K(div2k, "valid", scale, use_lr=use_lr)
    for folder in (root / "benchmark" / name, root / name):
        if folder.is_dir():
            return PairedBenchmark(folder, scale, use_lr=use_lr)
    raise FileNotFoundError(f"datasets: no set {name!r} under {root} (looked for "
                            f"{root / 'benchmark' / name} and {root / name})")


def load_pair(rec: Record, scale: int, lr: str = "given",
              degradation: str = "bicubic") -> tuple[Tensor, Tensor]:
    """LR (1, 3, h, w) and mod-cropped HR (1, 3, s*h, s*w), float RGB in [0, 1]."""
    hr = mod_crop(to_tensor(rec.load_hr()), scale)
    if check_lr_mode(lr) == "make":
        return Degrader(degradation)(hr, scale, seeded(str(rec.name))), hr
    if rec.lr is None:
        raise ValueError(f"{rec.hr}: no LR file to use with lr=given; use lr=make")
    low = to_tensor(rec.load_lr())
    if tuple(low.shape[-2:]) != (hr.shape[-2] // scale, hr.shape[-1] // scale):
        raise ValueError(f"{rec.lr}: LR is {low.shape[-1]}x{low.shape[-2]}, HR {rec.hr} mod-cropped "
                         f"to x{scale} is {hr.shape[-1]}x{hr.shape[-2]}")
    return low, hr


def evaluate(net: nn.Module | None, records: Iterable[Record], scale: int, lr: str = "given",
             degradation: str = "bicubic", methods: Sequence[str] = BASELINES,
             device: str | torch.device = "cpu") -> dict[str, dict[str, float]]:
    """Mean scores over ``records``: ``{method: {"psnr", "ssim", "images"}}``.

    Args:
        net: a network with ``cfg.scale`` and ``cfg.color_mode`` (FSRCNN), or None for the
            baselines alone; its row is called ``model``.
        records: the images (HR, plus LR files when ``lr="given"``).
        scale: SR factor; must be the network's.
        lr: ``given`` (the records' LR files) or ``make`` (srnet's degradation of HR).
        degradation: how LR is made when ``lr="make"``.
        methods: baseline methods to score, from ``srnet.ops.resize.BASELINES``.
        device: where the network and the images go.
    """
    if net is not None and net.cfg.scale != scale:
        raise ValueError(f"the network is for x{net.cfg.scale}, asked to evaluate at x{scale}")
    if net is not None:
        net = net.to(device).eval()
    sums: dict[str, list[float]] = {}
    count = 0
    for rec in records:
        low, hr = (t.to(device) for t in load_pair(rec, scale, lr, degradation))
        with torch.no_grad():
            sr = None if net is None else net(to_net_space(low, net.cfg.color_mode))
        for method, values in score(sr, low, hr, scale, methods).items():
            acc = sums.setdefault(method, [0.0, 0.0])
            acc[0], acc[1] = acc[0] + float(values["psnr"]), acc[1] + float(values["ssim"])
        count += 1
    if count == 0:
        raise ValueError("evaluate: no images")
    return {m: {"psnr": p / count, "ssim": q / count, "images": count} for m, (p, q) in sums.items()}


if __name__ == "__main__":
    import sys

    folder, s = Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 2
    for method, r in evaluate(None, PairedBenchmark(folder, s).records(), s).items():
        print(f"{folder.name} x{s} {method:8s} {r['psnr']:.2f} dB  SSIM {r['ssim']:.4f}")
