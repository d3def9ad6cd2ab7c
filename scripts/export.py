"""Export a trained network to ONNX or TorchScript, with dynamic height and width.

    python scripts/export.py ckpt_path=<run.ckpt|weights.pt|x2> format=onnx out=fsrcnn_x2.onnx
    python scripts/export.py ckpt_path=<...> format=torchscript out=fsrcnn_x2.pt

Keys (``key=value``):

* ``ckpt_path``  a ``.ckpt`` / ``.pt`` (see ``srnet.io.checkpoints``) or a bundled name (required)
* ``format``     ``onnx`` or ``torchscript`` (traced)
* ``out``        output file (default ``<checkpoint stem>.<onnx|pt>`` in the current folder)
* ``opset``      ONNX opset (default 17)
* ``check``      run the exported file on a random 37x53 input and compare with PyTorch (true)

What is exported and how to feed it: see :mod:`srnet.deploy.export` (the network in deploy form, Y or
RGB in [0, 1], dynamic N/H/W, scale and colour mode in the metadata).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
from kvargs import parse_kv

from srnet.deploy.export import FORMATS, export_onnx, export_torchscript, run_exported
from srnet.io.checkpoints import load_net


def defaults() -> dict:
    return {"ckpt_path": None, "format": "onnx", "out": None, "opset": 17, "check": True}


def parse_args(argv: list[str]) -> dict:
    """``key=value`` arguments over :func:`defaults`; errors name the key and the allowed ones."""
    args = parse_kv("export.py", defaults(), argv)
    if not args["ckpt_path"]:
        raise SystemExit("export.py: ckpt_path=<run.ckpt|weights.pt|x2|x3|x4> is required")
    if args["format"] not in FORMATS:
        raise SystemExit(f"export.py: format={args['format']!r}; choose one of {FORMATS}")
    return args


def main(argv: list[str] | None = None) -> Path:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    net = load_net(args["ckpt_path"])
    suffix = ".onnx" if args["format"] == "onnx" else ".pt"
    out = Path(args["out"] or Path(str(args["ckpt_path"])).stem + suffix)
    out.parent.mkdir(parents=True, exist_ok=True)
    if args["format"] == "onnx":
        export_onnx(net, out, int(args["opset"]))
    else:
        export_torchscript(net, out)
    print(f"wrote {out} ({args['format']}, x{net.cfg.scale}, {net.cfg.color_mode}, "
          f"input lr (N, {net.cfg.channels}, H, W) in [0, 1], dynamic N/H/W)")
    if args["check"]:
        x = np.random.default_rng(0).random((1, net.cfg.channels, 37, 53), dtype=np.float32)
        with torch.no_grad():
            ref = net.float()(torch.from_numpy(x)).numpy()
        err = float(np.abs(run_exported(out, args["format"], x) - ref).max())
        print(f"check: max |exported - PyTorch| = {err:.2e} on a 37x53 input")
        if err > 1e-4:
            raise SystemExit(f"export.py: the exported model differs from PyTorch by {err:.2e}")
    return out


if __name__ == "__main__":
    main()
