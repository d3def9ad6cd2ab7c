"""Video in, video out for ``infer.py``: frames through the network in batches, the rest copied.

Every audio, subtitle and data stream (and MKV attachments) is copied packet for packet, never
re-encoded; frame timestamps and durations, the frame rate, the rotation, the sample aspect
ratio, colour tags and metadata are kept. The new video stream is encoded with ``video.codec``
at ``video.crf`` (H.264, CRF 18 by default: visually lossless). The file is written under a
temporary name and renamed at the end, so an interrupted run (Ctrl-C) leaves nothing under the
output name. Containers and colour: :mod:`srnet.infer.videoio`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from omegaconf import DictConfig
from tqdm.auto import tqdm

from srnet.infer.resize import resize
from srnet.infer.upscaler import Upscaler
from srnet.infer.videoio import import_av, open_input, plan_container, video_stream
from srnet.infer.videostart import start_output
from srnet.io.files import write_atomic

if TYPE_CHECKING:
    from srnet.infer.app import InferJob

log = logging.getLogger("srnet.infer")


@dataclass(frozen=True)
class VideoSettings:
    """``video.*`` of ``configs/infer.yaml``."""

    codec: str = "libx264"
    crf: float | None = 18
    preset: str | None = "medium"
    pix_fmt: str | None = None
    container: str | None = None
    batch: int = 4

    @classmethod
    def from_cfg(cls, cfg: DictConfig | None) -> VideoSettings:
        v = dict(cfg or {})
        s = cls(**{k: v[k] for k in cls.__dataclass_fields__ if k in v})
        if not isinstance(s.batch, int) or s.batch < 1:
            raise ValueError(f"video.batch={s.batch!r}: give a positive number of frames")
        if s.crf is not None and (not isinstance(s.crf, (int, float)) or s.crf < 0):
            raise ValueError(f"video.crf={s.crf!r}: give a number >= 0 (0: lossless) or null")
        return s

    def options(self) -> dict[str, str]:
        opts = {} if self.crf is None else {"crf": f"{self.crf:g}"}
        if self.preset and "vpx" not in self.codec:
            opts["preset"] = str(self.preset)
        if self.crf is not None and "vpx" in self.codec:
            opts["b"] = "0"  # constant quality
        return opts


def upscale_frames(model: Upscaler, frames: list[np.ndarray], size_hw: tuple[int, int]
                   ) -> list[np.ndarray]:
    """uint8 / uint16 RGB frames (H, W, 3) -> upscaled, at ``size_hw``.

    One batch through :meth:`Upscaler.upscale` on the stacked (N, H, W, 3) array (an Upscaler
    without stacks gets them one by one), then an antialiased resize when another size is asked.
    """
    if hasattr(model, "upscale_arrays"):
        out = list(model.upscale(np.stack(frames)))
    else:
        out = [model.upscale(f) for f in frames]
    if out[0].shape[:2] == tuple(size_hw):
        return out
    levels = 65535 if out[0].dtype == np.uint16 else 255
    x = torch.from_numpy(np.stack(out).astype(np.float32)).permute(0, 3, 1, 2).div_(levels)
    y = resize(x, size_hw).mul_(levels).round_().permute(0, 2, 3, 1)
    return list(y.numpy().astype(out[0].dtype))


class VideoJob:
    """One video file through ``infer.py``."""

    def __init__(self, job: InferJob, src: Path) -> None:
        self.job, self.src, self.settings = job, src, job.video
        self.av = import_av(src)
        self.frames = 0

    def run(self) -> str:
        t0, src = time.perf_counter(), self.src
        inp = open_input(self.av, src)
        try:
            self.vin, self.inp_metadata = video_stream(inp, src), dict(inp.metadata)
            others = [s for s in inp.streams if s.index != self.vin.index]
            self.attachments = [s for s in others if s.type == "attachment"]
            out_file = self.job.out_file
            requested, setting = self.settings.container, "video.container"
            if out_file is not None and not requested:
                requested, setting = out_file.suffix, "output"
            self.muxer, suffix, self.carried, notes = plan_container(
                self.av, src, requested, self.settings.codec,
                [s for s in others if s.type != "attachment"], setting)
            for note in notes:
                log.warning(note)
            dst = self.job.target(self.job.dst(src, suffix))
            write_atomic(lambda tmp: self.transcode(inp, tmp), dst, self.job.cfg.overwrite)
        finally:
            inp.close()
        dt = time.perf_counter() - t0
        return (f"{src} ({self.describe_in}) -> {dst} ({self.out_w}x{self.out_h} "
                f"{self.settings.codec} {self.pix_fmt}, x{self.model.scale}) {self.frames} frames "
                f"in {dt:.1f} s ({self.frames / max(dt, 1e-9):.2f} fps)")

    def transcode(self, inp, tmp: str) -> None:
        out = self.av.open(tmp, "w", format=self.muxer)
        self.out, self.vout, pending, batch = out, None, [], []
        ok = False
        try:
            with tqdm(total=self.estimate(inp), desc=self.src.name, unit="frame", leave=False,
                      disable=None if self.job.cfg.progress else True) as self.bar:
                for pkt in inp.demux(self.vin, *self.carried):
                    if pkt.stream.index != self.vin.index:
                        if pkt.dts is None and pkt.pts is None and not pkt.size:
                            continue  # the demuxer's end-of-stream marker
                        pending.append(pkt)
                        if self.vout is not None:
                            self.mux_copies(pending)
                        continue
                    for frame in self.decode(pkt):
                        if self.vout is None:  # rotation and colour live in frames
                            start_output(self, frame)
                        batch.append(frame)
                        if len(batch) >= self.settings.batch:
                            self.encode(batch)
                            batch = []
                if self.vout is None:
                    raise ValueError(f"{self.src}: the video stream has no frame that decodes")
                self.encode(batch)
                self.mux_copies(pending)
                out.mux(self.vout.encode(None))
            ok = True
        finally:
            try:
                out.close()
            except Exception:
                if ok:
                    raise

    def estimate(self, inp) -> int | None:
        v = self.vin
        if v.frames:
            return int(v.frames)
        seconds = float(v.duration * v.time_base) if v.duration and v.time_base else (
            inp.duration / 1e6 if inp.duration else 0)
        rate = v.average_rate or v.guessed_rate
        return round(seconds * float(rate)) if seconds and rate else None

    def decode(self, pkt) -> list:
        try:
            return pkt.decode()
        except Exception as e:  # av.error.InvalidDataError, ...
            at = f" at {float(pkt.pts * pkt.time_base):.3f} s" if pkt.pts is not None else ""
            raise OSError(f"cannot decode {self.src}{at}: {e}") from e

    def mux_copies(self, pending: list) -> None:
        for pkt in pending:
            pkt.stream = self.copies[pkt.stream.index]
            self.out.mux(pkt)
        pending.clear()

    def encode(self, frames: list) -> None:
        if not frames:
            return
        rgb = upscale_frames(self.model, [self.dec.to_rgb(f) for f in frames],
                             (self.out_h, self.out_w))
        for f, arr in zip(frames, rgb, strict=True):
            vf = self.enc.from_rgb(self.av, arr, self.pix_fmt)
            vf.pts, vf.time_base = f.pts if f.pts is not None else self.next_pts, self.vin.time_base
            duration = getattr(f, "duration", None)  # PyAV >= 15
            if duration:
                vf.duration = duration
            self.next_pts = vf.pts + (duration or self.tick)
            self.out.mux(self.vout.encode(vf))
        self.frames += len(frames)
        self.bar.update(len(frames))
