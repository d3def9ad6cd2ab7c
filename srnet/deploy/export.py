"""Exporting a trained network to ONNX or TorchScript (CLI: ``scripts/export.py``).

What is exported is the *network* in its deploy form (``srnet.nets.reparam``: the transposed
convolution rewritten as conv + pixel shuffle, exact): input ``lr`` (N, C, H, W) float32 in
[0, 1], output ``sr`` (N, C, sH, sW); C = 1 (BT.601 studio-range Y) for ``y`` models, 3 (RGB) for
``rgb`` models. The colour conversion around a ``y`` model is not part of it. N, H and W are
dynamic. Scale and colour mode are stored as metadata (``scale``, ``color_mode``).
"""

from __future__ import annotations

import copy
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from srnet.nets.reparam import reparameterize

FORMATS = ("onnx", "torchscript")


def deploy_form(net: nn.Module) -> nn.Module:
    """A float32 eval-mode copy of ``net`` with its deconv tail rewritten (exact)."""
    return reparameterize(copy.deepcopy(net)).float().eval()


def export_onnx(net: nn.Module, path: Path, opset: int = 17) -> Path:
    """Write ``net`` (deploy form) as ONNX with dynamic N, H, W."""
    model = deploy_form(net)
    x = torch.rand(1, net.cfg.channels, 32, 48)  # (N, C, H, W) example input
    axes = {"lr": {0: "n", 2: "h", 3: "w"}, "sr": {0: "n", 2: "sh", 3: "sw"}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x,), str(path), input_names=["lr"], output_names=["sr"],
                          dynamic_axes=axes, opset_version=opset, dynamo=False)
    import onnx

    proto = onnx.load(str(path))
    for key, value in (("scale", net.cfg.scale), ("color_mode", net.cfg.color_mode)):
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, str(value)
    onnx.save(proto, str(path))
    return path


def export_torchscript(net: nn.Module, path: Path) -> Path:
    """Write ``net`` (deploy form) as a traced TorchScript module (any N, H, W).

    Tracing records the convolutions and the pixel shuffle, none of which depends on the size.
    """
    model = deploy_form(net)
    x = torch.rand(1, net.cfg.channels, 32, 48)  # (N, C, H, W) example input
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(model, x)
        torch.jit.save(traced, str(path), _extra_files={"scale": str(net.cfg.scale),
                                                        "color_mode": net.cfg.color_mode})
    return path


def run_exported(path: Path, fmt: str, x: np.ndarray) -> np.ndarray:
    """Run an exported file on (N, C, H, W) float32 -> (N, C, sH, sW) float32 (CPU)."""
    if fmt == "onnx":
        import onnxruntime as ort

        sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return sess.run(None, {"lr": x})[0]
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.jit is deprecated, still works
        return torch.jit.load(str(path)).eval()(torch.from_numpy(x)).numpy()
