"""Exporting a trained network to ONNX, TorchScript or ncnn (CLI: ``scripts/export.py``).

Two things can be exported (``io``):

* ``rgb`` (what the script writes by default): the whole upscaler, :class:`srnet.deploy.graph.
  RGBGraph`: input ``input`` (N, 3, H, W) float32 RGB in [0, 1], output ``output``
  (N, 3, sH, sW) float32 RGB in [0, 1], clamped; for ``y`` models the colour conversion, the
  bicubic chroma and the merge are inside, as convolutions and pixel shuffles. It computes what
  ``load_model(...).upscale`` computes, before rounding.
* ``y``: the *network* alone in its deploy form (``srnet.nets.reparam``: the transposed
  convolution rewritten as conv + pixel shuffle, exact): input ``lr`` (N, C, H, W) float32 in
  [0, 1], output ``sr`` (N, C, sH, sW); C = 1 (BT.601 studio-range Y) for ``y`` models, 3 (RGB)
  for ``rgb`` models. The colour conversion around a ``y`` model is not part of it.

N, H and W are dynamic. ONNX files are constant-folded (no shape arithmetic left in the graph,
which OpenCV's importer needs) and carry ``scale``, ``color_mode``, ``io`` (and ``shuffle``) as
metadata; TorchScript files carry them as extra files. ncnn: :mod:`srnet.deploy.ncnn_export`.

``shuffle`` (ONNX, ``io=rgb``) is how the RGB graph puts the phases in place, for the OpenCV
versions people have (measured, docs/export.md): ``depth`` (default), ONNX ``DepthToSpace``:
onnxruntime, OpenCV 4.11 and later at any size; ``deconv``, a one-hot stride-s transposed
convolution: OpenCV 4.8-4.10, which reject ``DepthToSpace`` on a dynamic size, but whose
transposed convolution (like 4.11-4.14's) crashes the process above about 3.5 MP of output.
"""

from __future__ import annotations

import copy
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from srnet.deploy.graph import rgb_graph
from srnet.nets.reparam import reparameterize

FORMATS = ("onnx", "torchscript", "ncnn")
IOS = ("rgb", "y")
SHUFFLES = {"depth": "pixel", "deconv": "deconv"}  # export name -> RGBGraph's shuffle
NAMES = {"rgb": ("input", "output"), "y": ("lr", "sr")}  # ONNX (input, output) names


def deploy_form(net: nn.Module) -> nn.Module:
    """A float32 eval-mode copy of ``net`` with its deconv tail rewritten (exact)."""
    return reparameterize(copy.deepcopy(net)).float().eval()


def export_module(net: nn.Module, io: str = "y", shuffle: str = "pixel") -> nn.Module:
    """What is exported for ``io``: the RGB graph (pixel shuffle as ``shuffle`` says, see
    :class:`srnet.deploy.graph.RGBGraph`) or the network's deploy form."""
    if io not in IOS:
        raise ValueError(f"io={io!r}: choose one of {IOS}")
    return rgb_graph(net, shuffle) if io == "rgb" else deploy_form(net)


def example_input(net: nn.Module, io: str = "y", h: int = 32, w: int = 48) -> torch.Tensor:
    """A random (1, C, h, w) input for tracing: C = 3 for ``rgb``, the net's channels for ``y``."""
    return torch.rand(1, 3 if io == "rgb" else net.cfg.channels, h, w)


def metadata(net: nn.Module, io: str) -> dict[str, str]:
    return {"scale": str(net.cfg.scale), "color_mode": net.cfg.color_mode, "io": io}


def fold_constants(proto):
    """Evaluate every node whose inputs are all constants (PyTorch writes edge padding's pads
    as a small Slice / Transpose / Cast computation) and store the results as initializers."""
    import onnx
    from onnx import numpy_helper
    from onnx.reference import ReferenceEvaluator

    graph = proto.graph
    known = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    weights = set(known)  # the model's own tensors: never re-evaluated
    kept = []
    for node in graph.node:
        if node.op_type == "Constant" or (node.input and all(i in known for i in node.input)):
            feeds = {i: known[i] for i in node.input}
            for name, value in zip(node.output, ReferenceEvaluator(node).run(None, feeds),
                                   strict=True):
                known[name] = np.asarray(value)
        else:
            kept.append(node)
    used = {i for n in kept for i in n.input} | {o.name for o in graph.output}
    del graph.node[:]
    graph.node.extend(kept)
    new = [numpy_helper.from_array(v, k) for k, v in known.items() if k in used and
           k not in weights]
    old = [t for t in graph.initializer if t.name in used]
    del graph.initializer[:]
    graph.initializer.extend(old + new)
    onnx.checker.check_model(proto)
    return proto


def export_onnx(net: nn.Module, path: Path, opset: int = 17, io: str = "y",
                shuffle: str = "depth") -> Path:
    """Write ``io``'s module (see the module docstring) as ONNX with dynamic N, H, W; the RGB
    graph's pixel shuffle as ``shuffle`` says (:data:`SHUFFLES`)."""
    import onnx

    if shuffle not in SHUFFLES:
        raise ValueError(f"shuffle={shuffle!r}: choose one of {tuple(SHUFFLES)}")
    model, (inp, out) = export_module(net, io, shuffle=SHUFFLES[shuffle]), NAMES[io]
    axes = {inp: {0: "n", 2: "h", 3: "w"}, out: {0: "n", 2: "sh", 3: "sw"}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (example_input(net, io),), str(path), input_names=[inp],
                          output_names=[out], dynamic_axes=axes, opset_version=opset,
                          dynamo=False)
    proto = fold_constants(onnx.load(str(path)))
    meta = metadata(net, io) | ({"shuffle": shuffle} if io == "rgb" else {})
    for key, value in meta.items():
        if io == "y" and key == "io":
            continue  # the luma export's metadata stays as it was
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(proto, str(path))
    return path


def export_torchscript(net: nn.Module, path: Path, io: str = "y") -> Path:
    """Write ``io``'s module as a traced TorchScript module (any N, H, W).

    Tracing records the convolutions, the edge padding and the pixel shuffle, none of which
    depends on the size.
    """
    model = export_module(net, io)
    extra = metadata(net, io)
    if io == "y":
        extra.pop("io")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(model, example_input(net, io))
        torch.jit.save(traced, str(path), _extra_files=extra)
    return path

