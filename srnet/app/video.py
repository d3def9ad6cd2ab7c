"""Video in, video out for ``infer.py``: frames through the network in batches, the rest copied.

Every audio, subtitle and data stream (and MKV attachments) is copied packet for packet, never
re-encoded; frame timestamps and durations, the frame rate, the rotation, the sample aspect
ratio, colour tags and metadata are kept. The new video stream is encoded with ``video.codec``
at ``video.crf`` (H.264, CRF 18 by default: visually lossless). The file is written under a
temporary name and renamed at the end, so an interrupted run (Ctrl-C) leaves nothing under the
output name. A video that decodes to fewer frames than it declares (a truncated or damaged file:
frame count, stream duration or Matroska ``DURATION`` tag) is reported ("decoded N of M frames")
and nothing is written for it. Containers and colour: :mod:`srnet.app.videoio`.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from omegaconf import DictConfig
from tqdm.auto import tqdm

from srnet.app.outputs import Outputs
from srnet.app.videoio import import_av, open_input, plan_container, video_stream
from srnet.app.videostart import VideoInput, start_output
from srnet.infer.models import ModelBank
from srnet.infer.resize import OutputSize, resize
from srnet.infer.upscaler import Upscaler
from srnet.io.files import write_atomic

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
    """One video file through ``infer.py``: written to ``outputs``, networks from ``bank``."""

    def __init__(self, src: Path, outputs: Outputs, bank: ModelBank, size: OutputSize,
                 settings: VideoSettings, progress: bool = True) -> None:
        self.src, self.outputs, self.bank, self.size = src, outputs, bank, size
        self.settings, self.progress = settings, progress
        self.av = import_av(src)
        self.frames, self.end = 0, None

    def run(self) -> str:
        t0, src = time.perf_counter(), self.src
        inp = open_input(self.av, src)
        try:
            self.vin = video_stream(inp, src)
            others = [s for s in inp.streams if s.index != self.vin.index]
            out_file = self.outputs.out_file
            requested, setting = self.settings.container, "video.container"
            if out_file is not None and not requested:
                requested, setting = out_file.suffix, "output"
            muxer, suffix, carried, notes = plan_container(
                self.av, src, requested, self.settings.codec,
                [s for s in others if s.type != "attachment"], setting)
            for note in notes:
                log.warning(note)
            self.input = VideoInput(self.av, src, self.vin, dict(inp.metadata), carried,
                                    [s for s in others if s.type == "attachment"], muxer)
            dst = self.outputs.target(self.outputs.dst(src, suffix))
            write_atomic(lambda tmp: self.transcode(inp, tmp), dst, self.outputs.overwrite)
        finally:
            inp.close()
        dt, o = time.perf_counter() - t0, self.o
        return (f"{src} ({o.describe_in}) -> {dst} ({o.out_w}x{o.out_h} "
                f"{self.settings.codec} {o.pix_fmt}, x{o.model.scale}) {self.frames} frames "
                f"in {dt:.1f} s ({self.frames / max(dt, 1e-9):.2f} fps)")

    def transcode(self, inp, tmp: str) -> None:
        out = self.av.open(tmp, "w", format=self.input.muxer)
        self.out, self.o, pending, batch = out, None, [], []
        ok = False
        try:
            with tqdm(total=self.estimate(inp), desc=self.src.name, unit="frame", leave=False,
                      disable=None if self.progress else True) as self.bar:
                for pkt in inp.demux(self.vin, *self.input.carried):
                    if pkt.stream.index != self.vin.index:
                        if pkt.dts is None and pkt.pts is None and not pkt.size:
                            continue  # the demuxer's end-of-stream marker
                        pending.append(pkt)
                        if self.o is not None:
                            self.mux_copies(pending)
                        continue
                    for frame in self.decode(pkt):
                        if self.o is None:  # rotation and colour live in frames
                            self.o = start_output(self.input, out, frame, self.bank.choose,
                                                  self.size, self.settings, self.outputs.text)
                            self.next_pts = 0
                        batch.append(frame)
                        if len(batch) >= self.settings.batch:
                            self.encode(batch)
                            batch = []
                if self.o is None:
                    raise ValueError(f"{self.src}: the video stream has no frame that decodes")
                self.encode(batch)
                self.check_complete(inp)  # before the output gets its name
                self.mux_copies(pending)
                out.mux(self.o.vout.encode(None))
            ok = True
        finally:
            try:
                out.close()
            except Exception:
                if ok:
                    raise

    def estimate(self, inp, seconds: float | None = None) -> int | None:
        v = self.vin
        if v.frames:
            return int(v.frames)
        seconds = seconds or (float(v.duration * v.time_base) if v.duration and v.time_base else (
            inp.duration / 1e6 if inp.duration else 0))
        rate = v.average_rate or v.guessed_rate
        return round(seconds * float(rate)) if seconds and rate else None

    def declared(self, inp) -> tuple[int | None, float | None]:
        """(frames, seconds) the file declares for the video stream, where it says."""
        v, seconds = self.vin, None
        if v.duration and v.time_base:
            seconds = float(v.duration * v.time_base)
        else:  # Matroska: a DURATION tag per stream, written at the start of the file
            tag = next((t for k, t in dict(v.metadata).items() if k.upper() == "DURATION"), "")
            hms = re.fullmatch(r"(\d+):(\d+):(\d+(?:\.\d+)?)", str(tag).strip())
            if hms:
                seconds = 3600 * int(hms[1]) + 60 * int(hms[2]) + float(hms[3])
        return (int(v.frames) if v.frames else self.estimate(inp, seconds)), seconds

    def check_complete(self, inp) -> None:
        """A video that ends before its declared length is truncated or damaged: refused, so no
        shorter video is written under the output name."""
        frames, seconds = self.declared(inp)
        start = float(self.vin.start_time * self.vin.time_base) if self.vin.start_time else 0.0
        shown = self.end - start if self.end is not None else 0.0
        short_count = frames is not None and self.frames < frames - max(1, 0.02 * frames)
        short_time = seconds is not None and shown < seconds - max(0.1, 0.02 * seconds)
        if short_count and (seconds is None or short_time):
            have = f" ({shown:.2f} s of {seconds:.2f} s)" if seconds else ""
            raise OSError(f"{self.src}: decoded {self.frames} of {frames} frames{have}: the file "
                          f"is truncated or damaged; nothing was written for it")

    def decode(self, pkt) -> list:
        try:
            return pkt.decode()
        except Exception as e:  # av.error.InvalidDataError, ...
            at = f" at {float(pkt.pts * pkt.time_base):.3f} s" if pkt.pts is not None else ""
            raise OSError(f"cannot decode {self.src}{at}: {e}") from e

    def mux_copies(self, pending: list) -> None:
        for pkt in pending:
            pkt.stream = self.o.copies[pkt.stream.index]
            self.out.mux(pkt)
        pending.clear()

    def encode(self, frames: list) -> None:
        if not frames:
            return
        o = self.o
        rgb = upscale_frames(o.model, [o.dec.to_rgb(f) for f in frames], (o.out_h, o.out_w))
        for f, arr in zip(frames, rgb, strict=True):
            vf = o.enc.from_rgb(self.av, arr, o.pix_fmt)
            vf.pts, vf.time_base = f.pts if f.pts is not None else self.next_pts, self.vin.time_base
            duration = getattr(f, "duration", None)  # PyAV >= 15
            if duration:
                vf.duration = duration
            self.next_pts = vf.pts + (duration or o.tick)
            end = float(self.next_pts * self.vin.time_base)  # where the video has got to
            self.end = end if self.end is None else max(self.end, end)
            self.out.mux(o.vout.encode(vf))
        self.frames += len(frames)
        self.bar.update(len(frames))
