"""What the benchmarks compare with and run on: OpenCV's ``dnn_superres`` FSRCNN, onnxruntime,
the test image and the machine's name. Imports neither torch nor cv2 at module level, so an
OpenCV-only process (:mod:`srnet.benchmarks.infer_folder`) pays for numpy and cv2 alone."""

from __future__ import annotations

import os
import platform
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
OPENCV_MODELS = Path(os.environ.get("SRNET_OPENCV_MODELS",
                                    ROOT.parent / "shared" / "peers" / "opencv-fsrcnn"))


def test_image(h: int, w: int) -> np.ndarray:
    """A deterministic natural uint8 (h, w, 3) RGB image: the astronaut photograph, tiled."""
    from skimage import data

    photo = data.astronaut()  # (512, 512, 3)
    reps = (-(-h // photo.shape[0]), -(-w // photo.shape[1]), 1)
    return np.ascontiguousarray(np.tile(photo, reps)[:h, :w])


def cpu_name() -> str:
    """The CPU's model name with its family and model numbers (``lscpu``'s "Model name", "CPU
    family", "Model", from /proc/cpuinfo): virtual machines often show only a vendor name."""
    try:
        fields: dict[str, str] = {}
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
    except OSError:
        fields = {}
    name = fields.get("model name") or platform.processor() or platform.machine()
    if fields.get("cpu family") and fields.get("model"):
        name += f" (family {fields['cpu family']} model {fields['model']})"
    return name


def opencv_superres(scale: int, threads: int | None = None):
    """(OpenCV's ``DnnSuperResImpl`` FSRCNN for ``scale``, or None, note on why not)."""
    try:
        import cv2
    except ImportError:
        return None, "opencv skipped: `pip install opencv-contrib-python-headless` to compare"
    path = OPENCV_MODELS / f"FSRCNN_x{scale}.pb"
    if not path.is_file() or not hasattr(cv2, "dnn_superres"):
        return None, f"opencv skipped: {path} or cv2.dnn_superres missing"
    if threads:
        cv2.setNumThreads(threads)
    sr = cv2.dnn_superres.DnnSuperResImpl_create()
    sr.readModel(str(path))
    sr.setModel("fsrcnn", scale)
    return sr, ""


def opencv_rgb(scale: int, threads: int | None = None) -> tuple[Callable | None, str]:
    """(uint8 RGB (H, W, 3) -> OpenCV's SR RGB, or None, note): BGR in and out, as OpenCV takes."""
    sr, note = opencv_superres(scale, threads)
    if sr is None:
        return None, note
    return (lambda rgb: sr.upsample(np.ascontiguousarray(rgb[..., ::-1]))[..., ::-1]), ""


def onnxruntime_y(net, folder: Path, threads: int) -> tuple[Callable | None, str]:
    """(Y (N, 1, H, W) float32 numpy -> the ONNX export's output in onnxruntime, or None, note)."""
    try:
        import onnxruntime as ort

        from srnet.deploy.export import export_onnx
    except ImportError as e:
        return None, f"onnxruntime skipped: {e}"
    path = export_onnx(net, folder / f"x{net.cfg.scale}.onnx")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    return (lambda y: sess.run(None, {"lr": y})[0]), ""
