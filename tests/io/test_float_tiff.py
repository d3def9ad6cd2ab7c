"""32-bit float grey / RGB / RGBA TIFF in and out (issue 14): read exactly, upscaled without
clamping (values below 0 and above 1 survive), written as float TIFF."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
import torch
from helpers import compose_infer, smooth_image

from srnet.app.app import infer
from srnet.infer.floats import upscale_float
from srnet.infer.models import load_model
from srnet.io.images import read_picture, write_picture
from srnet.io.pictures import Picture
from srnet.ops.resize import enlarge


@pytest.fixture(scope="module")
def model():
    return load_model("x2", "cpu")  # a trained network: its output follows the input's range


def hdr(h: int = 12, w: int = 16, channels: int = 3) -> np.ndarray:
    """Float values from about -0.1 to 1.9: highlights above 1 and a negative offset."""
    return (smooth_image(h, w, channels=channels).astype(np.float32) / 255) * 3 - 0.5


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_float_tiff_roundtrip_is_exact(tmp_path, channels):
    arr = hdr(channels=channels)
    tifffile.imwrite(tmp_path / "in.tif", arr if channels > 1 else arr[..., 0],
                     photometric="rgb" if channels >= 3 else "minisblack",
                     extrasamples=["unassalpha"] if channels == 4 else None)
    pic = read_picture(tmp_path / "in.tif")
    assert pic.is_float and "32-bit float" in pic.describe()
    assert np.array_equal(pic.pixels[..., :3 if channels > 1 else 1], arr[..., :3 if channels > 1
                                                                            else 1])
    assert (pic.alpha is not None) == (channels == 4)
    write_picture(pic, tmp_path / "out.tif", text={"Software": "srnet", "Description": "d"})
    back = tifffile.imread(tmp_path / "out.tif")
    assert back.dtype == np.float32 and np.array_equal(back.reshape(arr.shape), arr)
    with tifffile.TiffFile(tmp_path / "out.tif") as tf:
        assert tf.pages.first.description == "d" and tf.pages.first.software == "srnet"


@pytest.mark.parametrize("dtype", [np.float16, np.float64])
def test_other_float_depths_are_read_as_float32(tmp_path, dtype):
    tifffile.imwrite(tmp_path / "in.tif", hdr().astype(dtype), photometric="rgb")
    pic = read_picture(tmp_path / "in.tif")
    assert pic.pixels.dtype == np.float32
    np.testing.assert_allclose(pic.pixels, hdr(), atol=2e-3)


def test_float_needs_tiff_and_has_no_integer_levels(tmp_path, model):
    pic = Picture(hdr())
    with pytest.raises(ValueError, match="cannot hold 32-bit float"):
        write_picture(pic, tmp_path / "x.png")
    with pytest.raises(ValueError, match="upscale_float"):
        model.upscale_picture(pic)  # the integer path refuses rather than rounding to 0/1
    with pytest.raises(ValueError, match="no integer levels"):
        _ = pic.max_value


def test_upscale_float_is_unclamped_and_matches_the_integer_path_in_range(model):
    x = hdr(channels=3)
    out = upscale_float(model, Picture(x)).pixels
    assert out.shape == (24, 32, 3) and out.dtype == np.float32
    assert x.min() < -0.1 and x.max() > 1.8
    assert out.min() < -0.1 and out.max() > 1.8  # nothing clipped to [0, 1]
    bicubic = enlarge(torch.from_numpy(x).permute(2, 0, 1)[None], 2, "bicubic", clamp=False)
    assert np.abs(out - bicubic[0].permute(1, 2, 0).numpy()).mean() < 0.05  # it tracks the input
    inside = smooth_image(12, 16).astype(np.float32) / 255 * 0.6 + 0.2
    ref = model.upscale(torch.from_numpy(inside).permute(2, 0, 1)[None])[0].permute(1, 2, 0)
    got = upscale_float(model, Picture(inside)).pixels
    np.testing.assert_allclose(got, ref.numpy(), atol=1e-4)
    grey = upscale_float(model, Picture(inside[..., :1].copy())).pixels
    assert grey.shape == (24, 32, 1)


def test_float_tiff_through_infer(tmp_path):
    """Kept float (a .png asked for is switched to .tif), with a float compare panel."""
    tifffile.imwrite(tmp_path / "scan.tif", hdr(), photometric="rgb")
    for ext, name in ((None, "scan.tif"), (".png", "scan.tif")):
        out = tmp_path / f"o_{(ext or 'null').strip('.')}"
        cfg = compose_infer(tmp_path, f"input={tmp_path / 'scan.tif'}", f"output={out}",
                            "compare=true", f"ext={ext or 'null'}", "progress=false")
        assert infer(cfg) == 0
        back = tifffile.imread(out / name)
        assert back.dtype == np.float32 and back.shape == (24, 32, 3) and back.max() > 1.8
        side = tifffile.imread(out / "scan_compare.tif")
        assert side.shape == (24, 96, 3) and side.dtype == np.float32
