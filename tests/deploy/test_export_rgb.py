"""The RGB -> RGB export (``scripts/export.py``, default ``io=rgb``) computes what
``load_model(...).upscale`` computes: in PyTorch for every network shape, tail and skip; as ONNX in
onnxruntime and OpenCV ``cv2.dnn``; as ncnn files in ncnn (CPU, and Vulkan where a device is
there). Outputs are compared after rounding, at most 1 grey level apart, on odd sizes."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import ROOT

from srnet.deploy.export import export_onnx
from srnet.deploy.graph import rgb_graph
from srnet.deploy.runtimes import (
    opencv_reads_depth_to_space,
    rgb_blob,
    run_onnxruntime,
    to_uint8,
)
from srnet.infer.upscaler import Upscaler
from srnet.io.checkpoints import save_weights
from srnet.nets.fsrcnn import FSRCNN

EXPORTED_CV = "srnet RGB export: opencv dnn RGB->RGB"  # srnet.benchmarks.peers.EXPORTED
ONE_OPS = True  # see conftest.py: the exported graph does not use srnet.deploy.ops
SHAPES = {  # both network shapes of the family, with a trained-looking (non-tiny) tail
    "classic": dict(d=24, s=8, m=2, skip="bicubic"),
    "slim": dict(d=16, s=None, m=2, first_kernel=3, shrink=False, skip="bicubic"),
}


def photo(h: int = 41, w: int = 57, seed: int = 0) -> np.ndarray:
    """A generated uint8 (h, w, 3) image with edges, gradients and colour (odd size)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    base = np.stack([np.sin(9 * xx + 3 * yy), np.cos(7 * yy), (xx > 0.4) * 0.8], -1)
    img = 0.5 + 0.4 * base + 0.1 * rng.standard_normal((h, w, 3))
    return np.clip(img * 255, 0, 255).astype(np.uint8)


def random_net(scale: int, seed: int = 1, **kw) -> FSRCNN:
    torch.manual_seed(seed)
    net = FSRCNN(scale=scale, **kw).eval()
    with torch.no_grad():
        for p in net.tail.parameters():  # a tail as large as a trained one: detail, not bicubic
            p.normal_(0, 0.05)
    return net


def grey_levels(out: np.ndarray, ref: np.ndarray) -> int:
    """Max |rounded exported output (N, 3, sH, sW) float - srnet's uint8 (N, sH, sW, 3)|."""
    return int(np.abs(to_uint8(out).astype(int) - ref.astype(int)).max())


def upscaler(net: FSRCNN) -> Upscaler:
    """``load_model``'s object for ``net``, one execution forced (no timing of the candidates:
    that every execution gives the same output is tested in test_colour_paths.py)."""
    up = Upscaler(net, device="cpu")
    up.runner.execution = "plain"
    return up


CASES = {  # every tail and skip, both colour modes; pixel shuffle as PixelShuffle or deconv
    "x2-classic": (dict(scale=2, **SHAPES["classic"]), "pixel"),
    "x3-slim": (dict(scale=3, **SHAPES["slim"]), "deconv"),
    "x3-k7-crop": (dict(scale=3, d=16, s=8, m=1, tail_kernel=7, allow_checkerboard=True,
                        skip="nearest"), "pixel"),
    "x4-pixelshuffle": (dict(scale=4, d=16, s=8, m=1, tail="pixelshuffle"), "deconv"),
    "x2-resize_conv": (dict(scale=2, d=16, s=8, m=1, tail="resize_conv", skip="bicubic"),
                       "pixel"),
    "x3-bed_of_nails": (dict(scale=3, d=16, s=8, m=1, tail="bed_of_nails"), "deconv"),
    "x2-rgb": (dict(scale=2, d=16, s=8, m=1, color_mode="rgb", skip="bicubic"), "deconv"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_graph_is_the_upscaler(case: str) -> None:
    kw, shuffle = CASES[case]
    net = random_net(**kw)
    img = photo()
    up = upscaler(net)
    with torch.no_grad():
        got = rgb_graph(net, shuffle)(torch.from_numpy(rgb_blob(img)))
    ref = up.upscale_tensor(torch.from_numpy(rgb_blob(img)))
    assert got.shape == ref.shape == (1, 3, 41 * net.scale, 57 * net.scale)
    assert float((got - ref).abs().max()) < 1e-4
    assert grey_levels(got.numpy(), up.upscale(img)[None]) <= 1


OPS = {"Conv", "PRelu", "Pad", "Add", "Div", "Clip"}


@pytest.mark.parametrize("shuffle", ["depth", "deconv"])
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_onnx_in_onnxruntime_and_opencv(tmp_path: Path, shape: str, shuffle: str) -> None:
    onnx = pytest.importorskip("onnxruntime") and pytest.importorskip("onnx")
    net = random_net(3, **SHAPES[shape])
    path = export_onnx(net, tmp_path / "m.onnx", io="rgb", shuffle=shuffle)
    proto = onnx.load(str(path))
    ops = {n.op_type for n in proto.graph.node}
    assert ops == OPS | {"DepthToSpace" if shuffle == "depth" else "ConvTranspose"}, ops
    assert {p.key: p.value for p in proto.metadata_props}["shuffle"] == shuffle
    imgs = np.stack([photo(23, 31, 0), photo(23, 31, 1)])  # N = 2, odd sizes
    ref = upscaler(net).upscale(imgs)
    got = run_onnxruntime(path, rgb_blob(imgs))
    assert got.shape == (2, 3, 69, 93) and grey_levels(got, ref) <= 1
    pytest.importorskip("cv2")
    if shuffle == "depth" and not opencv_reads_depth_to_space():
        pytest.skip("this OpenCV is older than 4.11: DepthToSpace needs a fixed size there")
    img = photo(37, 19, 2)
    got = opencv_fresh(path, rgb_blob(img), tmp_path)
    assert grey_levels(got, upscaler(net).upscale(img)[None]) <= 1


def opencv_fresh(path: Path, x: np.ndarray, tmp_path: Path) -> np.ndarray:
    """``cv2.dnn`` on x in a fresh process: in this one, a test may have made an OpenCV
    ``DnnSuperResImpl``, whose DepthToSpace layer then replaces OpenCV's (docs/export.md)."""
    np.save(tmp_path / "x.npy", x)
    code = ("import sys, numpy as np; from srnet.deploy.runtimes import run_opencv; "
            "np.save(sys.argv[3], run_opencv(sys.argv[1], np.load(sys.argv[2])))")
    subprocess.run([sys.executable, "-c", code, str(path), str(tmp_path / "x.npy"),
                    str(tmp_path / "y.npy")], check=True, cwd=ROOT)
    return np.load(tmp_path / "y.npy")


def test_superres_does_not_spoil_the_benchmarked_export(tmp_path: Path) -> None:
    """The benchmark reads the export into cv2.dnn before it makes OpenCV's superres object,
    so the row it times computes the right thing (a fresh process: the layer swap is global)."""
    cv2 = pytest.importorskip("cv2")
    pytest.importorskip("onnx")
    if not hasattr(getattr(cv2, "dnn_superres", None), "DnnSuperResImpl_create"):
        pytest.skip("no cv2.dnn_superres (opencv-contrib)")
    if not opencv_reads_depth_to_space():
        pytest.skip("OpenCV older than 4.11")
    from srnet.benchmarks.peers import OPENCV_MODELS

    if not (OPENCV_MODELS / "FSRCNN_x2.pb").is_file():
        pytest.skip(f"{OPENCV_MODELS / 'FSRCNN_x2.pb'} not there (../shared/peers)")
    code = f"""
import sys, numpy as np, torch
from pathlib import Path
from srnet.benchmarks import infer_speed, peers
from srnet import load_model
nets = {{2: infer_speed.load_nets(2, None)[0]}}
fns, _ = infer_speed.exports(nets, torch.device("cpu"), Path(sys.argv[1]), ["opencv"])[2]
assert peers.opencv_rgb(2, 1)[0] is not None
img = np.random.default_rng(0).integers(0, 256, (19, 23, 3), dtype=np.uint8)
got = fns[{EXPORTED_CV!r}](img).astype(int)
print(int(np.abs(got - load_model("x2").upscale(img).astype(int)).max()))
"""
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=True, cwd=ROOT,
                         capture_output=True, text=True).stdout
    assert int(out.split()[-1]) <= 1, out


def _export_script():
    spec = importlib.util.spec_from_file_location("srnet_export", ROOT / "scripts" / "export.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_ncnn_files(tmp_path: Path, shape: str) -> None:
    """format=ncnn: .param / .bin with blobs data -> output, run in ncnn on the CPU, fp32 and
    fp16 weights; the script's own check (vs load_model(...).upscale) passes."""
    pytest.importorskip("pnnx")
    pytest.importorskip("ncnn")
    from srnet.deploy.runtimes import run_ncnn

    net = random_net(2, **SHAPES[shape])
    ckpt = save_weights(net, tmp_path / "w.pt")
    script = _export_script()
    param = script.main([f"ckpt_path={ckpt}", "format=ncnn", f"out={tmp_path / 'srnet-x2.param'}"])
    text = param.read_text().split()
    assert param.with_suffix(".bin").is_file()
    assert "data" in text and "output" in text and "in0" not in text
    img = photo(29, 35, 3)
    ref = upscaler(net).upscale(img)[None]
    assert grey_levels(run_ncnn(param, rgb_blob(img)), ref) <= 1
    half = script.main([f"ckpt_path={ckpt}", "format=ncnn", "fp16=true",
                        f"out={tmp_path / 'half' / 'srnet-x2.param'}"])
    assert half.with_suffix(".bin").stat().st_size < 0.6 * param.with_suffix(".bin").stat().st_size
    assert grey_levels(run_ncnn(half, rgb_blob(img)), ref) <= 2


def test_script_defaults_and_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script = _export_script()
    args = script.parse_args(["ckpt_path=x3"])
    assert args["io"] == "rgb" and args["format"] == "onnx"
    assert script.default_out({**args, "format": "ncnn"}, 3) == Path("models/srnet-x3.param")
    with pytest.raises(SystemExit, match="choose one of"):
        script.parse_args(["ckpt_path=x2", "io=ycbcr"])
    with pytest.raises(SystemExit, match="must end in .param"):
        script.parse_args(["ckpt_path=x2", "format=ncnn", "out=m.onnx"])
    assert args["shuffle"] == "depth"
    with pytest.raises(SystemExit, match="shuffle='pixels'; choose one of"):
        script.parse_args(["ckpt_path=x2", "shuffle=pixels"])
    with pytest.raises(SystemExit, match="shuffle=deconv is for format=onnx io=rgb"):
        script.parse_args(["ckpt_path=x2", "shuffle=deconv", "format=ncnn"])
    with pytest.raises(ValueError, match="shuffle='x'"):
        export_onnx(random_net(2, **SHAPES["slim"]), tmp_path / "m.onnx", io="rgb", shuffle="x")
    from srnet.deploy.ncnn_export import name_scale

    assert [name_scale(n) for n in ("srnet-x2", "3x_model", "srnet-x4", "last")] == [2, 3, 4, 4]


@pytest.mark.slow
def test_ncnn_vulkan(tmp_path: Path) -> None:
    """ncnn's Vulkan path (here: Mesa's lavapipe CPU driver, ``mesa-vulkan-drivers``)."""
    pytest.importorskip("pnnx")
    from srnet.deploy.ncnn_export import export_ncnn
    from srnet.deploy.runtimes import run_ncnn, vulkan_devices

    if vulkan_devices() == 0:
        pytest.skip("ncnn finds no Vulkan device (apt-get install mesa-vulkan-drivers)")
    net = random_net(3, **SHAPES["classic"])
    param = export_ncnn(net, tmp_path / "srnet-x3.param")
    img = photo(33, 27, 4)
    ref = upscaler(net).upscale(img)[None]
    assert grey_levels(run_ncnn(param, rgb_blob(img), vulkan=True), ref) <= 1
