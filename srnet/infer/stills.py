"""One image or animated image through ``infer.py``: read, pick the network, upscale, resize to
the asked size, write (with provenance), and the optional ``_compare`` side-by-side panel."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from tqdm.auto import tqdm

from srnet.infer.floats import upscale_float
from srnet.infer.inputs import output_ext
from srnet.infer.resize import resize, resize_picture
from srnet.infer.upscaler import Upscaler
from srnet.io.animation import ANIMATED_SUFFIXES, Animation, read_animation, write_animation
from srnet.io.images import Picture, read_picture, write_picture
from srnet.ops.resize import enlarge

if TYPE_CHECKING:
    from srnet.infer.app import InferJob


def upscale_to(model: Upscaler, pic: Picture, size_wh: tuple[int, int]) -> Picture:
    """``pic`` through ``model`` (float pictures unclamped), then resized to ``size_wh``."""
    out = upscale_float(model, pic) if pic.is_float else model.upscale_picture(pic)
    return resize_picture(out, size_wh)


def baseline_to(model: Upscaler, pic: Picture, method: str, size_wh: tuple[int, int]) -> np.ndarray:
    """The colour of ``pic`` enlarged by ``method`` to ``size_wh``: (H, W, C) of its dtype."""
    if pic.is_float:
        t = resize(enlarge(pic.color_tensor(), model.scale, method, clamp=False),
                   (size_wh[1], size_wh[0]), clamp=False)
        return t[0].permute(1, 2, 0).numpy().astype(np.float32)
    return resize_picture(model.baseline(pic, method), size_wh).pixels


def upscale_image(job: InferJob, src: Path) -> str:
    """Upscale one still image; returns the line to print."""
    t0, pic = time.perf_counter(), read_picture(src)
    h, w = pic.pixels.shape[:2]
    model, source = job.bank.choose(w, h)
    size = job.size.size(w, h, model.scale)
    dst = job.target(job.dst(src, output_ext(src, pic, job.cfg.ext)))
    cmp = None
    if job.cfg.compare:
        cmp = job.target(dst.with_name(f"{dst.stem}_compare{'.tif' if pic.is_float else '.png'}"))
    out = upscale_to(model, pic, size)
    write_picture(out, dst, job.cfg.overwrite, job.text(model, source, (w, h), size))
    if cmp is not None:  # nearest | bicubic | srnet, colour only
        panels = [baseline_to(model, pic, m, size) for m in ("nearest", "bicubic")] + [out.pixels]
        write_picture(Picture(np.concatenate(panels, axis=1), None, pic.icc_profile), cmp,
                      job.cfg.overwrite)
    return (f"{src} ({pic.describe()}) -> {dst} ({size[0]}x{size[1]}, x{model.scale}"
            f"{'' if size == (w * model.scale, h * model.scale) else ' + resize'}) "
            f"{time.perf_counter() - t0:.2f} s")


def upscale_animation(job: InferJob, src: Path) -> str:
    """Upscale every frame of a GIF / APNG / animated WebP, keeping durations and loop count."""
    t0, anim = time.perf_counter(), read_animation(src)
    h, w = anim.frames[0].pixels.shape[:2]
    model, source = job.bank.choose(w, h)
    size = job.size.size(w, h, model.scale)
    ext = (job.cfg.ext or src.suffix).lower()
    ext = ext if ext.startswith(".") else f".{ext}"
    dst = job.target(job.dst(src, ext if ext in ANIMATED_SUFFIXES else src.suffix.lower()))
    frames, step = [], job.video.batch
    with tqdm(total=len(anim.frames), desc=src.name, unit="frame", leave=False,
              disable=None if job.cfg.progress and len(anim.frames) > 1 else True) as bar:
        for i in range(0, len(anim.frames), step):  # batches of same-size frames
            part = anim.frames[i:i + step]
            ups = (model.upscale_pictures(part) if hasattr(model, "upscale_pictures")
                   else [model.upscale_picture(f) for f in part])
            frames += [resize_picture(u, size) for u in ups]
            bar.update(len(part))
    write_animation(Animation(frames, anim.durations, anim.loop), dst, job.cfg.overwrite,
                    job.text(model, source, (w, h), size))
    return (f"{src} ({anim.describe()}) -> {dst} ({size[0]}x{size[1]}, x{model.scale}) "
            f"{time.perf_counter() - t0:.2f} s")
