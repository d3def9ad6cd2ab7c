"""Any output size (issue 14): ``outscale=`` / ``width=`` / ``height=`` give exact sizes, the
smallest trained scale that reaches the size, and quality no worse than that trained scale
followed by the same resize (done in float, rounded once), and better than bicubic."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import compose_infer, smooth_image, tiny_weights
from PIL import Image
from skimage import data

from srnet.app.app import infer
from srnet.infer.models import load_model
from srnet.infer.resize import OutputSize, pick_scale, resize
from srnet.io.images import read_picture
from srnet.io.pictures import to_tensor


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> Path:
    return tiny_weights(tmp_path_factory.mktemp("w") / "w.pt")


def run(tmp_path: Path, *overrides: str) -> int:
    return infer(compose_infer(tmp_path, "progress=false", *overrides))


def y_psnr(a: np.ndarray, b: np.ndarray, border: int = 4) -> float:
    """Y (BT.601) PSNR of two uint8 RGB images, ``border`` pixels cropped."""
    w = np.array([65.481, 128.553, 24.966]) / 255
    ya, yb = (x.astype(np.float64) @ w for x in (a, b))
    d = (ya - yb)[border:-border, border:-border]
    return float(10 * np.log10(255**2 / np.mean(d**2)))


def test_sizes_and_scale_choice():
    assert OutputSize(1.5).size(37, 23, 2) == (56, 35)  # 55.5 and 34.5 rounded half up
    assert OutputSize(width=100).size(37, 23, 2) == (100, 62)
    assert OutputSize(height=50).size(37, 23, 2) == (80, 50)
    assert OutputSize(width=90, height=40).size(37, 23, 2) == (90, 40)
    assert OutputSize().size(37, 23, 3) == (111, 69) and OutputSize().factor(37, 23) is None
    assert [pick_scale(f, (2, 3, 4)) for f in (0.5, 1.5, 2, 2.01, 3.5, 4, 6)] == [2, 2, 2, 3, 4,
                                                                                 4, 4]


@pytest.mark.parametrize("args,match", [(("outscale=1.5", "width=10"), "give one"),
                                        (("outscale=-1",), "outscale=-1"),
                                        (("width=abc",), "width='abc'"),
                                        (("height=2.5",), "height=2.5")])
def test_bad_size_settings_are_usage_errors(tmp_path, weights, capsys, args, match):
    Image.fromarray(smooth_image(10, 12)).save(tmp_path / "a.png")
    assert run(tmp_path, f"input={tmp_path / 'a.png'}", f"output={tmp_path / 'o'}",
               f"ckpt_path={weights}", *args) == 2
    assert match in capsys.readouterr().err and not (tmp_path / "o").exists()


def test_exact_sizes_for_every_kind(tmp_path, weights):
    src = tmp_path / "in"
    src.mkdir()
    rgb = smooth_image(23, 37)
    Image.fromarray(rgb).save(src / "photo.jpg")
    Image.fromarray(np.dstack([rgb, rgb[..., :1]])).save(src / "rgba.png")
    deep = (rgb.astype(np.uint16) * 257)[..., 0]
    Image.fromarray(deep).save(src / "deep.png")
    for args, want in ((("outscale=1.5",), (56, 35)), (("width=100",), (100, 62)),
                       (("height=50",), (80, 50)), (("width=90", "height=40"), (90, 40))):
        out = tmp_path / "_".join(args).replace("=", "")
        assert run(tmp_path, f"input={src}", f"output={out}", f"ckpt_path={weights}", *args) == 0
        for name in ("photo.jpg", "rgba.png", "deep.png"):
            pic = read_picture(out / name)
            assert pic.pixels.shape[1::-1] == want, (args, name)
        assert read_picture(out / "rgba.png").alpha is not None
        assert read_picture(out / "deep.png").bits == 16


def test_compare_panels_have_the_output_size(tmp_path, weights):
    Image.fromarray(smooth_image(20, 30)).save(tmp_path / "a.png")
    assert run(tmp_path, f"input={tmp_path / 'a.png'}", f"output={tmp_path / 'o'}",
               f"ckpt_path={weights}", "outscale=1.5", "compare=true") == 0
    assert Image.open(tmp_path / "o" / "a_compare.png").size == (3 * 45, 30)


@pytest.mark.parametrize("factor", [1.5, 2.5, 3.5])
def test_quality_no_worse_than_the_trained_scale_plus_the_same_resize(tmp_path, factor):
    """Bundled weights: outscale picks x2 / x3 / x4; the result is as good as that network's
    float output resized the same way, and better than bicubic, against the true HR image."""
    hr = data.astronaut()[100:340, 140:380]  # 240 x 240
    lr_size = round(240 / factor)
    lr = resize(to_tensor(hr), (lr_size, lr_size))
    lr_u8 = lr[0].mul(255).round().byte().permute(1, 2, 0).numpy()
    Image.fromarray(lr_u8).save(tmp_path / "lr.png")
    outscale = 240 / lr_size
    assert run(tmp_path, f"input={tmp_path / 'lr.png'}", f"output={tmp_path / 'o'}",
               f"outscale={outscale}") == 0
    ours = np.asarray(Image.open(tmp_path / "o" / "lr.png"))
    assert ours.shape == (240, 240, 3)
    s = pick_scale(outscale, (2, 3, 4))
    assert f"weights bundled x{s}" in Image.open(tmp_path / "o" / "lr.png").text["Description"]
    net = load_model(f"x{s}", "cpu")
    with torch.no_grad():
        ref = resize(net.upscale(to_tensor(lr_u8)), (240, 240))
    ref = ref[0].mul(255).round().byte().permute(1, 2, 0).numpy()
    bicubic = resize(to_tensor(lr_u8), (240, 240))[0].mul(255).round().byte().permute(1, 2, 0)
    assert y_psnr(ours, hr) >= y_psnr(ref, hr) - 0.02
    assert y_psnr(ours, hr) > y_psnr(bicubic.numpy(), hr) + 0.3


def test_one_checkpoint_serves_every_size(tmp_path, weights, caplog):
    """With ckpt_path the checkpoint's scale is the only one: x2 then resize, even up to x3."""
    Image.fromarray(smooth_image(20, 30)).save(tmp_path / "a.png")
    assert run(tmp_path, f"input={tmp_path / 'a.png'}", f"output={tmp_path / 'o'}",
               f"ckpt_path={weights}", "outscale=3") == 0
    im = Image.open(tmp_path / "o" / "a.png")
    assert im.size == (90, 60) and "w.pt, x2, then an antialiased bicubic resize" in im.text[
        "Description"]
    assert "more than the network's x2" in caplog.text
