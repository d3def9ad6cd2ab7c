"""Checkerboard figures and scores (see ``srnet.analysis.checkerboard``).

    python scripts/checkerboard.py                                  # overlap maps + baselines
    python scripts/checkerboard.py --ckpt logs/train/.../last.ckpt  # + that network's score

Writes to ``--out`` (default ``logs/checkerboard``):

* ``overlap_maps.png`` (or ``--overlap``) -- taps per output pixel of a transposed convolution
  for each ``--pairs`` (kernel, stride): uniform when kernel % stride == 0, periodic otherwise;
* ``pattern_<name>.png`` -- the stride-periodic pattern on flat inputs (grey levels) of each
  scored upsampler: the baselines, untrained deconvolution tails (k % s == 0 with srnet's smooth
  init; k % s != 0 with the paper's N(0, 0.001) init and with the smooth, phase-normalised init)
  and, with ``--ckpt``, the checkpoint's network.

and prints the scores (8-bit grey levels of the periodic part of SR - bicubic; 0 = none).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from srnet.analysis.checkerboard import (
    baseline_checkerboard,
    net_checkerboard,
    overlap_figure,
    pattern_figure,
)
from srnet.nets.fsrcnn import FSRCNN
from srnet.nets.tails import default_kernel
from srnet.ops.resize import BASELINES

ROOT = Path(__file__).resolve().parents[1]


def pair(text: str) -> tuple[int, int]:
    try:
        k, s = (int(v) for v in text.split(","))
    except ValueError as e:
        msg = f"--pairs wants kernel,stride like 9,3; got {text!r}"
        raise argparse.ArgumentTypeError(msg) from e
    return k, s


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--pairs", type=pair, nargs="+",
                   default=[(8, 2), (9, 3), (12, 4), (9, 2), (7, 3), (3, 2)])
    p.add_argument("--ckpt", default=None, help="a checkpoint or weights file to score")
    p.add_argument("--scale", type=int, default=3, help="scale of the untrained demo tails")
    p.add_argument("--out", type=Path, default=ROOT / "logs" / "checkerboard")
    p.add_argument("--overlap", type=Path, default=None,
                   help="path of the overlap-map figure (default <out>/overlap_maps.png)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    overlap = args.overlap or args.out / "overlap_maps.png"
    overlap.parent.mkdir(parents=True, exist_ok=True)
    overlap_figure(args.pairs).save(overlap, optimize=True)

    s = args.scale
    k_even, k_odd = default_kernel(s), default_kernel(s) - 2
    scored = {b: baseline_checkerboard(b, s) for b in BASELINES}
    torch.manual_seed(args.seed)
    scored[f"untrained deconv k={k_even}"] = net_checkerboard(FSRCNN(scale=s, tail_kernel=k_even))
    for init in ("gaussian", "smooth"):
        torch.manual_seed(args.seed)
        scored[f"untrained deconv k={k_odd} {init}"] = net_checkerboard(
            FSRCNN(scale=s, tail_kernel=k_odd, allow_checkerboard=True, tail_init=init))
    if args.ckpt:
        from srnet.io.checkpoints import (
            load_net,  # lazily: the checkpoint module is only needed here
        )

        net = load_net(args.ckpt)
        scored[f"{Path(args.ckpt).name} ({net.cfg.tail}, x{net.cfg.scale})"] = net_checkerboard(net)

    print(f"{'upsampler':<44} {'score':>8} {'flat':>8} {'ramp':>8}   (8-bit grey levels)")
    for name, r in scored.items():
        print(f"{name:<44} {r.score:8.3f} {r.flat:8.3f} {r.smooth:8.3f}")
        slug = "".join(c if c.isalnum() else "_" for c in name).strip("_")
        pattern_figure(r, name).save(args.out / f"pattern_{slug}.png")
    print(f"\nfigures: {overlap}, {args.out}/pattern_*.png")


if __name__ == "__main__":
    main()
