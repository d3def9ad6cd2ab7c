"""Export a trained network as one RGB -> RGB model file: ONNX, TorchScript or ncnn.

    python scripts/export.py ckpt_path=x2 format=onnx out=srnet_x2.onnx
    python scripts/export.py ckpt_path=run.ckpt format=ncnn out=models/srnet-x3.param
    python scripts/export.py ckpt_path=x4 format=torchscript io=y out=fsrcnn_x4_y.pt

Keys (``key=value``):

* ``ckpt_path``  a ``.ckpt`` / ``.pt`` (see ``srnet.io.checkpoints``) or a bundled name (required)
* ``format``     ``onnx`` (default), ``torchscript`` (traced) or ``ncnn`` (``.param`` + ``.bin``
  through pnnx, blobs ``data`` / ``output``)
* ``io``         ``rgb`` (default): RGB (N, 3, H, W) in [0, 1] -> RGB (N, 3, sH, sW) in [0, 1],
  colour conversion, bicubic chroma and merge inside; ``y``: the network alone (Y in, Y out
  for luma models), inputs ``lr`` -> ``sr``
* ``out``        output file (default ``<checkpoint stem>.onnx`` / ``.pt``; ncnn:
  ``models/srnet-x<s>.param``, the name upscayl reads the scale from)
* ``opset``      ONNX opset (default 17; OpenCV 4.x and 5.x read it)
* ``shuffle``    ONNX RGB files: ``depth`` (default; ``DepthToSpace``: onnxruntime, OpenCV 4.11+)
  or ``deconv`` (a one-hot transposed convolution, for OpenCV 4.8-4.10; docs/export.md)
* ``fp16``       ncnn: store the weights as fp16 (default false: fp32)
* ``check``      run the exported file on a crop of a photograph (37x53) and compare: with the
  exported module in PyTorch (1e-4), and for ``io=rgb`` with ``load_model(...).upscale``
  after rounding (1 grey level) (default true)

What is exported and how to feed it: :mod:`srnet.deploy.export`, :mod:`srnet.deploy.ncnn_export`
and docs/export.md (recipes for OpenCV, onnxruntime, chaiNNer, upscayl, Real-ESRGAN-ncnn-vulkan).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
from kvargs import parse_kv

from srnet.deploy.export import (
    FORMATS,
    IOS,
    SHUFFLES,
    export_module,
    export_onnx,
    export_torchscript,
)
from srnet.deploy.runtimes import rgb_blob, run_exported, to_uint8
from srnet.io.checkpoints import load_net


def defaults() -> dict:
    return {"ckpt_path": None, "format": "onnx", "io": "rgb", "out": None, "opset": 17,
            "shuffle": "depth", "fp16": False, "check": True}


def parse_args(argv: list[str]) -> dict:
    """``key=value`` arguments over :func:`defaults`; errors name the key and the allowed ones."""
    args = parse_kv("export.py", defaults(), argv)
    if not args["ckpt_path"]:
        raise SystemExit("export.py: ckpt_path=<run.ckpt|weights.pt|x2|x3|x4> is required")
    if args["format"] not in FORMATS:
        raise SystemExit(f"export.py: format={args['format']!r}; choose one of {FORMATS}")
    if args["io"] not in IOS:
        raise SystemExit(f"export.py: io={args['io']!r}; choose one of {IOS}")
    if args["shuffle"] not in SHUFFLES:
        raise SystemExit(f"export.py: shuffle={args['shuffle']!r}; choose one of {tuple(SHUFFLES)}")
    if args["shuffle"] != "depth" and (args["format"], args["io"]) != ("onnx", "rgb"):
        raise SystemExit(f"export.py: shuffle={args['shuffle']} is for format=onnx io=rgb "
                         f"(here format={args['format']} io={args['io']})")
    if args["format"] == "ncnn" and args["out"] and not str(args["out"]).endswith(".param"):
        raise SystemExit(f"export.py: format=ncnn writes <name>.param and <name>.bin; "
                         f"out={args['out']!r} must end in .param")
    return args


def default_out(args: dict, scale: int) -> Path:
    if args["format"] == "ncnn":
        from srnet.deploy.ncnn_export import default_name

        return Path("models") / f"{default_name(scale)}.param"
    stem = Path(str(args["ckpt_path"])).stem
    return Path(stem + (".onnx" if args["format"] == "onnx" else ".pt"))


def write(net, args: dict, out: Path) -> None:
    fmt, io = args["format"], args["io"]
    if fmt == "onnx":
        export_onnx(net, out, int(args["opset"]), io, args["shuffle"])
    elif fmt == "torchscript":
        export_torchscript(net, out, io)
    else:
        from srnet.deploy.ncnn_export import export_ncnn, name_scale

        export_ncnn(net, out, bool(args["fp16"]), io)
        if name_scale(out.stem) != net.cfg.scale:
            print(f"note: upscayl would read the scale of {out.stem!r} as "
                  f"x{name_scale(out.stem)}, not x{net.cfg.scale}: put x{net.cfg.scale} in the name")


def check(net, args: dict, out: Path) -> None:
    """Run the file on a photograph crop; exit non-zero when it disagrees."""
    from skimage import data

    photo = np.ascontiguousarray(data.astronaut()[100:137, 180:233])  # (37, 53, 3) uint8
    if args["io"] == "rgb":
        x = rgb_blob(photo)
    else:
        x = np.random.default_rng(0).random((1, net.cfg.channels, 37, 53), dtype=np.float32)
    got = run_exported(out, args["format"], x)
    with torch.no_grad():
        ref = export_module(net, args["io"])(torch.from_numpy(x)).numpy()
    err = float(np.abs(got - ref).max())
    print(f"check: max |exported - PyTorch| = {err:.2e} on a 37x53 input")
    tol = 1e-2 if args["fp16"] else 1e-4
    if err > tol:
        raise SystemExit(f"export.py: the exported model differs from PyTorch by {err:.2e}")
    if args["io"] == "rgb":
        from srnet.infer.upscaler import Upscaler

        srnet_out = Upscaler(net, device="cpu").upscale(photo).astype(int)
        grey = int(np.abs(to_uint8(got)[0].astype(int) - srnet_out).max())
        print(f"check: max |exported - load_model(...).upscale| = {grey} grey level(s), rounded")
        if grey > (2 if args["fp16"] else 1):
            raise SystemExit(f"export.py: {grey} grey levels from srnet's own output")


def main(argv: list[str] | None = None) -> Path:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    net = load_net(args["ckpt_path"]).float().eval()
    out = Path(args["out"] or default_out(args, net.cfg.scale))
    out.parent.mkdir(parents=True, exist_ok=True)
    write(net, args, out)
    c_in = 3 if args["io"] == "rgb" else net.cfg.channels
    extra = f" + {out.with_suffix('.bin')}" if args["format"] == "ncnn" else ""
    print(f"wrote {out}{extra} ({args['format']}, x{net.cfg.scale}, {net.cfg.color_mode} model, "
          f"io={args['io']}: (N, {c_in}, H, W) in [0, 1] -> (N, {c_in}, {net.cfg.scale}H, "
          f"{net.cfg.scale}W), dynamic N/H/W)")
    if args["check"]:
        check(net, args, out)
    return out


if __name__ == "__main__":
    main()
