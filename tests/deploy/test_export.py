"""scripts/export.py: ONNX (run with onnxruntime) and TorchScript files match PyTorch at any size."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import ROOT

from srnet.deploy import runtimes
from srnet.io.checkpoints import save_weights
from srnet.nets.fsrcnn import FSRCNN


def _export_module():
    spec = importlib.util.spec_from_file_location("srnet_export", ROOT / "scripts" / "export.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def export():
    return _export_module()


def _weights(tmp_path: Path, **kw) -> tuple[Path, FSRCNN]:
    torch.manual_seed(1)
    net = FSRCNN(**kw).eval()
    return save_weights(net, tmp_path / "w.pt"), net


@pytest.mark.parametrize("scale,color", [(2, "y"), (3, "rgb"), (4, "y")])
def test_onnx_matches_pytorch(tmp_path: Path, export, scale: int, color: str) -> None:
    ort = pytest.importorskip("onnxruntime")
    ckpt, net = _weights(tmp_path, scale=scale, color_mode=color, d=24, s=8, m=2)
    out = export.main([f"ckpt_path={ckpt}", "format=onnx", "io=y", f"out={tmp_path / 'm.onnx'}"])
    sess = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    for shape in [(1, 17, 23), (2, 40, 9)]:  # dynamic N, H, W; not the export's example size
        x = np.random.default_rng(0).random((shape[0], net.cfg.channels, *shape[1:]),
                                            dtype=np.float32)
        got = sess.run(None, {"lr": x})[0]
        with torch.no_grad():
            ref = net(torch.from_numpy(x)).numpy()
        assert got.shape == ref.shape
        np.testing.assert_allclose(got, ref, atol=1e-5, rtol=0)
    meta = sess.get_modelmeta().custom_metadata_map
    assert meta == {"scale": str(scale), "color_mode": color}


def test_torchscript_matches_pytorch(tmp_path: Path, export) -> None:
    ckpt, net = _weights(tmp_path, scale=3, d=24, s=8, m=1)
    out = export.main([f"ckpt_path={ckpt}", "format=torchscript", "io=y",
                      f"out={tmp_path / 'm.pt'}"])
    x = np.random.default_rng(1).random((1, 1, 31, 12), dtype=np.float32)
    with torch.no_grad():
        ref = net(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(runtimes.run_exported(out, "torchscript", x), ref, atol=1e-5, rtol=0)


def test_export_argument_errors(export) -> None:
    with pytest.raises(SystemExit, match="ckpt_path=.* is required"):
        export.parse_args(["format=onnx"])
    with pytest.raises(SystemExit, match="choose one of"):
        export.parse_args(["ckpt_path=x2", "format=tflite"])
    with pytest.raises(SystemExit, match="allowed keys"):
        export.parse_args(["ckpt_path=x2", "fromat=onnx"])
