"""scripts/upsampling_gallery.py on a generated image (fast)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from helpers import load_script, write_images
from PIL import Image

from srnet.io.checkpoints import save_weights
from srnet.nets.fsrcnn import FSRCNN, FSRCNNConfig

gallery = load_script("upsampling_gallery")


def test_gallery_on_generated_image(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.setattr(gallery, "WEIGHTS", tmp_path / "no_weights")  # no bundled model
    img = write_images(tmp_path / "in", 1, h=51, w=62)[0]  # mod-cropped to 50x62 at x2
    out = tmp_path / "gallery"
    argv = [f"input={img}", "scale=2", f"out_dir={out}", "crop=24", "zoom=2"]
    res = gallery.main(argv)
    assert res["png"] == out / "gallery_img_000_x2.png" and res["png"].is_file()
    assert not res["model"] and "model column skipped" in capsys.readouterr().out
    fig = Image.open(res["png"])
    assert fig.width == 4 * (24 * 2 + 10) + 10  # four 48-pixel panels a row, 10-pixel gaps
    scores = res["scores"]
    assert list(scores)[0].startswith("HR") and scores[list(scores)[0]][0] == float("inf")
    assert len(scores) == 1 + 6
    # smooth image: interpolation beats the zero-filling techniques by a wide margin
    assert scores["bicubic"][0] > scores["nearest"][0] > scores["bed of nails"][0] + 10
    assert scores["max-unpool (HR oracle)"][0] < 20
    table = res["md"].read_text()
    assert "| bicubic |" in table and "oracle" in table and "scale=2" in table
    with pytest.raises(SystemExit, match="overwrite=true"):
        gallery.main(argv)
    gallery.main([*argv, "overwrite=true"])


def test_gallery_with_a_checkpoint(tmp_path: Path):
    ckpt = save_weights(FSRCNN(FSRCNNConfig(scale=2, d=8, s=4, m=1)), tmp_path / "w.pt")
    img = write_images(tmp_path / "in", 1, h=40, w=44)[0]
    res = gallery.main([f"input={img}", "scale=2", f"out_dir={tmp_path / 'g'}", f"ckpt_path={ckpt}",
                        "crop=16"])
    assert res["model"] and "FSRCNN (learned deconv)" in res["scores"]
    assert "| FSRCNN (learned deconv) |" in res["md"].read_text()
    with pytest.raises(SystemExit, match="scale=2"):
        gallery.load_model(str(ckpt), 3)


def test_gallery_model_column_and_crop_choice():
    hr = torch.rand(1, 3, 24, 30)
    net = FSRCNN(FSRCNNConfig(scale=3, d=8, s=4, m=1)).eval()
    images = gallery.upscale_all(hr, 3, net, "FSRCNN x3")
    assert list(images)[-1] == "FSRCNN x3" and len(images) == 8
    assert all(v.shape == hr.shape for v in images.values())
    # the detailed window is found: a textured square in a flat image
    flat = torch.full((1, 3, 64, 64), 0.5)
    flat[..., 40:56, 8:24] = torch.rand(1, 3, 16, 16)
    y, x = gallery.pick_crop(flat, 16, None, None)
    assert abs(y - 40) <= 4 and abs(x - 8) <= 4
    with pytest.raises(SystemExit, match="outside"):
        gallery.pick_crop(flat, 16, 60, 0)


def test_gallery_arguments_are_checked():
    with pytest.raises(SystemExit, match="allowed"):
        gallery.parse_args(["colour=red"])
    with pytest.raises(SystemExit, match="choose 2, 3 or 4"):
        gallery.parse_args(["scale=5"])
    with pytest.raises(SystemExit, match="chelsea"):
        gallery.parse_args(["sample=lena"])
    with pytest.raises(SystemExit, match="no such file"):
        gallery.load_model("/nonexistent/model.pt", 2)
