"""Tiled inference equals the whole-image pass; the integer-image user path (uint8, 16-bit, grey,
alpha, batches) equals the reference; OOM retry; precision and its fp32 fallback. Every test runs
with the private oneDNN ops and with the public fallback forced."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
import torch
from helpers import smooth_image
from torch import nn

from srnet.deploy.ops import set_private_ops
from srnet.infer.devices import check_precision
from srnet.infer.tiling import Tiler
from srnet.infer.upscaler import Upscaler, prepare_net
from srnet.io.images import to_uint8
from srnet.io.pictures import to_tensor
from srnet.nets.fsrcnn import FSRCNN
from srnet.ops.reference import super_resolve
from srnet.ops.resize import enlarge


@pytest.fixture(autouse=True, params=["private", "public"])
def conv_ops(request):
    set_private_ops(None if request.param == "private" else False)
    yield request.param
    set_private_ops(None)


def net_for(scale: int, color_mode: str = "y", tail: str = "deconv", m: int = 2) -> FSRCNN:
    torch.manual_seed(scale + m)
    return FSRCNN(scale=scale, color_mode=color_mode, d=12, s=5, m=m, tail=tail)


@pytest.mark.parametrize("scale", [2, 3, 4])
@pytest.mark.parametrize("color_mode", ["y", "rgb"])
def test_tiled_equals_untiled(scale, color_mode):
    net = net_for(scale, color_mode)
    x = torch.rand(1, 3, 45, 61)
    whole = Upscaler(net, device="cpu", tile=0).upscale_tensor(x)
    torch.testing.assert_close(whole, super_resolve(net, x), atol=1e-6, rtol=0)
    for tile in (7, 16, 30):
        tiled = Upscaler(net, device="cpu", tile=tile).upscale_tensor(x)
        assert tiled.shape == (1, 3, 45 * scale, 61 * scale)
        assert (tiled - whole).abs().max().item() <= 1e-5, f"tile={tile}"


def test_tiled_equals_untiled_far_from_the_origin():
    """x3 bicubic chroma / alpha: float32 sampling positions drift with the distance from the
    origin (1.6e-4 at 1100 LR pixels before ``enlarge`` used float64)."""
    net = net_for(3, "y", m=1)
    x = torch.rand(1, 3, 12, 1100)
    whole = Upscaler(net, device="cpu", tile=0)
    tiled = Upscaler(net, device="cpu", tile=128)
    assert (tiled.upscale_tensor(x) - whole.upscale_tensor(x)).abs().max().item() <= 1e-5
    a = torch.rand(1, 1, 12, 1100)
    fn = partial(enlarge, scale=3, method="bicubic")
    diff = tiled.tiler.run(fn, a, 3, 3) - whole.tiler.run(fn, a, 3, 3)
    assert diff.abs().max().item() <= 1e-5


@pytest.mark.parametrize("tail", ["pixelshuffle", "resize_conv", "bed_of_nails"])
def test_tiled_equals_untiled_other_tails(tail):
    net = net_for(3, "rgb", tail, m=4)
    x = torch.rand(1, 3, 33, 29)
    whole = Upscaler(net, device="cpu", tile=0).upscale_tensor(x)
    tiled = Upscaler(net, device="cpu", tile=8).upscale_tensor(x)
    assert (tiled - whole).abs().max().item() <= 1e-5


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and np.abs(a.astype(np.int64) - b.astype(np.int64)).max() <= 1


@pytest.mark.parametrize("scale,color_mode", [(2, "y"), (3, "y"), (4, "y"), (3, "rgb")])
@pytest.mark.parametrize("tile", [0, 13])
def test_uint8_user_path_equals_reference(scale, color_mode, tile):
    """``upscale(uint8 array)`` whole and in tiles: the reference network + merge, rounded."""
    net = net_for(scale, color_mode)
    img = smooth_image(37, 30, seed=scale)
    up = Upscaler(net, device="cpu", tile=tile)
    out = up.upscale(img)
    assert out.dtype == np.uint8 and _close(out, to_uint8(super_resolve(net, to_tensor(img))))
    grey = up.upscale(img[..., 1])
    ref = super_resolve(net, to_tensor(img[..., 1:2]).expand(-1, 3, -1, -1)).mean(1, keepdim=True)
    assert grey.shape == (37 * scale, 30 * scale) and _close(grey, to_uint8(ref)[..., 0])
    deep = up.upscale(img.astype(np.uint16) * 257 + 3)
    ref16 = super_resolve(net, to_tensor(img.astype(np.float32) * 257 + 3) / 257)
    assert deep.dtype == np.uint16
    assert _close(deep, ref16[0].clamp(0, 1).mul(65535).round().permute(1, 2, 0).numpy())
    rgba = up.upscale(np.dstack([img, img[..., :1]]))
    alpha = enlarge(to_tensor(img[..., :1]), scale, "bicubic")
    assert _close(rgba[..., :3], out) and _close(rgba[..., 3:], to_uint8(alpha))


def test_batches_run_as_one_and_equal_single_images():
    up = Upscaler(net_for(2), device="cpu")
    frames = np.stack([smooth_image(24, 31, seed=i) for i in range(3)])  # (N, H, W, 3)
    single = [up.upscale(f) for f in frames]
    calls = []
    fn = up._array_fn
    up._array_fn = lambda *a: (calls.append(a[2].shape), fn(*a))[1]
    stacked = up.upscale(frames)
    assert calls == [(3, 24, 31, 3)]  # one batch
    assert stacked.shape == (3, 48, 62, 3) and all(np.array_equal(a, b)
                                                   for a, b in zip(stacked, single, strict=True))
    mixed = [frames[0], smooth_image(10, 12, seed=9), frames[1], frames[2][..., 0]]
    outs = up.upscale(mixed)
    assert [o.shape for o in outs] == [(48, 62, 3), (20, 24, 3), (48, 62, 3), (48, 62)]
    assert np.array_equal(outs[2], single[1]) and np.array_equal(outs[0], single[0])
    assert calls[1:] == [(2, 24, 31, 3), (1, 10, 12, 3), (1, 24, 31, 1)]


def test_halo_smaller_than_receptive_field_would_show():
    """The control: without the halo, tile seams differ, so the equality test can fail."""
    net = net_for(2, "rgb")
    x = torch.rand(1, 3, 40, 40)
    whole = Upscaler(net, device="cpu", tile=0).upscale_tensor(x)
    bad = Upscaler(net, device="cpu", tile=10)
    bad.halo = 0
    assert (bad.upscale_tensor(x) - whole).abs().max().item() > 1e-3


def test_rounded_output_matches_and_tiles_stay_small():
    net = net_for(2, "y")
    up = Upscaler(net, device="cpu", tile=16)
    seen = []
    fn = up._image_fn
    up._image_fn = lambda t: (seen.append(tuple(t.shape[-2:])), fn(t))[1]
    img = torch.from_numpy(smooth_image(50, 70)).permute(2, 0, 1)[None].float() / 255
    rounded = up.tiler.run(up._image_fn, img, 2, up.halo, levels=255)
    whole = Upscaler(net, device="cpu", tile=0).upscale_tensor(img)
    ref = whole[0].clamp(0, 1).mul(255).round().permute(1, 2, 0).numpy()
    assert rounded.dtype == np.uint8 and np.abs(rounded - ref).max() <= 1
    assert len(seen) == 4 * 5 and max(max(s) for s in seen) <= 16 + 2 * up.halo


def test_auto_tile_retries_smaller_after_out_of_memory():
    calls = []

    def fn(t):  # pretends that more than 24 x 24 LR pixels do not fit
        calls.append(tuple(t.shape[-2:]))
        if t.shape[-1] * t.shape[-2] > 24 * 24:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return torch.nn.functional.interpolate(t, scale_factor=2, mode="nearest")

    x = torch.rand(1, 1, 100, 90)
    out = Tiler(torch.device("cpu"), "auto").run(fn, x, 2, halo=3)
    torch.testing.assert_close(out, torch.nn.functional.interpolate(x, scale_factor=2))
    assert calls[0] == (100, 90) and max(h * w for h, w in calls[-5:]) <= 24 * 24
    with pytest.raises(RuntimeError, match="out of memory with tile=64.*smaller tile="):
        Tiler(torch.device("cpu"), 64).run(fn, x, 2, halo=3)


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="tile="):
        Tiler(torch.device("cpu"), "big")
    with pytest.raises(ValueError, match="precision='fp8'"):
        check_precision("fp8", torch.device("cpu"))
    with pytest.raises(ValueError, match="fp16 needs a CUDA device"):
        Upscaler(net_for(2), device="cpu", precision="fp16")
    with pytest.raises(ValueError, match="device="):
        Upscaler(net_for(2), device="tpu")


def test_prepare_net_is_eval_on_device_and_equal():
    net = net_for(2).train()
    ready = prepare_net(net, "cpu", "fp32")
    x = torch.rand(1, 1, 9, 9)
    assert not ready.training
    torch.testing.assert_close(ready(x), net(x))


def test_bf16_runs_close_to_fp32():
    net = net_for(2, "rgb")
    x = torch.rand(1, 3, 20, 24)
    ref = Upscaler(net, device="cpu").upscale_tensor(x)
    low = Upscaler(net, device="cpu", precision="bf16")
    out = low.upscale_tensor(x)
    assert low.fallbacks == 0 and (out - ref).abs().max().item() < 0.05


class _InfUnderAutocast(nn.Module):
    """Returns inf when autocast is on (as an fp16 overflow would), the true output otherwise."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x):
        y = self.net(x)
        return y + float("inf") if torch.is_autocast_enabled(x.device.type) else y


def test_non_finite_low_precision_tile_falls_back_to_fp32():
    net = net_for(2, "y")
    x = torch.rand(1, 3, 30, 30)
    ref = Upscaler(net, device="cpu").upscale_tensor(x)
    up = Upscaler(net, device="cpu", precision="bf16", tile=16)
    up.runner = _InfUnderAutocast(up.runner)
    out = up.upscale_tensor(x)
    assert up.fallbacks == 4  # every tile re-run
    assert (out - ref).abs().max().item() <= 1e-5


def test_non_finite_even_in_fp32_is_an_error():
    net = net_for(2, "y")
    with torch.no_grad():
        net.tail.deconv.bias.fill_(float("nan"))
    with pytest.raises(FloatingPointError, match="not finite even in fp32"):
        Upscaler(net, device="cpu").upscale_tensor(torch.rand(1, 3, 8, 8))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("precision", ["fp32", "fp16", "bf16"])
def test_gpu_tiles_match_cpu(precision):
    net = net_for(3, "y")
    x = torch.rand(1, 3, 70, 50)
    ref = Upscaler(net, device="cpu", tile=0).upscale_tensor(x)
    up = Upscaler(net_for(3, "y"), device="cuda", precision=precision, tile="auto")
    out = up.upscale_tensor(x)
    assert out.device.type == "cpu"
    assert (out - ref).abs().max().item() < (1e-4 if precision == "fp32" else 0.05)
