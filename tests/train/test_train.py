"""Training end to end through Hydra's compose API, on generated images (offline, fast)."""

from pathlib import Path

import pytest
import torch
from helpers import compose_train, write_images
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from srnet.train.run import train

TINY = ["model.net.d=8", "model.net.s=4", "model.net.m=1", "data.patch_size=8",
        "data.batch_size=4", "trainer.accelerator=cpu"]


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    write_images(tmp_path / "train", 3, 64, 80)
    write_images(tmp_path / "val", 2, 48, 50, seed=10)
    return tmp_path / "train", tmp_path / "val"


def test_fast_dev_run_on_generated_folders(tmp_path, folders):
    tr, va = folders
    cfg = compose_train(["debug=fast", "data=folder", f"data.train=[{tr}]", "~data.val", f"+data.val.gen={va}",
                         *TINY], tmp_path / "run")
    metrics = train(cfg)
    for key in ("val/psnr", "val/ssim", "val/psnr_nearest", "val/psnr_bilinear", "val/psnr_bicubic",
                "val/gen/psnr", "val/gen/gain_over_bicubic"):
        assert key in metrics and torch.isfinite(torch.tensor(metrics[key])), key


@pytest.mark.parametrize("scale", [2, 3])
def test_short_run_logs_tags_and_writes_checkpoint(tmp_path, folders, scale):
    tr, va = folders
    run = tmp_path / "run"
    cfg = compose_train(["debug=short", f"scale={scale}", "data=folder", f"data.train=[{tr}]",
                         "~data.val", f"+data.val.gen={va}", *TINY], run)
    train(cfg)
    ckpts = list((run / "checkpoints").glob("*.ckpt"))
    assert any(p.name == "last.ckpt" for p in ckpts)
    blob = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True, map_location="cpu")
    assert blob["srnet"]["net"]["scale"] == scale and blob["srnet"]["degradation"] == {"name": "bicubic"}
    events = list(run.rglob("events.out.tfevents.*"))
    assert events
    tags = set()
    for ev in events:
        acc = EventAccumulator(str(ev))
        acc.Reload()
        tags |= set(acc.Tags()["scalars"])
    for tag in ("train/loss", "val/psnr", "val/ssim", "val/psnr_nearest", "val/psnr_bilinear",
                "val/psnr_bicubic"):
        assert tag in tags, f"{tag} missing from {sorted(tags)}"


def test_sample_data_config_loads_embedded_photos(tmp_path):
    from srnet.data.sources import SAMPLE_SPLITS, SampleImages

    recs = SampleImages("val").records()
    assert len(recs) == len(SAMPLE_SPLITS["val"]) and recs[0].hr.ndim == 3
    assert not set(SAMPLE_SPLITS["train"]) & set(SAMPLE_SPLITS["val"])


def test_missing_folder_is_named(tmp_path):
    cfg = compose_train(["debug=fast", "data=folder", f"data.train=[{tmp_path}/nope]",
                         "~data.val", f"+data.val.x={tmp_path}/nope", *TINY], tmp_path / "run")
    with pytest.raises(Exception, match="nope"):
        train(cfg)


@pytest.mark.parametrize("preset", [pytest.param("jpeg", marks=pytest.mark.slow), "photo",
                                    pytest.param("realesrgan", marks=pytest.mark.slow)])
def test_short_run_with_each_degradation_preset(tmp_path, folders, preset):
    """Training, validation (seeded degraded LR) and the checkpoint's record of the preset."""
    tr, va = folders
    run = tmp_path / "run"
    cfg = compose_train(["debug=short", "scale=2", "data=folder", f"data.train=[{tr}]",
                         "~data.val", f"+data.val.gen={va}", f"degradation={preset}", *TINY], run)
    metrics = train(cfg)
    assert torch.isfinite(torch.tensor(metrics["val/gen/psnr"]))
    blob = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True, map_location="cpu")
    assert blob["srnet"]["degradation"]["name"] == preset
    assert blob["srnet"]["degradation"]["first"]  # the whole preset travels with the weights


def test_validation_lr_is_the_same_in_every_run(folders):
    """Two datamodules (two runs) degrade each validation image identically; images differ."""
    from srnet.data.datamodule import SRDataModule
    from srnet.io.presets import degradation_preset

    tr, va = folders
    lrs = []
    for _ in range(2):
        dm = SRDataModule([str(tr)], {"gen": str(va)}, scale=2, patch_size=8, batch_size=4,
                          patches_per_epoch=8, degradation=degradation_preset("photo"))
        dm.setup("fit")
        items = [dm.val_sets["gen"][i] for i in range(2)]
        lrs.append([dm.on_after_batch_transfer({k: (v[None] if hasattr(v, "shape") else v)
                                                for k, v in it.items()})["lr"] for it in items])
        torch.manual_seed(len(lrs))  # the global generator (training LR) must not matter
    assert all(torch.equal(a, b) for a, b in zip(*lrs, strict=True))
    assert not torch.equal(lrs[0][0][..., :8, :8], lrs[0][1][..., :8, :8])
