"""The folder layouts srnet reads, the pre-flight check, and the data configs.

Every layout is generated in tmp_path; one test reads ../shared/datasets when it is there.
"""

from __future__ import annotations

import math
from pathlib import Path

import hydra
import pytest
import torch
from helpers import compose_train, smooth_image, write_images
from PIL import Image

from srnet.analysis.evaluation import evaluate
from srnet.data.datamodule import SRDataModule
from srnet.data.preflight import PreflightError, preflight
from srnet.data.sources import BSDS500, DIV2K, ImageFolder, PairedBenchmark
from srnet.io.images import read_rgb, to_uint8
from srnet.io.pictures import to_tensor
from srnet.ops.resize import bicubic_down
from srnet.train.run import train


def save(path: Path, img) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(img).save(path)
    return path


def make_lr(hr_path: Path, lr_path: Path, scale: int, rule: str = "degrade") -> Path:
    """LR of an HR file: srnet's degradation, or every s-th pixel (``rule="pick"``)."""
    hr = to_tensor(read_rgb(hr_path))  # (1, 3, H, W)
    h, w = hr.shape[-2] // scale * scale, hr.shape[-1] // scale * scale
    hr = hr[..., :h, :w]
    lr = bicubic_down(hr, scale) if rule == "degrade" else hr[..., ::scale, ::scale]
    return save(lr_path, to_uint8(lr))


def make_div2k(root: Path, n_train: int = 3, n_valid: int = 2, lr_scale: int | None = 2,
               lr_rule: str = "degrade") -> Path:
    """A DIV2K-shaped tree: DIV2K_{train,valid}_HR/NNNN.png (+ valid LR_bicubic/X<s>)."""
    for i in range(1, n_train + 1):
        save(root / "DIV2K_train_HR" / f"{i:04d}.png", smooth_image(72, 80, i))
    for i in range(801, 801 + n_valid):
        hr = save(root / "DIV2K_valid_HR" / f"{i:04d}.png", smooth_image(50, 62, i))
        if lr_scale:
            make_lr(hr, root / "DIV2K_valid_LR_bicubic" / f"X{lr_scale}" / f"{i:04d}x{lr_scale}.png",
                    lr_scale, lr_rule)
    return root


def test_plain_folder_and_missing_folder(tmp_path, image_folder):
    assert [r.name for r in ImageFolder(image_folder).records()] == [f"img_{i:03d}" for i in range(4)]
    assert len(ImageFolder(image_folder, limit=2).records()) == 2
    with pytest.raises(FileNotFoundError, match=str(tmp_path / "nope")):
        ImageFolder(tmp_path / "nope").records()
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no images"):
        ImageFolder(tmp_path / "empty").records()


def test_benchmark_layouts_srnet_and_edsr(tmp_path):
    hr = write_images(tmp_path / "Set2" / "X3" / "HR", 2, 30, 36)
    for p in hr:
        make_lr(p, tmp_path / "Set2" / "X3" / "LR" / p.name, 3)
    recs = PairedBenchmark(tmp_path / "Set2", 3).records()
    assert [(r.hr.parent.name, r.lr.parent.name) for r in recs] == [("HR", "LR")] * 2
    # EDSR: benchmark/<set>/HR/baby.png + LR_bicubic/X2/babyx2.png, HR not mod-cropped
    edsr = tmp_path / "benchmark" / "Set1"
    baby = save(edsr / "HR" / "baby.png", smooth_image(33, 41))
    make_lr(baby, edsr / "LR_bicubic" / "X2" / "babyx2.png", 2)
    (rec,) = PairedBenchmark(edsr, 2).records()
    assert rec.name == "baby" and rec.lr.name == "babyx2.png"
    assert preflight({"Set1": [rec]}, 2)["Set1"] == [rec]
    assert PairedBenchmark(edsr, 2, use_lr=False).records()[0].lr is None
    with pytest.raises(FileNotFoundError, match=r"LR_bicubic/X4"):
        PairedBenchmark(edsr, 4).records()
    with pytest.raises(FileNotFoundError, match="neither exists"):
        PairedBenchmark(tmp_path / "Set2", 2).records()


def test_benchmark_count_mismatch_names_the_folder(tmp_path):
    hr = write_images(tmp_path / "S" / "X2" / "HR", 3, 20, 20)
    for p in hr[:2]:
        make_lr(p, tmp_path / "S" / "X2" / "LR" / p.name, 2)
    with pytest.raises(FileNotFoundError, match=rf"{tmp_path / 'S'}.*3 HR vs 2 LR.*img_002"):
        PairedBenchmark(tmp_path / "S", 2).records()


def test_div2k_layout_with_and_without_lr(tmp_path):
    root = make_div2k(tmp_path / "DIV2K")
    recs = DIV2K(root, "valid", scale=2).records()
    assert [(r.name, r.lr.name) for r in recs] == [("0801", "0801x2.png"), ("0802", "0802x2.png")]
    assert all(r.lr is None for r in DIV2K(root, "valid", scale=3).records())  # no X3: make LR
    assert all(r.lr is None for r in DIV2K(root, "valid", scale=2, use_lr=False).records())
    assert len(DIV2K(root, "train", limit=2).records()) == 2
    with pytest.raises(FileNotFoundError, match=r"DIV2K_valid_LR_bicubic/X3"):
        DIV2K(root, "valid", scale=3, use_lr=True).records()
    (root / "DIV2K_valid_LR_bicubic" / "X2" / "0802x2.png").unlink()
    with pytest.raises(FileNotFoundError, match=r"0802x2\.png"):
        DIV2K(root, "valid", scale=2).records()
    with pytest.raises(ValueError, match="valid"):
        DIV2K(root, "val")


def test_bsds500_layouts(tmp_path):
    write_images(tmp_path / "a" / "BSDS500" / "train", 2)
    write_images(tmp_path / "b" / "BSR" / "BSDS500" / "data" / "images" / "test", 3, suffix=".jpg")
    (tmp_path / "b" / "BSR" / "BSDS500" / "data" / "images" / "test" / "Thumbs.db").write_text("x")
    assert len(BSDS500(tmp_path / "a").records()) == 2
    assert len(BSDS500(tmp_path / "a" / "BSDS500").records()) == 2  # root = the BSDS500 folder
    assert len(BSDS500(tmp_path / "b", "test").records()) == 3
    with pytest.raises(FileNotFoundError, match=r"BSDS500 val: none of these folders.*a/BSDS500/val"):
        BSDS500(tmp_path / "a", "val").records()


def test_preflight_lists_every_bad_file(tmp_path):
    good = write_images(tmp_path / "S" / "X2" / "HR", 4, 24, 24)
    for p in good:
        make_lr(p, tmp_path / "S" / "X2" / "LR" / p.name, 2)
    truncated = good[1]
    truncated.write_bytes(truncated.read_bytes()[:200])
    save(tmp_path / "S" / "X2" / "LR" / good[2].name, smooth_image(11, 12))  # should be 12x12
    (tmp_path / "S" / "X2" / "LR" / good[3].name).write_bytes(b"")  # zero bytes
    records = PairedBenchmark(tmp_path / "S", 2).records()
    with pytest.raises(PreflightError) as err:
        preflight({"val/S": records}, 2)
    msg = str(err.value)
    assert "3 problem(s)" in msg and str(truncated) in msg
    assert f"{tmp_path / 'S/X2/LR' / good[2].name} is 12x11" in msg and "needs LR 12x12" in msg
    assert str(tmp_path / "S" / "X2" / "LR" / good[3].name) in msg
    assert str(good[0]) not in msg
    kept = preflight({"val/S": records}, 2, skip_bad=True)["val/S"]
    assert [r.hr for r in kept] == [good[0]]


def test_datamodule_stops_before_training_on_a_corrupt_file(tmp_path):
    paths = write_images(tmp_path / "train", 3, 64, 64)
    paths[2].write_text("not an image")
    dm = SRDataModule([ImageFolder(tmp_path / "train")], {"v": ImageFolder(tmp_path / "train")},
                      scale=2, patch_size=8)
    with pytest.raises(PreflightError, match=rf"\[train\].*{paths[2]}"):
        dm.setup("fit")


def test_div2k_config_trains_and_validates_with_the_given_lr(tmp_path):
    # LR files made by taking every 2nd pixel, so validation scores differ from made-LR scores.
    root = make_div2k(tmp_path / "data" / "DIV2K", lr_rule="pick")
    cfg = compose_train([
        "data=div2k", f"paths.data_dir={tmp_path / 'data'}", "scale=2", "trainer=cpu",
        "trainer.max_steps=2", "trainer.max_epochs=1", "logger=none", "callbacks=none",
        "model.net.d=8", "model.net.s=4", "model.net.m=1", "data.patch_size=8",
        "data.batch_size=2", "data.patches_per_epoch=4", "+trainer.enable_progress_bar=false",
    ], tmp_path / "run")
    metrics = train(cfg)
    assert metrics["val/psnr"] == metrics["val/DIV2K/psnr"] and math.isfinite(metrics["val/psnr"])
    recs = DIV2K(root, "valid", 2).records()
    given = evaluate(None, recs, 2, lr="given")["bicubic"]["psnr"]
    made = evaluate(None, recs, 2, lr="make")["bicubic"]["psnr"]
    assert metrics["val/DIV2K/psnr_bicubic"] == pytest.approx(given, abs=1e-4)
    assert abs(given - made) > 0.5


def test_t91_bsds_config_combines_training_sets(tmp_path):
    data = tmp_path / "data"
    write_images(data / "T91", 3, 40, 40)
    write_images(data / "BSDS500" / "train", 2, 40, 40, suffix=".jpg")
    for name in ("Set5", "Set14", "BSD100"):
        for p in write_images(data / "benchmark" / name / "X2" / "HR", 1, 30, 30):
            make_lr(p, data / "benchmark" / name / "X2" / "LR" / p.name, 2)
    cfg = compose_train(["data=t91_bsds", f"paths.data_dir={data}", "data.patch_size=4"],
                        tmp_path / "run")
    dm = hydra.utils.instantiate(cfg.data)
    dm.setup("fit")
    assert len(dm.train_set.images) == 5 and dm.val_names == ["Set5", "Set14", "BSD100"]
    assert all(isinstance(im, torch.Tensor) for im in dm.train_set.images)


def test_t91_bsds_on_shared_data(shared_data, tmp_path):
    cfg = compose_train(["data=t91_bsds", f"paths.data_dir={shared_data}"], tmp_path / "run")
    dm = hydra.utils.instantiate(cfg.data)
    counts = [len(src.records()) for src in dm.train_sources]
    assert counts == [91, 200]
    assert [len(src.records()) for src in dm.val_sources.values()] == [5, 14, 100]
