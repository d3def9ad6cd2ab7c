"""Running exported files in the runtimes people use: onnxruntime, OpenCV ``cv2.dnn``, ncnn
(CPU or Vulkan), TorchScript. Each takes float32 (N, C, H, W) numpy and returns float32
(N, C', sH, sW) numpy; each imports its runtime only when called. :func:`to_uint8` rounds as
srnet's own output is rounded, so results compare with ``load_model(...).upscale`` directly.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np


def rgb_blob(images: np.ndarray) -> np.ndarray:
    """uint8 (H, W, 3) or (N, H, W, 3) RGB -> float32 (N, 3, H, W) in [0, 1]."""
    x = images[None] if images.ndim == 3 else images
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2), dtype=np.float32) / np.float32(255)


def to_uint8(out: np.ndarray) -> np.ndarray:
    """float (N, C, H, W) in [0, 1] -> uint8 (N, H, W, C), rounded half up (as srnet writes)."""
    return np.floor(np.clip(out, 0, 1).transpose(0, 2, 3, 1) * 255 + 0.5).astype(np.uint8)


def run_onnxruntime(path: Path, x: np.ndarray, threads: int = 0) -> np.ndarray:
    return onnxruntime_session(path, threads)(x)


def onnxruntime_session(path: Path, threads: int = 0):
    """A callable running ``path`` in onnxruntime's CPU provider (its first input, first output)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    return lambda x: sess.run(None, {name: x})[0]


def opencv_net(path: Path, threads: int | None = None):
    """A callable running ``path`` through ``cv2.dnn.readNetFromONNX`` (CPU backend)."""
    import cv2

    if threads:
        cv2.setNumThreads(threads)
    net = cv2.dnn.readNetFromONNX(str(path))

    def run(x: np.ndarray) -> np.ndarray:
        net.setInput(np.ascontiguousarray(x, dtype=np.float32))
        return net.forward()

    return run


def opencv_reads_depth_to_space() -> bool:
    """Whether the installed OpenCV runs the default RGB export (ONNX ``DepthToSpace`` on a
    dynamic size: 4.11 and later; 4.8-4.10 need ``shuffle=deconv``, docs/export.md)."""
    import cv2

    return tuple(int(v) for v in cv2.__version__.split(".")[:2]) >= (4, 11)


def run_opencv(path: Path, x: np.ndarray) -> np.ndarray:
    return opencv_net(path)(x)


def ncnn_net(param: Path, vulkan: bool = False, fp16: bool = False, threads: int = 0):
    """A callable running ``param`` / ``.bin`` in ncnn, blobs ``data`` -> ``output``, one image
    at a time (ncnn has no batch axis). ``fp16``: fp16 storage / arithmetic where the device
    has them (ncnn's default); off, everything is fp32."""
    import ncnn

    from srnet.deploy.ncnn_export import INPUT, OUTPUT

    net = ncnn.Net()
    net.opt.use_vulkan_compute = vulkan
    for key in ("use_fp16_packed", "use_fp16_storage", "use_fp16_arithmetic"):
        setattr(net.opt, key, fp16)
    if threads:
        net.opt.num_threads = threads
    param = Path(param)
    if net.load_param(str(param)) != 0 or net.load_model(str(param.with_suffix(".bin"))) != 0:
        raise RuntimeError(f"ncnn could not load {param} / {param.with_suffix('.bin')}")

    def run(x: np.ndarray) -> np.ndarray:
        outs = []
        for image in np.asarray(x, dtype=np.float32):
            ex = net.create_extractor()
            # clone: a Mat wrapping numpy memory has no channel padding, which the upload to
            # the GPU (Vulkan) assumes; the copy has it
            ex.input(INPUT, ncnn.Mat(np.ascontiguousarray(image)).clone())
            ret, out = ex.extract(OUTPUT)
            if ret != 0:
                raise RuntimeError(f"ncnn extract failed ({ret})")
            outs.append(np.array(out))
        return np.stack(outs)

    run.net = net  # keeps the net alive as long as the callable
    return run


def run_ncnn(param: Path, x: np.ndarray, vulkan: bool = False, fp16: bool = False) -> np.ndarray:
    return ncnn_net(param, vulkan, fp16)(x)


def vulkan_devices() -> int:
    """GPUs (or CPU Vulkan drivers such as Mesa's lavapipe) ncnn can use; 0 without ncnn."""
    try:
        import ncnn
    except ImportError:
        return 0
    return int(ncnn.get_gpu_count())


def run_torchscript(path: Path, x: np.ndarray) -> np.ndarray:
    import torch

    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.jit is deprecated, still works
        return torch.jit.load(str(path)).eval()(torch.from_numpy(x)).numpy()


def run_exported(path: Path, fmt: str, x: np.ndarray) -> np.ndarray:
    """Run an exported file on (N, C, H, W) float32 -> (N, C', sH, sW) float32 (CPU)."""
    if fmt == "onnx":
        return run_onnxruntime(path, x)
    if fmt == "ncnn":
        return run_ncnn(path, x)
    return run_torchscript(path, x)
