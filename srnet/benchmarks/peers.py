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


OPENCV_HINT = "`pip install -e '.[peers]'`: OpenCV 4 contrib"  # 5 reads no TensorFlow .pb


def opencv_superres(scale: int, threads: int | None = None):
    """(OpenCV's ``DnnSuperResImpl`` FSRCNN for ``scale``, or None, note on why not)."""
    try:
        import cv2
    except ImportError:
        return None, f"opencv skipped: no cv2 ({OPENCV_HINT})"
    path = OPENCV_MODELS / f"FSRCNN_x{scale}.pb"
    # opencv-python-headless has a stub-only cv2.dnn_superres (type hints): ask for the class
    if not path.is_file() or not hasattr(getattr(cv2, "dnn_superres", None),
                                         "DnnSuperResImpl_create"):
        return None, (f"opencv skipped: {path} or cv2.dnn_superres missing "
                      f"({OPENCV_HINT})")
    if threads:
        cv2.setNumThreads(threads)
    sr = cv2.dnn_superres.DnnSuperResImpl_create()
    try:
        sr.readModel(str(path))
    except cv2.error as e:  # OpenCV 5 reads no TensorFlow .pb files
        return None, (f"opencv skipped: OpenCV {cv2.__version__} cannot read {path.name}: {e} "
                      f"({OPENCV_HINT})")
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


TINY_SR = Path(os.environ.get("SRNET_TINY_SR", ROOT.parent / "shared" / "peers" / "tiny-sr"))
TINY_BUILD = {  # peer -> (arch file, class, arguments after (in, out, scale)), as its README says
    "ECBSR-M4C16": ("ECBSR_arch.py", "ECBSRT", (4, 16, "prelu")),
    "ETDS-M5C16": ("ETDS_arch.py", "ETDSForInference", (5, 16, 3)),
}


def tiny_sr_net(peer: str, scale: int):
    """The peer network with its public weights (eval mode), or None when the files are absent."""
    import importlib.util

    import torch

    file, cls, args = TINY_BUILD[peer]
    arch = TINY_SR / "archs" / file
    weights = TINY_SR / "weights" / f"{peer.replace('-', '_')}_x{scale}.pth"
    if not arch.is_file() or not weights.is_file():
        return None
    spec = importlib.util.spec_from_file_location(f"peer_{file[:-3]}", arch)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    net = getattr(module, cls)(3, 3, scale, *args)
    sd = torch.load(weights, map_location="cpu")
    sd = {k.removeprefix("module."): v for k, v in sd.get("params", sd).items()}
    net.load_state_dict(sd, strict=True)
    return net.eval()


def tiny_sr(peer: str, scale: int) -> tuple[Callable | None, dict]:
    """(uint8 RGB (H, W, 3) -> uint8 RGB through the peer in eager PyTorch, facts), or
    (None, {}) when its files are absent."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    net = tiny_sr_net(peer, scale)
    if net is None:
        return None, {}
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        net(torch.rand(1, 3, 32, 32))
    facts = {"params": sum(p.numel() for p in net.parameters()),
             "macs": counter.get_total_flops() / 2 / (32 * scale) ** 2}

    @torch.inference_mode()
    def upscale(rgb: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(rgb).permute(2, 0, 1)[None].float().div_(255)  # (1, 3, H, W)
        y = net(x).clamp_(0, 1).mul_(255).round_()  # (1, 3, sH, sW)
        return y[0].permute(1, 2, 0).to(torch.uint8).numpy()

    return upscale, facts


EXPORTED = ("srnet RGB export: onnxruntime RGB->RGB", "srnet RGB export: opencv dnn RGB->RGB",
            "srnet RGB export: ncnn CPU RGB->RGB")


def exported_rgb(net, folder: Path, threads: int, keep: Callable[[str], bool] = bool
                 ) -> tuple[dict[str, Callable], list[str]]:
    """The RGB -> RGB export (``scripts/export.py``) in the runtimes people use: name -> (uint8
    RGB (H, W, 3) -> uint8 SR RGB), for those of :data:`EXPORTED` that ``keep`` and whose
    packages are installed; notes say which were skipped and why."""
    from srnet.deploy import runtimes

    def wrap(run: Callable) -> Callable:
        return lambda rgb: runtimes.to_uint8(run(runtimes.rgb_blob(rgb)))[0]

    s, fns, notes = net.cfg.scale, {}, []
    ort_name, cv_name, ncnn_name = EXPORTED
    makers = {ort_name: lambda p: runtimes.onnxruntime_session(p, threads),
              cv_name: lambda p: runtimes.opencv_net(p, threads)}
    if any(keep(n) for n in makers):
        try:
            from srnet.deploy.export import export_onnx

            path = export_onnx(net, folder / f"rgb_x{s}.onnx", io="rgb")
        except ImportError as e:
            return fns, [f"RGB ONNX export skipped: {e}"]
        for name, make in makers.items():
            try:
                if keep(name):
                    fns[name] = wrap(make(path))
            except ImportError as e:
                notes.append(f"{name} skipped: {e}")
    if keep(ncnn_name):
        try:
            from srnet.deploy.ncnn_export import export_ncnn

            param = export_ncnn(net, folder / "models" / f"srnet-x{s}.param")
            fns[ncnn_name] = wrap(runtimes.ncnn_net(param, fp16=True, threads=threads))
        except ImportError as e:
            notes.append(f"{ncnn_name} skipped: {e} (pip install pnnx ncnn)")
    return fns, notes
