"""The bundled weights exported RGB -> RGB, run on real photographs (Set14, BSDS500 from
../shared/datasets; skipped when absent) in onnxruntime, OpenCV (in a fresh Python that imports
only cv2 and numpy), ncnn on the CPU and, where ncnn finds a Vulkan device, through Vulkan:
at most 1 grey level from ``load_model(...).upscale``, whole images of odd sizes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from srnet import load_model
from srnet.deploy.export import export_onnx
from srnet.deploy.runtimes import (
    opencv_reads_depth_to_space,
    rgb_blob,
    run_onnxruntime,
    to_uint8,
)

ONE_OPS = True  # see conftest.py

# What a user of OpenCV writes: nothing of srnet, torch or PIL is imported.
OPENCV_ONLY = """
import json, sys
import cv2
import numpy as np
model, photos, out = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
net = cv2.dnn.readNetFromONNX(model)
results = {}
for i, path in enumerate(photos):
    bgr = cv2.imread(path, cv2.IMREAD_COLOR)
    h, w = bgr.shape[:2]
    rgb = cv2.cvtColor(bgr[: h - 1 + h % 2, : w - 1 + w % 2], cv2.COLOR_BGR2RGB)  # odd sizes
    net.setInput(cv2.dnn.blobFromImage(rgb, 1 / 255.0))  # (1, 3, H, W) RGB in [0, 1]
    sr = net.forward()[0].transpose(1, 2, 0)  # (sH, sW, 3) RGB in [0, 1]
    np.save(f"{out}/{i}.npy", np.floor(np.clip(sr, 0, 1) * 255 + 0.5).astype(np.uint8))
assert not {"torch", "srnet", "PIL"} & set(sys.modules), "only OpenCV and NumPy"
"""


def photos(shared: Path, n_set14: int = 2, n_bsds: int = 1) -> list[Path]:
    return (sorted((shared / "benchmark" / "Set14" / "X2" / "HR").glob("*.png"))[:n_set14]
            + sorted((shared / "BSDS500" / "val").glob("*.jpg"))[:n_bsds])


def odd_rgb(path: Path) -> np.ndarray:
    """The photo as uint8 RGB, its last row / column dropped where the size is even."""
    rgb = np.asarray(Image.open(path).convert("RGB"))
    h, w = rgb.shape[:2]
    return np.ascontiguousarray(rgb[: h - 1 + h % 2, : w - 1 + w % 2])


def worst(out: np.ndarray, ref: np.ndarray) -> int:
    return int(np.abs(out.astype(int) - ref.astype(int)).max())


def test_bundled_onnx_on_a_photo_crop(shared_data: Path, tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    model = load_model("x3")
    img = odd_rgb(photos(shared_data, 1, 0)[0])[40:141, 60:137]  # 101 x 77
    path = export_onnx(model.net, tmp_path / "x3.onnx", io="rgb")
    assert worst(to_uint8(run_onnxruntime(path, rgb_blob(img)))[0], model.upscale(img)) <= 1


def test_default_onnx_runs_large_photos_in_opencv(shared_data: Path, tmp_path: Path) -> None:
    """A 720p photo (3.7 MP out at x2) through the default file in a process of only cv2 and
    numpy: OpenCV 4.11-4.14's transposed convolution crashes that process above about 3.5 MP
    of output, so the default file shuffles pixels with DepthToSpace (docs/export.md)."""
    cv2 = pytest.importorskip("cv2")
    if not opencv_reads_depth_to_space():
        pytest.skip(f"OpenCV {cv2.__version__}: DepthToSpace on a dynamic size needs 4.11+")
    model = load_model("x2")
    big = tmp_path / "big.png"
    Image.open(photos(shared_data, 0, 1)[0]).convert("RGB").resize((1280, 720)).save(big)
    path = export_onnx(model.net, tmp_path / "srnet-x2.onnx", io="rgb")
    (tmp_path / "cv").mkdir()
    subprocess.run([sys.executable, "-I", "-c", OPENCV_ONLY, str(path), json.dumps([str(big)]),
                    str(tmp_path / "cv")], check=True)
    got = np.load(tmp_path / "cv" / "0.npy")
    assert got.shape == (1438, 2558, 3)
    assert worst(got, model.upscale(odd_rgb(big))) <= 1


@pytest.mark.slow
@pytest.mark.parametrize("name", ["x2", "x3", "x4", "x2-real", "x4-real"])
def test_bundled_exports_on_photos(shared_data: Path, tmp_path: Path, name: str) -> None:
    pytest.importorskip("onnxruntime")
    model, scale = load_model(name), int(name[1])
    files = photos(shared_data)
    refs = [model.upscale(odd_rgb(p)) for p in files]
    path = export_onnx(model.net, tmp_path / f"srnet-x{scale}.onnx", io="rgb")
    diffs = {"onnxruntime": max(worst(to_uint8(run_onnxruntime(path, rgb_blob(odd_rgb(p))))[0],
                                      ref) for p, ref in zip(files, refs, strict=True))}
    try:
        import cv2  # noqa: F401  (only checks that OpenCV is there)
    except ImportError:
        pass
    else:
        if not opencv_reads_depth_to_space():  # 4.8-4.10: docs/export.md
            path = export_onnx(model.net, tmp_path / "deconv.onnx", io="rgb", shuffle="deconv")
        (tmp_path / "cv").mkdir()
        subprocess.run([sys.executable, "-I", "-c", OPENCV_ONLY, str(path),
                        json.dumps([str(p) for p in files]), str(tmp_path / "cv")], check=True)
        diffs["opencv"] = max(worst(np.load(tmp_path / "cv" / f"{i}.npy"), ref)
                              for i, ref in enumerate(refs))
    diffs.update(_ncnn_diffs(model, files, refs, tmp_path, scale))
    print(f"x{scale} max grey levels from load_model(...).upscale:", diffs)
    assert max(diffs.values()) <= 1, diffs


def _ncnn_diffs(model, files: list[Path], refs: list[np.ndarray], tmp_path: Path,
                scale: int) -> dict[str, int]:
    try:
        import ncnn  # noqa: F401
        import pnnx  # noqa: F401
    except ImportError:
        return {}
    from srnet.deploy.ncnn_export import export_ncnn
    from srnet.deploy.runtimes import ncnn_net, vulkan_devices

    param = export_ncnn(model.net, tmp_path / "models" / f"srnet-x{scale}.param")
    runs = {"ncnn cpu": ncnn_net(param)}
    if vulkan_devices():
        runs["ncnn vulkan"] = ncnn_net(param, vulkan=True)
    return {name: max(worst(to_uint8(run(rgb_blob(odd_rgb(p))))[0], ref)
                      for p, ref in zip(files, refs, strict=True)) for name, run in runs.items()}
