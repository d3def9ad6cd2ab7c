"""Every input kind of issue 4 through the Python API and srnet.io.images, with generated files.

8-bit RGB, grey (stays grey), RGBA / LA / palette with transparency (alpha enlarged on its own
and kept), 16-bit grey and colour PNG/TIFF (kept 16-bit), EXIF-rotated JPEG (upright), CMYK JPEG
(converted with a warning), sizes down to 1x1 and thin strips, and unreadable files.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import stat
import sys
import zlib

import numpy as np
import png
import pytest
import tifffile
import torch
from helpers import smooth_image
from PIL import Image, ImageCms, ImageOps

from srnet.infer.upscaler import Upscaler
from srnet.io.images import read_picture, to_uint8, write_picture
from srnet.io.pictures import Picture, orient, picture_from_pil, to_tensor
from srnet.nets.fsrcnn import FSRCNN
from srnet.ops.reference import super_resolve
from srnet.ops.resize import upscale


def make_model(scale: int = 2, color_mode: str = "y") -> Upscaler:
    """A tiny random FSRCNN whose output varies around mid-grey (so little is clamped)."""
    torch.manual_seed(scale)
    net = FSRCNN(scale=scale, color_mode=color_mode, d=8, s=4, m=1)
    with torch.no_grad():
        net.tail.deconv.weight.mul_(0.2)
        net.tail.deconv.bias.fill_(0.5)
    return Upscaler(net, device="cpu")


@pytest.fixture(scope="module")
def model() -> Upscaler:
    return make_model(2, "y")


def expected_rgb(model: Upscaler, rgb: np.ndarray) -> np.ndarray:
    """The whole-image reference: super_resolve on the uint8 RGB image, rounded."""
    return to_uint8(super_resolve(model.net, to_tensor(rgb)))


def expected_alpha(alpha: np.ndarray, s: int) -> np.ndarray:
    return to_uint8(upscale(to_tensor(alpha), s, "bicubic"))[..., 0]


def close(a: np.ndarray, b: np.ndarray, atol: int = 1) -> bool:
    return a.shape == b.shape and int(np.abs(a.astype(np.int64) - b.astype(np.int64)).max()) <= atol


def write16(path, arr: np.ndarray, **tiff_kwargs) -> None:
    """(H, W, 3|4) uint16 RGB(A) -> 16-bit PNG / TIFF, written without srnet."""
    h, w, c = arr.shape
    if path.suffix == ".png":
        with open(path, "wb") as f:
            png.Writer(w, h, greyscale=False, alpha=c == 4, bitdepth=16).write(f, arr.reshape(h, w * c))
    else:
        tiff_kwargs.setdefault("extrasamples", ["unassalpha"] if c == 4 else None)
        tifffile.imwrite(path, arr, photometric="rgb", planarconfig="contig", **tiff_kwargs)


def read16(path) -> np.ndarray:
    """A 16-bit PNG / TIFF -> (H, W, C) uint16 as stored, read without srnet."""
    if path.suffix != ".png":
        return tifffile.imread(path)
    w, h, rows, info = png.Reader(filename=str(path)).read()
    return np.array([list(r) for r in rows], np.uint16).reshape(h, w, info["planes"])


@pytest.mark.parametrize("scale,mode", [(2, "y"), (3, "rgb"), (4, "y")])
def test_rgb_8bit_file(tmp_path, scale, mode):
    m = make_model(scale, mode)
    img = smooth_image(21, 34, seed=1)
    Image.fromarray(img).save(tmp_path / "a.png")
    out = m.upscale_picture(read_picture(tmp_path / "a.png"))
    assert out.pixels.dtype == np.uint8 and out.alpha is None
    assert close(out.pixels, expected_rgb(m, img))
    write_picture(out, tmp_path / "b.png")
    back = Image.open(tmp_path / "b.png")
    assert back.mode == "RGB" and back.size == (34 * scale, 21 * scale)


def test_grey_stays_grey(tmp_path, model):
    grey = smooth_image(17, 25, seed=2, channels=1)[..., 0]
    Image.fromarray(grey, "L").save(tmp_path / "g.png")
    out = model.upscale_picture(read_picture(tmp_path / "g.png"))
    assert out.pixels.shape == (34, 50, 1)
    ref = expected_rgb(model, np.repeat(grey[..., None], 3, 2))  # R = G = B for a y model
    assert close(out.pixels[..., 0], ref[..., 0]) and close(ref[..., 0], ref[..., 2])
    write_picture(out, tmp_path / "g2.png")
    assert Image.open(tmp_path / "g2.png").mode == "L"
    assert model.upscale(Image.fromarray(grey, "L")).mode == "L"


@pytest.mark.parametrize("kind", ["RGBA", "LA", "P"])
def test_alpha_is_enlarged_separately_and_kept(tmp_path, model, kind):
    rgb = smooth_image(19, 23, seed=3)
    alpha = smooth_image(19, 23, seed=4, channels=1)[..., 0]
    if kind == "RGBA":
        im = Image.fromarray(np.dstack([rgb, alpha]), "RGBA")
    elif kind == "LA":
        im = Image.fromarray(np.dstack([rgb[..., :1], alpha[..., None]]).copy(), "LA")
    else:  # palette with a transparent entry
        im = Image.fromarray(rgb).quantize(16)
        im.info["transparency"] = 0
        alpha = np.where(np.asarray(im) == 0, 0, 255).astype(np.uint8)
    im.save(tmp_path / "in.png")
    pic = read_picture(tmp_path / "in.png")
    assert pic.alpha is not None and np.array_equal(pic.alpha, alpha)
    out = model.upscale_picture(pic)
    assert close(out.alpha, expected_alpha(alpha, 2))
    colour = np.repeat(pic.pixels, 3 // pic.pixels.shape[2], 2)
    assert close(out.pixels[..., 0], expected_rgb(model, colour)[..., 0])
    write_picture(out, tmp_path / "out.png")
    back = Image.open(tmp_path / "out.png")
    assert back.mode == ("LA" if kind == "LA" else "RGBA") and back.size == (46, 38)
    with pytest.raises(ValueError, match="alpha"):
        write_picture(out, tmp_path / "out.jpg")


def test_16bit_grey_png_and_tiff(tmp_path, model):
    base = smooth_image(15, 22, seed=5, channels=1)[..., 0].astype(np.uint16) * 257
    img16 = base + np.random.default_rng(0).integers(0, 200, base.shape).astype(np.uint16)
    for suffix in (".png", ".tif"):
        Image.fromarray(img16).save(tmp_path / f"g16{suffix}")
        pic = read_picture(tmp_path / f"g16{suffix}")
        assert pic.pixels.dtype == np.uint16 and np.array_equal(pic.pixels[..., 0], img16)
        out = model.upscale_picture(pic)
        ref = super_resolve(model.net, torch.from_numpy(img16 / 65535.0).float()[None, None]
                            .expand(1, 3, -1, -1))[0, 0]
        ref16 = (ref * 65535).round().numpy()
        assert out.pixels.dtype == np.uint16 and close(out.pixels[..., 0], ref16, atol=2)
        assert np.any(out.pixels % 257 != 0)  # real 16-bit precision, not 8-bit levels
        write_picture(out, tmp_path / f"o16{suffix}")
        back = np.asarray(Image.open(tmp_path / f"o16{suffix}"))
        assert back.dtype.itemsize == 2 and np.array_equal(back, out.pixels[..., 0])
    with pytest.raises(ValueError, match="16 bit"):
        write_picture(out, tmp_path / "o16.jpg")


@pytest.mark.parametrize("suffix,channels", [(".png", 3), (".tif", 3), (".png", 4), (".tif", 4)])
def test_16bit_colour_without_opencv(tmp_path, model, monkeypatch, suffix, channels):
    monkeypatch.setitem(sys.modules, "cv2", None)  # pypng / tifffile only
    with pytest.raises(ImportError):
        import cv2  # noqa: F401
    rgb16 = smooth_image(14, 18, seed=6, channels=channels).astype(np.uint16) * 257 + 100
    rgb16[..., :3] += np.random.default_rng(1).integers(0, 150, (14, 18, 3), np.uint16)
    write16(tmp_path / f"c16{suffix}", rgb16)
    pic = read_picture(tmp_path / f"c16{suffix}")
    assert pic.pixels.dtype == np.uint16 and np.array_equal(pic.pixels, rgb16[..., :3])
    assert (pic.alpha is not None) == (channels == 4)
    assert channels == 3 or np.array_equal(pic.alpha, rgb16[..., 3])
    out = model.upscale_picture(pic)
    ref = super_resolve(model.net, torch.from_numpy(rgb16[..., :3] / 65535.0).float()
                        .permute(2, 0, 1)[None])[0].permute(1, 2, 0)
    assert close(out.pixels, (ref * 65535).round().numpy(), atol=2)
    assert np.any(out.pixels % 257 != 0)  # real 16-bit precision, not 8-bit levels
    write_picture(out, tmp_path / f"o16{suffix}")
    back = read16(tmp_path / f"o16{suffix}")  # independent decoder
    assert back.dtype == np.uint16 and back.shape == (28, 36, channels)
    assert np.array_equal(back[..., :3], out.pixels)
    assert channels == 3 or np.array_equal(back[..., 3], out.alpha)
    again = read_picture(tmp_path / f"o16{suffix}")  # exact round trip through srnet
    assert np.array_equal(again.pixels, out.pixels) and (channels == 3 or np.array_equal(
        again.alpha, out.alpha))
    with Image.open(tmp_path / f"o16{suffix}") as im:  # and Pillow opens it (at 8 bit)
        assert np.array_equal(np.asarray(im)[..., :3], (out.pixels >> 8).astype(np.uint8))


def test_16bit_layouts_orientation_icc_and_errors(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "cv2", None)
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    rgba = np.random.default_rng(2).integers(0, 65536, (4, 6, 4), np.uint16)
    rgba[..., 3] = np.where(rgba[..., 3] > 30000, 65535, 40000)
    # PNG with eXIf orientation 6 and iCCP (chunks added without srnet); upright like Pillow's
    write16(tmp_path / "o.png", rgba)
    exif = Image.Exif()
    exif[0x0112] = 6
    chunks = list(png.Reader(filename=str(tmp_path / "o.png")).chunks())
    chunks[1:1] = [(b"iCCP", b"sRGB\0\0" + zlib.compress(icc)), (b"eXIf", exif.tobytes()[6:])]
    with open(tmp_path / "o.png", "wb") as f:
        png.write_chunks(f, chunks)
    pic = read_picture(tmp_path / "o.png")
    assert np.array_equal(pic.pixels, orient(rgba[..., :3], 6)) and pic.icc_profile == icc
    with Image.open(tmp_path / "o.png") as im:
        assert np.array_equal(np.asarray(ImageOps.exif_transpose(im))[..., :3], pic.pixels >> 8)
    write_picture(pic, tmp_path / "o2.png")
    assert Image.open(tmp_path / "o2.png").info["icc_profile"] == icc
    # planar TIFF with premultiplied alpha, orientation 8 and ICC -> straight alpha, upright
    premul = np.round(rgba[..., :3] * (rgba[..., 3:] / 65535.0)).astype(np.uint16)
    tifffile.imwrite(tmp_path / "p.tif", np.moveaxis(np.dstack([premul, rgba[..., 3]]), 2, 0),
                     photometric="rgb", planarconfig="separate", extrasamples=["assocalpha"],
                     iccprofile=icc, extratags=[(274, "H", 1, 8, True)])
    pic = read_picture(tmp_path / "p.tif")
    assert close(pic.pixels, orient(rgba[..., :3], 8), atol=1) and pic.icc_profile == icc
    assert np.array_equal(pic.alpha, orient(rgba[..., 3], 8))
    write_picture(pic, tmp_path / "p2.tif")
    assert tifffile.TiffFile(tmp_path / "p2.tif").pages.first.iccprofile == icc
    # 16-bit grey + alpha PNG stays grey (PNG) and becomes RGBA in TIFF; tRNS colour key -> alpha
    with open(tmp_path / "la.png", "wb") as f:
        png.Writer(6, 4, greyscale=True, alpha=True, bitdepth=16).write(f, rgba[..., 2:].reshape(4, 12))
    la = read_picture(tmp_path / "la.png")
    assert la.describe() == "6x4 grey+alpha 16-bit" and np.array_equal(la.pixels[..., 0], rgba[..., 2])
    write_picture(la, tmp_path / "la2.png")
    assert np.array_equal(read16(tmp_path / "la2.png"), rgba[..., 2:])
    write_picture(la, tmp_path / "la.tif")
    assert np.array_equal(read16(tmp_path / "la.tif"), rgba[..., [2, 2, 2, 3]])
    with open(tmp_path / "key.png", "wb") as f:
        key = tuple(int(v) for v in rgba[0, 0, :3])
        png.Writer(6, 4, greyscale=False, bitdepth=16, transparent=key).write(
            f, rgba[..., :3].reshape(4, 18))
    assert read_picture(tmp_path / "key.png").alpha[0, 0] == 0
    # undecodable compression and truncation: OSError naming the file
    if importlib.util.find_spec("imagecodecs") is None:
        write16(tmp_path / "lzw.tif", rgba)
        with tifffile.TiffFile(tmp_path / "lzw.tif", mode="r+b") as tf:
            tf.pages.first.tags[259].overwrite(5)  # claim LZW
        with pytest.raises(OSError, match=r"lzw\.tif.*imagecodecs"):
            read_picture(tmp_path / "lzw.tif")
    (tmp_path / "cut.png").write_bytes((tmp_path / "o.png").read_bytes()[:-30])
    with pytest.raises(OSError, match=r"cut\.png"):
        read_picture(tmp_path / "cut.png")


def test_16bit_colour_files_interoperate_with_opencv(tmp_path):
    cv2 = pytest.importorskip("cv2")
    bgra = np.random.default_rng(3).integers(0, 65536, (5, 7, 4), np.uint16)
    rgba = bgra[..., [2, 1, 0, 3]]
    for suffix in (".png", ".tif"):
        cv2.imwrite(str(tmp_path / f"cv{suffix}"), bgra, [cv2.IMWRITE_TIFF_COMPRESSION, 1])
        pic = read_picture(tmp_path / f"cv{suffix}")
        assert np.array_equal(pic.pixels, rgba[..., :3]) and np.array_equal(pic.alpha, rgba[..., 3])
        write_picture(pic, tmp_path / f"srnet{suffix}")
        assert np.array_equal(cv2.imread(str(tmp_path / f"srnet{suffix}"), cv2.IMREAD_UNCHANGED), bgra)


def test_exif_rotated_jpeg_comes_out_upright(tmp_path, model):
    img = np.zeros((20, 40, 3), np.uint8)
    img[:, 20:] = 255  # stored: left black, right white
    exif = Image.Exif()
    exif[0x0112] = 6  # display rotated 90 degrees clockwise
    Image.fromarray(img).save(tmp_path / "r.jpg", exif=exif, quality=95)
    pic = read_picture(tmp_path / "r.jpg")
    assert pic.pixels.shape == (40, 20, 3)  # upright: portrait
    assert pic.pixels[:15].mean() < 30 and pic.pixels[25:].mean() > 225  # black on top
    out = model.upscale(Image.open(tmp_path / "r.jpg"))
    assert out.size == (40, 80)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_numpy_orientation_matches_pillow(orientation):
    arr = np.arange(5 * 7 * 3, dtype=np.uint8).reshape(5, 7, 3)
    im = Image.fromarray(arr)
    im.getexif()[0x0112] = orientation
    assert np.array_equal(orient(arr, orientation), np.asarray(ImageOps.exif_transpose(im)))


def test_cmyk_jpeg_converted_with_warning(tmp_path, model, caplog):
    Image.new("CMYK", (13, 9), (0, 255, 255, 0)).save(tmp_path / "c.jpg")  # red in CMYK
    with caplog.at_level(logging.WARNING):
        pic = read_picture(tmp_path / "c.jpg")
    assert "CMYK" in caplog.text and "c.jpg" in caplog.text
    assert pic.pixels.shape == (9, 13, 3)
    r, g, b = pic.pixels.reshape(-1, 3).mean(0)
    assert r > 200 and g < 60 and b < 60
    assert model.upscale_picture(pic).pixels.shape == (18, 26, 3)


@pytest.mark.parametrize("h,w", [(1, 1), (1, 37), (23, 1), (2, 3)])
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_tiny_sizes_and_thin_strips(tmp_path, h, w, scale):
    m = make_model(scale, "y")
    img = smooth_image(h, w, seed=7)
    out = m.upscale(img)
    assert out.shape == (h * scale, w * scale, 3) and out.dtype == np.uint8
    assert close(out, expected_rgb(m, img))
    assert m.upscale(img[..., 0]).shape == (h * scale, w * scale)
    Image.fromarray(img).save(tmp_path / "t.png")
    assert m.upscale_picture(read_picture(tmp_path / "t.png")).pixels.shape[:2] == (h * scale,
                                                                                   w * scale)


def test_api_types_and_layouts(model):
    rgb = smooth_image(9, 11, seed=8)
    assert model.upscale(rgb[..., :1]).shape == (18, 22, 1)
    assert model.upscale(np.dstack([rgb, rgb[..., :1]])).shape == (18, 22, 4)
    assert model.upscale(rgb.astype(np.uint16) * 257).dtype == np.uint16
    for mode in ("RGB", "RGBA", "L", "LA", "I;16"):
        im = Image.fromarray(rgb).convert(mode)
        assert model.upscale(im).mode == mode and model.upscale(im).size == (22, 18)
    assert model.upscale(Image.fromarray(rgb).quantize(8)).mode == "RGB"
    x = torch.rand(2, 3, 9, 11)
    torch.testing.assert_close(model.upscale(x), super_resolve(model.net, x), atol=1e-5, rtol=0)
    assert model.upscale_tensor(torch.rand(1, 1, 5, 4)).shape == (1, 1, 10, 8)
    assert model.net(torch.rand(1, 1, 5, 4)).shape == (1, 1, 10, 8)  # the nn.Module, Y in
    with pytest.raises(ValueError, match="uint8 or uint16"):
        model.upscale(rgb.astype(np.float32))
    with pytest.raises(TypeError):
        model.upscale("photo.png")


@pytest.mark.parametrize("kind", ["folder", "empty", "text", "truncated"])
def test_unreadable_files_raise_oserror_naming_the_file(tmp_path, kind):
    path = tmp_path / "bad.png"
    if kind == "folder":
        path.mkdir()
    elif kind == "empty":
        path.touch()
    elif kind == "text":
        path.write_text("not an image")
    else:
        Image.fromarray(smooth_image(64, 64)).save(tmp_path / "ok.png")
        path.write_bytes((tmp_path / "ok.png").read_bytes()[:300])
    with pytest.raises(OSError) as err:
        read_picture(path)
    assert str(path) in str(err.value)


def test_write_is_atomic_safe_and_keeps_icc(tmp_path):
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    pic = Picture(smooth_image(8, 8), icc_profile=icc)
    path = write_picture(pic, tmp_path / "o.png")
    assert Image.open(path).info.get("icc_profile") == icc
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask  # not mkstemp's 0600
    with pytest.raises(FileExistsError, match="overwrite=true"):
        write_picture(Picture(np.zeros((4, 4, 3), np.uint8)), path)
    assert Image.open(path).size == (8, 8)  # untouched
    write_picture(Picture(np.zeros((4, 4, 3), np.uint8)), path, overwrite=True)
    assert Image.open(path).size == (4, 4)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.png"]  # no temporary files left


def test_picture_from_pil_refuses_float_images():
    with pytest.raises(ValueError, match="mode 'F'"):
        picture_from_pil(Image.new("F", (3, 3)))
