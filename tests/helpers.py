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
    """(step, value) of ``tag`` over every events file in ``tb_dir``, in the order written.

    Ordered by each event's wall time: file names only carry whole seconds, so two short runs
    within one second would sort by their process's name instead."""
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

    out = []
    for f in sorted(tb_dir.glob("events.out.tfevents.*")):
        for ev in EventFileLoader(str(f)).Load():
            for v in ev.summary.value:
                if v.tag == tag:
                    value = v.simple_value if v.HasField("simple_value") else \
                        float(np.frombuffer(v.tensor.tensor_content, np.float32)[0]) \
                        if v.tensor.tensor_content else float(v.tensor.float_val[0])
                    out.append((ev.wall_time, ev.step, value))
    return [(step, value) for _, step, value in sorted(out, key=lambda e: e[0])]


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
        f"data.train=[{{_target_:srnet.data.sources.ImageFolder,root:{tmp_path / 'train'}}}]",
        "~data.val", f"+data.val={{gen:{{_target_:srnet.data.sources.ImageFolder,root:{tmp_path / 'val'}}}}}",
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


SRT = ("1\n00:00:00,000 --> 00:00:00,120\nhello\n\n"
       "2\n00:00:00,120 --> 00:00:00,250\nworld\n\n")


def make_video(path: Path, frames: int = 6, w: int = 64, h: int = 48, rate=(30000, 1001),
               codec: str = "libx264", pix_fmt: str = "yuv420p", audio: str | None = "aac",
               subtitles: bool = True, rotation: int = 0, options: dict | None = None) -> Path:
    """A small video made with PyAV: ``frames`` smooth moving frames, an audio stream of whole
    codec frames (a 440 Hz tone), an SRT subtitle stream (MKV; remuxed from an .srt file, as PyAV
    cannot encode subtitles) and a rotation, with timestamps and durations set on every frame."""
    from fractions import Fraction

    import av

    from srnet.app.videoio import add_copy

    rate = Fraction(*rate)
    out = av.open(str(path), "w")
    v = out.add_stream(codec, rate=rate)
    v.width, v.height, v.pix_fmt = w, h, pix_fmt
    v.time_base = 1 / rate
    v.options = {"crf": "18", **(options or {})} if codec.startswith("libx26") else (options or {})
    if rotation:
        v.set_display_rotation(rotation)
    a = sub = srt = None
    if audio:
        a = out.add_stream(audio, rate=48000)
        a.layout = "stereo"
    if subtitles:
        (path.parent / f"{path.stem}.srt").write_text(SRT)
        srt = av.open(str(path.parent / f"{path.stem}.srt"))
        sub = add_copy(out, srt.streams.subtitles[0])
    big = smooth_image(h + frames * 2, w + frames * 3, seed=3)
    for i in range(frames):
        frame = av.VideoFrame.from_ndarray(big[2 * i:2 * i + h, 3 * i:3 * i + w].copy(), "rgb24")
        frame = frame.reformat(format=pix_fmt)
        frame.pts, frame.time_base, frame.duration = i, 1 / rate, 1
        out.mux(v.encode(frame))
    out.mux(v.encode(None))
    if a is not None:
        n = a.codec_context.frame_size or 1024
        samples = int(n * round(48000 * frames / rate / n))  # whole codec frames
        t = np.arange(samples) / 48000
        tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        for k in range(0, samples, n):
            af = av.AudioFrame.from_ndarray(np.stack([tone[k:k + n]] * 2), "fltp", "stereo")
            af.sample_rate, af.pts = 48000, k
            out.mux(a.encode(af))
        out.mux(a.encode(None))
    if sub is not None:
        for pkt in srt.demux(srt.streams.subtitles[0]):
            if pkt.size:
                pkt.stream = sub
                out.mux(pkt)
        srt.close()
    out.close()
    return path


def video_facts(path: Path) -> dict:
    """What a video test compares: container duration, streams, every packet, and the frames
    as RGB (converted as srnet converts them: the file's matrix and range)."""
    import av

    from srnet.app.videoio import Colour

    with av.open(str(path)) as c:
        facts = {"format": c.format.name, "duration": c.duration, "metadata": dict(c.metadata),
                 "streams": [(s.type, s.codec_context.name if s.codec_context else None)
                             for s in c.streams]}
        v = c.streams.video[0]
        facts.update(rate=v.average_rate, size=(v.width, v.height), packets={})
        for pkt in c.demux():
            if pkt.size:
                t = pkt.time_base
                facts["packets"].setdefault(pkt.stream.index, []).append(
                    (float(pkt.pts * t), float((pkt.duration or 0) * t), bytes(pkt)))
    with av.open(str(path)) as c:
        frames = list(c.decode(video=0))
        facts["times"] = [float(f.time) for f in frames]
        facts["rotation"] = getattr(frames[0], "rotation", 0)
        facts["frames"] = [Colour.of(f).to_rgb(f) for f in frames]
        facts["pix_fmt"] = frames[0].format.name
    return facts


def tiny_weights(path: Path, scale: int = 2, color_mode: str = "y") -> Path:
    """A plain weights file of a tiny random FSRCNN whose output varies around mid-grey."""
    import torch

    from srnet.io.checkpoints import save_weights
    from srnet.nets.fsrcnn import FSRCNN

    torch.manual_seed(scale)
    net = FSRCNN(scale=scale, color_mode=color_mode, d=8, s=4, m=1)
    with torch.no_grad():
        net.tail.deconv.weight.mul_(0.2)
        net.tail.deconv.bias.fill_(0.5)
    return save_weights(net, path)


def compose_infer(tmp_path: Path, *overrides: str) -> DictConfig:
    """``configs/infer.yaml`` composed with ``overrides``, as ``python infer.py`` would."""
    return compose_train(list(overrides), tmp_path / "hydra", config_name="infer")


def load_script(name: str):
    """Import ``scripts/<name>.py`` as a module (scripts are not a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod
