"""srnet.deploy.engine: the fast inference module equals the network; the fast colour path equals
merge_y's; reduced precision keeps PSNR."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import ROOT, smooth_image

from srnet.deploy.engine import DeployedNet, deploy, resolve_precision
from srnet.deploy.ops import private_ops_available, private_ops_enabled, set_private_ops
from srnet.io.images import read_rgb
from srnet.io.pictures import to_tensor
from srnet.nets.fsrcnn import FSRCNN
from srnet.ops.color import rgb_to_y, rgb_to_ycbcr, ycbcr_to_rgb
from srnet.ops.metrics import psnr
from srnet.ops.reference import super_resolve
from srnet.ops.resize import bicubic_down, mod_crop

WEIGHTS = ROOT / "srnet" / "weights"


def _net(scale: int, **kw) -> FSRCNN:
    torch.manual_seed(scale)
    return FSRCNN(scale=scale, **kw).eval()


@pytest.mark.parametrize("scale", [2, 3, 4])
@pytest.mark.parametrize("size", [(1, 1), (5, 7), (37, 40), (70, 33)])
def test_deploy_fp32_exact(scale: int, size: tuple[int, int]) -> None:
    """Bands, packed tail columns (even W), the unpacked fallback (odd W), one-pixel images."""
    net = _net(scale)
    fast = deploy(net, "cpu", "fp32")
    fast.banded.band_rows = 16  # several bands even for small test images
    x = torch.rand(2, 1, *size)  # (N, 1, H, W) Y in [0, 1]
    with torch.no_grad():
        torch.testing.assert_close(fast(x), net(x), atol=1e-5, rtol=0)


@pytest.mark.parametrize("kw", [{"color_mode": "rgb", "scale": 2},
                                {"tail": "pixelshuffle", "scale": 3},
                                {"tail": "resize_conv", "scale": 2},
                                {"tail": "bed_of_nails", "scale": 3, "color_mode": "rgb"},
                                {"d": 16, "s": 8, "m": 0, "scale": 4},
                                {"tail_kernel": 7, "allow_checkerboard": True, "scale": 3}])
def test_deploy_other_architectures(kw: dict) -> None:
    net = _net(**kw)
    fast = deploy(net)
    if fast.banded is not None:
        fast.banded.band_rows = 8
    x = torch.rand(1, net.cfg.channels, 29, 30)
    with torch.no_grad():
        torch.testing.assert_close(fast(x), net(x), atol=1e-5, rtol=0)


def test_deploy_does_not_modify_net() -> None:
    net = _net(2)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    deploy(net)
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())


def _reference_unclamped(net: FSRCNN, lr: torch.Tensor) -> torch.Tensor:
    """merge_y without the clamp of the enlarged RGB (what the fast colour path computes)."""
    s = net.cfg.scale
    with torch.no_grad():
        y = net(rgb_to_y(lr))
    up = F.interpolate(lr, scale_factor=s, mode="bicubic", antialias=True, align_corners=False)
    return ycbcr_to_rgb(torch.cat([y, rgb_to_ycbcr(up)[:, 1:]], 1)).clamp(0, 1)


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_fast_rgb_matches_reference(scale: int) -> None:
    net = _net(scale)
    fast = deploy(net)
    lr = torch.rand(2, 3, 11, 14)  # noise: many out-of-range bicubic values
    out = fast.upscale_rgb(lr)
    assert out.shape == (2, 3, 11 * scale, 14 * scale)
    torch.testing.assert_close(out, _reference_unclamped(net, lr), atol=1e-5, rtol=0)
    u8 = fast.upscale_rgb(lr, as_uint8=True)  # (N, sH, sW, 3)
    assert u8.dtype == torch.uint8 and u8.shape == (2, 11 * scale, 14 * scale, 3)
    rounded = out.mul(255).round().permute(0, 2, 3, 1)
    assert (u8.float() - rounded).abs().max() <= 1  # ties and float rounding only


@pytest.mark.parametrize("scale", [2, 4])
def test_fast_rgb_close_to_merge_y_on_images(scale: int) -> None:
    """On a natural-looking image the missing intermediate clamp changes almost nothing."""
    net = _net(scale)
    lr = to_tensor(smooth_image(48, 64, seed=scale))
    ref = super_resolve(net, lr)
    out = deploy(net).upscale_rgb(lr)
    assert psnr(out, ref).item() > 50
    assert (out.mul(255).round() != ref.mul(255).round()).float().mean() < 0.01


def test_rgb_model_colour_path() -> None:
    net = _net(3, color_mode="rgb")
    lr = torch.rand(1, 3, 9, 10)
    with torch.no_grad():
        ref = net(lr).clamp(0, 1)
    torch.testing.assert_close(deploy(net).upscale_rgb(lr), ref, atol=1e-5, rtol=0)


def test_precision_choices() -> None:
    assert resolve_precision("auto", torch.device("cpu")) == torch.float32
    with pytest.raises(ValueError, match="fp16 needs a CUDA device"):
        resolve_precision("fp16", torch.device("cpu"))
    with pytest.raises(ValueError, match="choose one of"):
        resolve_precision("int4", torch.device("cpu"))


def _psnr_gap(net: FSRCNN, hr: torch.Tensor, precision: str) -> float:
    """|PSNR(reduced precision) - PSNR(fp32)| in dB against ``hr`` (N, 3, H, W)."""
    s = net.cfg.scale
    hr = mod_crop(hr, s)
    lr = bicubic_down(hr, s)
    fp32 = deploy(net, "cpu", "fp32").upscale_rgb(lr)
    low = DeployedNet(net, torch.device("cpu"), resolve_precision(precision, torch.device("cpu")))
    out = low.upscale_rgb(lr)
    return abs(psnr(out, hr, s).mean().item() - psnr(fp32, hr, s).mean().item())


def test_bf16_psnr_holds_generated_image() -> None:
    hr = to_tensor(smooth_image(64, 64, seed=3))
    assert _psnr_gap(_net(2), hr, "bf16") < 0.05


@pytest.mark.slow
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_bf16_on_set5_is_only_used_where_psnr_holds(scale: int, shared_data: Path) -> None:
    """Trained (bundled) weights on Set5: reduced precision is picked automatically only if the
    Set5 PSNR (mean over images) stays within 0.05 dB of fp32.

    Measured with the bundled weights: bf16 moves Set5 by about 0.05-0.06 dB (up to 0.12 dB on
    one image), so ``auto`` must stay fp32 on CPU.
    """
    weights = WEIGHTS / f"fsrcnn_x{scale}.pt"
    if not weights.is_file():
        pytest.skip(f"no trained weights at {weights}")
    from srnet.io.checkpoints import load_net

    net = load_net(str(weights))
    gaps = [_psnr_gap(net, to_tensor(read_rgb(p)), "bf16")
            for p in sorted((shared_data / "benchmark/Set5" / f"X{scale}" / "HR").glob("*.png"))]
    assert len(gaps) == 5
    print(f"x{scale} bf16 - fp32 Set5 PSNR gaps per image: {[round(g, 3) for g in gaps]}")
    auto = resolve_precision("auto", torch.device("cpu"))
    if sum(gaps) / len(gaps) >= 0.05:
        assert auto == torch.float32, "auto picks bf16 on CPU although Set5 PSNR does not hold"


def test_deploy_output_is_finite_and_batched() -> None:
    net = _net(3)
    x = torch.from_numpy(np.stack([smooth_image(20, 24, seed=i)[..., 0] for i in range(3)]))
    x = x[:, None].float() / 255
    out = deploy(net)(x)
    assert out.shape == (3, 1, 60, 72) and torch.isfinite(out).all()


@pytest.mark.parametrize("scale", [2, 3])
def test_row_parts_on_threads_equal_one_thread(scale: int) -> None:
    """Parts of the image on 2 threads (halo = the network's reach) give the one-thread result."""
    net = _net(scale)
    fast = deploy(net)
    lr = to_tensor(smooth_image(61, 40, seed=5))  # >= 2 parts of MIN_PART_ROWS rows
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = fast(rgb_to_y(lr)), fast.upscale_rgb(lr), fast.upscale_rgb(lr, as_uint8=True)
        torch.set_num_threads(2)
        two = fast(rgb_to_y(lr)), fast.upscale_rgb(lr), fast.upscale_rgb(lr, as_uint8=True)
        assert torch.get_num_threads() == 2  # restored after the parts ran
    finally:
        torch.set_num_threads(threads)
    for a, b in zip(one, two, strict=True):
        torch.testing.assert_close(a.float(), b.float(), atol=1e-5, rtol=0)


def test_row_parts_under_inference_mode() -> None:
    fast = deploy(_net(2))
    lr = torch.rand(1, 3, 50, 20)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        with torch.inference_mode():
            out = fast.upscale_rgb(lr, as_uint8=True)
    finally:
        torch.set_num_threads(threads)
    assert out.shape == (1, 100, 40, 3)


def test_cpu_fast_path_structure() -> None:
    """FSRCNN on CPU: banded, first PReLU split, x2 tail with 2 packed columns, x3 widened to 16."""
    from srnet.deploy.banded import SplitPReLU

    x2, x3 = deploy(_net(2)).banded, deploy(_net(3)).banded
    assert isinstance(x2.stages[0].conv, SplitPReLU)
    assert x2.tail_group == 2 and x2.tail_packed.conv.weight.shape[:2] == (8, 112)
    assert x3.tail_group == 1 and x3.tail_packed.conv.weight.shape[0] == 16
    assert DeployedNet(_net(2), torch.device("cpu"), torch.bfloat16).banded is None


def test_public_fallback_switch_gives_the_same_results() -> None:
    """The F.conv2d fallback (private oneDNN ops switched off) gives the same results."""
    net = _net(2)
    lr = torch.rand(1, 3, 30, 22)
    set_private_ops(None)
    fast = deploy(net)
    ref = fast.upscale_rgb(lr), fast(rgb_to_y(lr))
    assert (fast.banded.stages[0].conv.lin.packed is not None) == private_ops_available()
    set_private_ops(False)
    plain = deploy(net)
    assert plain.banded.stages[0].conv.lin.packed is None
    assert all(c.fast.packed is None for c in plain.banded.tail_packed.pre)
    out = plain.upscale_rgb(lr), plain(rgb_to_y(lr))
    for a, b in zip(ref, out, strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=0)


def test_env_switch_and_missing_private_ops(monkeypatch: pytest.MonkeyPatch) -> None:
    """SRNET_PUBLIC_OPS=1 forces the fallback; a PyTorch without the private ops (simulated:
    ``torch.ops.mkldnn`` gone) falls back at the probe, never at import."""
    set_private_ops(None)
    monkeypatch.setenv("SRNET_PUBLIC_OPS", "1")
    assert not private_ops_enabled()
    monkeypatch.delenv("SRNET_PUBLIC_OPS")
    net, lr = _net(3), torch.rand(1, 3, 26, 31)
    ref = deploy(net).upscale_rgb(lr, as_uint8=True)
    monkeypatch.setattr(torch.ops, "mkldnn", object())
    private_ops_available.cache_clear()
    try:
        assert not private_ops_available() and not private_ops_enabled()
        out = deploy(net).upscale_rgb(lr, as_uint8=True)
    finally:
        monkeypatch.undo()
        private_ops_available.cache_clear()
    assert (out.int() - ref.int()).abs().max() <= 1


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_fast_rgb_psnr_equals_reference_set5(scale: int, shared_data: Path) -> None:
    """Set5 (protocol PSNR on Y): the fast colour path scores what super_resolve scores."""
    net = _net(scale, tail_init="smooth")
    fast = deploy(net)
    for path in sorted((shared_data / "benchmark/Set5" / f"X{scale}" / "HR").glob("*.png")):
        hr = mod_crop(to_tensor(read_rgb(path)), scale)
        lr = bicubic_down(hr, scale)
        ref = psnr(super_resolve(net, lr), hr, scale).item()
        got = psnr(fast.upscale_rgb(lr, as_uint8=True).permute(0, 3, 1, 2).float() / 255, hr,
                   scale).item()
        assert abs(got - ref) < 0.01, (path.name, got, ref)
