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
