"""Export to ncnn (``.param`` + ``.bin``) through pnnx, for the ncnn upscalers.

:func:`export_ncnn` traces the module of :func:`srnet.deploy.export.export_module` (by default
the RGB -> RGB graph), converts it with the ``pnnx`` command of the PyPI ``pnnx`` package, and
renames the input and output blobs ``data`` and ``output``: the names Real-ESRGAN-ncnn-vulkan and
upscayl's ``upscayl-bin`` feed and extract (RGB in [0, 1], 3 channels, any size). Weights are
fp32 by default; ``fp16=True`` stores them as fp16 (half the file, ncnn computes in fp32 or fp16
as its options say).

Both tools take ``-m <folder> -n <name>`` and load ``<folder>/<name>.param`` and ``.bin``; the
folder's path must contain ``models``. Real-ESRGAN-ncnn-vulkan's ``-s`` must be the model's
scale; upscayl reads the scale from the name (``x2`` / ``2x``, ``x3`` / ``3x``; anything else is
4): :func:`name_scale`, and :func:`default_name` gives ``srnet-x<s>``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path

import torch
from torch import nn

from srnet.deploy.export import example_input, export_module

INPUT, OUTPUT = "data", "output"  # the blob names the ncnn upscalers use


def default_name(scale: int) -> str:
    return f"srnet-x{scale}"


def name_scale(name: str) -> int:
    """The scale upscayl's ``upscayl-bin`` infers from a model name (it never asks the file)."""
    for s in (1, 2, 3, 4, 8, 16):  # its order: the first match wins
        if f"x{s}" in name or f"{s}x" in name:
            return s
    return 4


def pnnx_exe() -> str:
    """Path of the ``pnnx`` converter (PyPI ``pnnx``; or a ``pnnx`` on PATH)."""
    try:
        import pnnx

        return pnnx.EXEC_PATH
    except ImportError:
        exe = shutil.which("pnnx")
        if exe is None:
            raise ImportError("format=ncnn needs pnnx: pip install pnnx (or srnet[export])") from None
        return exe


def rename_blobs(param: Path, names: dict[str, str]) -> None:
    """Rename blobs (and the layers named after them) in an ncnn ``.param`` text file."""
    lines = param.read_text().splitlines()
    out = lines[:2]  # magic number; layer and blob counts
    for line in lines[2:]:
        out.append(" ".join(names.get(tok, tok) for tok in re.split(r"\s+", line.strip())))
    param.write_text("\n".join(out) + "\n")


def export_ncnn(net: nn.Module, param: Path, fp16: bool = False, io: str = "rgb") -> Path:
    """Write ``param`` (``<name>.param``) and ``<name>.bin`` beside it; returns ``param``.

    Two trace shapes (32x48 and 41x27) tell pnnx that H and W are dynamic.
    """
    param = Path(param)
    if param.suffix != ".param":
        raise ValueError(f"ncnn output must end in .param, got {param}")
    param.parent.mkdir(parents=True, exist_ok=True)
    model = export_module(net, io)
    x = example_input(net, io)
    shapes = [f"[{','.join(map(str, x.shape))}]f32", f"[1,{x.shape[1]},41,27]f32"]
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.jit.trace(model, x).save(str(t / "model.pt"))
        side = {k: t / f"model.{k}" for k in ("pnnxparam", "pnnxbin", "pnnxpy", "pnnxonnx",
                                              "ncnnpy")}
        cmd = [pnnx_exe(), str(t / "model.pt"), f"inputshape={shapes[0]}",
               f"inputshape2={shapes[1]}", f"fp16={int(fp16)}", f"ncnnparam={param}",
               f"ncnnbin={param.with_suffix('.bin')}", *(f"{k}={v}" for k, v in side.items())]
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode != 0 or not param.is_file():
            raise RuntimeError(f"pnnx failed ({res.returncode}):\n{res.stdout[-2000:]}"
                               f"\n{res.stderr[-2000:]}")
    rename_blobs(param, {"in0": INPUT, "out0": OUTPUT})
    return param
