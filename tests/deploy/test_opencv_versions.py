"""scripts/opencv_versions.py: each (OpenCV, file, size) runs in its own process, and its
outcome (ok, wrong, an OpenCV error, a crash) is read back correctly; here with the installed
OpenCV only (the script itself pip-installs the versions it compares)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import load_script

from srnet.deploy.export import export_module, export_onnx
from srnet.nets.fsrcnn import FSRCNN

ONE_OPS = True


@pytest.fixture
def setup(tmp_path: Path):
    cv2 = pytest.importorskip("cv2")
    pytest.importorskip("onnx")
    torch.manual_seed(0)
    net = FSRCNN(scale=2, d=16, s=None, m=1, first_kernel=3, shrink=False).eval()
    model = export_onnx(net, tmp_path / "m.onnx", io="rgb", shuffle="deconv")  # every 4.x / 5.x
    x = np.random.default_rng(0).random((1, 3, 23, 31), dtype=np.float32)
    with torch.no_grad():
        ref = export_module(net, "rgb")(torch.from_numpy(x)).numpy()
    return load_script("opencv_versions"), Path(cv2.__file__).parents[1], model, x, ref


def test_outcomes(setup, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script, folder, model, x, ref = setup
    assert script.run_one(folder, model, x, ref, tmp_path) == "ok"
    assert script.run_one(folder, model, x, ref + 0.01, tmp_path).startswith("wrong (1.0e-02")
    (tmp_path / "bad.onnx").write_bytes(b"not a model")
    assert script.run_one(folder, tmp_path / "bad.onnx", x, ref, tmp_path).startswith("error in")
    monkeypatch.setattr(script, "RUN", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)")
    assert script.run_one(folder, model, x, ref, tmp_path) == "crash (signal 11)"
