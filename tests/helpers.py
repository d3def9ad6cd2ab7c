"""Shared test helpers (imported as ``helpers``): Hydra composition, generated images, tiny
training runs, reading TensorBoard events. Fixtures live in conftest.py."""

from __future__ import annotations

import os
from pathlib import Path

import lightning as L
import numpy as np
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from srnet.data.sources import Record

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"
SHARED = Path(os.environ.get("SRNET_DATA", ROOT.parent / "shared" / "datasets"))


def compose_train(overrides: list[str], out_dir: Path | None, config_name: str = "train") -> DictConfig:
    """Compose ``configs/<config_name>.yaml`` as ``python train.py`` would, writing to ``out_dir``."""
    from srnet.train.rundirs import register_resolvers

    register_resolvers()
    GlobalHydra.instance().clear()
    run_dir = [] if out_dir is None else [f"hydra.run.dir={out_dir}"]
    with initialize_config_dir(config_dir=str(CONFIGS), version_base="1.3"):
        cfg = compose(config_name, overrides=[*run_dir, *overrides],
                      return_hydra_config=True)
    with open_dict(cfg):
        cfg.hydra.runtime.output_dir = str(out_dir or cfg.hydra.run.dir)
        cfg.hydra.runtime.cwd = str(ROOT)
        cfg.hydra.job.num = 0
    HydraConfig.instance().set_config(cfg)
    return cfg


def smooth_image(h: int, w: int, seed: int = 0, channels: int = 3) -> np.ndarray:
    """A deterministic uint8 (H, W, C) image with smooth structure and some texture."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.zeros((h, w, channels))
    for c in range(channels):
        fx, fy, ph = rng.uniform(0.01, 0.08, 2).tolist() + [rng.uniform(0, 6.28)]
        img[..., c] = 0.5 + 0.3 * np.sin(fx * x + ph) * np.cos(fy * y) + 0.1 * np.sin(0.3 * x + 0.2 * y)
    img += rng.normal(0, 0.02, img.shape)
    return (img.clip(0, 1) * 255).round().astype(np.uint8)


def write_images(folder: Path, n: int, h: int = 96, w: int = 120, seed: int = 0,
                 suffix: str = ".png") -> list[Path]:
    """Write ``n`` generated RGB images into ``folder``; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        p = folder / f"img_{i:03d}{suffix}"
        Image.fromarray(smooth_image(h, w, seed + i)).save(p)
        paths.append(p)
    return paths


def tiny_overrides(data: Path, epochs: int = 2) -> list[str]:
    """A run of a few CPU seconds: 3 training and 2 validation images of 40x48, 4 steps/epoch."""
    return [
        "data=default", f"+data.train=['{data / 'train'}']", f"+data.val={{gen:'{data / 'val'}'}}",
        "data.patch_size=8", "data.batch_size=4", "data.patches_per_epoch=16",
        "model.net.d=8", "model.net.s=4", "model.net.m=1", "model.scheduler.warmup_steps=2",
        "trainer.accelerator=cpu", "trainer.precision=32-true", "trainer.deterministic=true",
        f"trainer.max_epochs={epochs}", "trainer.log_every_n_steps=1",
        "+trainer.enable_progress_bar=false", "~callbacks.inspector",
    ]


def make_data(root: Path) -> Path:
    write_images(root / "train", 3, 40, 48)
    write_images(root / "val", 2, 40, 48, seed=10)
    return root


def scalars(tb_dir: Path, tag: str) -> list[tuple[int, float]]:
    """(step, value) of ``tag`` over every events file in ``tb_dir``, in file order."""
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

    out = []
    for f in sorted(tb_dir.glob("events.out.tfevents.*")):
        for ev in EventFileLoader(str(f)).Load():
            for v in ev.summary.value:
                if v.tag == tag:
                    value = v.simple_value if v.HasField("simple_value") else \
                        float(np.frombuffer(v.tensor.tensor_content, np.float32)[0]) \
                        if v.tensor.tensor_content else float(v.tensor.float_val[0])
                    out.append((ev.step, value))
    return out


# What the inspector adds (the system's val/* scalars and the LR monitor are not its business).
SCALARS = {"train/patches_per_sec", "checkerboard/score", "checkerboard/flat",
           "checkerboard/smooth", "hp_metric"}
IMAGES = {"kernels/by_phase", "kernels/all", "checkerboard/pattern", "checkerboard/overlap_map"}


def tiny_run(tmp_path: Path, overrides: tuple[str, ...] = ()) -> Path:
    """Train a tiny x2 FSRCNN for 2 epochs on generated images; returns its TensorBoard folder."""
    write_images(tmp_path / "train", 3, 64, 64)
    write_images(tmp_path / "val", 2, 48, 60, seed=10)
    cfg = compose_train([
        "trainer=cpu", "scale=2", "model.net.d=8", "model.net.s=4", "model.net.m=1",
        f"data.train=[{{_target_:srnet.data.ImageFolder,root:{tmp_path / 'train'}}}]",
        "~data.val", f"+data.val={{gen:{{_target_:srnet.data.ImageFolder,root:{tmp_path / 'val'}}}}}",
        "data.patch_size=8", "data.batch_size=4", "data.patches_per_epoch=16",
        "trainer.max_epochs=2", "trainer.log_every_n_steps=1", "+trainer.enable_progress_bar=false",
        "+trainer.enable_model_summary=false", *overrides], tmp_path / "out")
    from srnet.train.run import train

    train(cfg)
    return tmp_path / "out" / "tensorboard"


def read_events(folder: Path) -> EventAccumulator:
    acc = EventAccumulator(str(folder), size_guidance={"images": 0, "scalars": 0,
                                                       "histograms": 0, "tensors": 0})
    acc.Reload()
    return acc


class StopAfterEpoch(L.Callback):
    """Stops training after ``epochs`` epochs, as a crash would (max_epochs, hence the LR
    schedule, stays that of the full run)."""

    def __init__(self, epochs: int = 1) -> None:
        self.epochs = epochs

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.current_epoch + 1 >= self.epochs:
            trainer.should_stop = True


class ArraySource:
    """A training/validation source of generated in-memory images."""

    def __init__(self, sizes=((60, 75), (90, 64), (48, 48), (70, 101)), seed: int = 0) -> None:
        self.sizes, self.seed = sizes, seed

    def records(self) -> list[Record]:
        return [Record(f"gen{i}", smooth_image(h, w, self.seed + i))
                for i, (h, w) in enumerate(self.sizes)]
