"""One image or animated image through ``infer.py``: read, pick the network, upscale, resize to
the asked size, write (with provenance), and the optional ``_compare`` side-by-side panel."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from srnet.app.inputs import output_ext
from srnet.app.outputs import Outputs
from srnet.infer.floats import upscale_float
from srnet.infer.models import ModelBank
from srnet.infer.resize import OutputSize, resize, resize_picture
from srnet.infer.upscaler import Upscaler
from srnet.io.animation import ANIMATED_SUFFIXES, Animation, read_animation, write_animation
from srnet.io.images import read_picture, write_picture
from srnet.io.pictures import Picture
from srnet.ops.resize import enlarge


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


@dataclass
class StillPlan:
    """What becomes of one decoded still: its network, output size and file names."""

    src: Path
    pic: Picture
    model: Upscaler
    source: str
    size: tuple[int, int]
    dst: Path
    cmp: Path | None
    t0: float


def plan_still(src: Path, pic: Picture, outputs: Outputs, bank: ModelBank,
               size_rule: OutputSize, compare: bool = False, t0: float | None = None) -> StillPlan:
    """Pick the network and output names of a decoded still (refusals raise before any work)."""
    h, w = pic.pixels.shape[:2]
    model, source = bank.choose(w, h, src, pic.pixels)
    size = size_rule.size(w, h, model.scale)
    dst = outputs.target(outputs.dst(src, output_ext(src, pic, outputs.ext)))
    cmp = None
    if compare:
        cmp = outputs.target(dst.with_name(f"{dst.stem}_compare{'.tif' if pic.is_float else '.png'}"))
    return StillPlan(src, pic, model, source, size, dst, cmp,
                     time.perf_counter() if t0 is None else t0)


def write_still(plan: StillPlan, out: Picture, outputs: Outputs, bank: ModelBank,
                threads: int = 1) -> str:
    """Write the upscaled still (and its ``_compare`` panel) with ``threads`` threads deflating a
    PNG; returns the line to print."""
    pic, model, size = plan.pic, plan.model, plan.size
    h, w = pic.pixels.shape[:2]
    write_picture(out, plan.dst, outputs.overwrite,
                  outputs.text(model, plan.source, (w, h), size), **outputs.encode,
                  png_threads=threads)
    if plan.cmp is not None:  # nearest | bicubic | srnet, colour only
        panels = [baseline_to(model, pic, m, size) for m in ("nearest", "bicubic")] + [out.pixels]
        write_picture(Picture(np.concatenate(panels, axis=1), None, pic.icc_profile), plan.cmp,
                      outputs.overwrite, **outputs.encode)
    return (f"{plan.src} ({pic.describe()}) -> {plan.dst} ({size[0]}x{size[1]}, x{model.scale}"
            f"{'' if size == (w * model.scale, h * model.scale) else ' + resize'}"
            f"{'' if bank.weights == 'clean' else f', weights {plan.source}'}"
            f"{_quality_note(bank, plan.src)}) "
            f"{time.perf_counter() - plan.t0:.2f} s")


def _quality_note(bank: ModelBank, src: Path) -> str:
    """``weights=auto``: the JPEG quality that chose the weights, when there was one."""
    q = bank.qualities.get(src) if bank.weights == "auto" else None
    return "" if q is None else f" for JPEG quality {q}"


def upscale_image(src: Path, outputs: Outputs, bank: ModelBank, size_rule: OutputSize,
                  compare: bool = False, max_pixels: int | None = None, threads: int = 1) -> str:
    """Upscale one still image, one step after the other (a PNG deflated on ``threads``
    threads: nothing else runs meanwhile); returns the line to print."""
    t0, pic = time.perf_counter(), read_picture(src, max_pixels)
    plan = plan_still(src, pic, outputs, bank, size_rule, compare, t0)
    return write_still(plan, upscale_to(plan.model, pic, plan.size), outputs, bank, threads)


def upscale_animation(src: Path, outputs: Outputs, bank: ModelBank, size_rule: OutputSize,
                      batch: int = 4, progress: bool = True, max_pixels: int | None = None) -> str:
    """Upscale every frame of a GIF / APNG / animated WebP, keeping durations and loop count."""
    t0, anim = time.perf_counter(), read_animation(src, max_pixels)
    h, w = anim.frames[0].pixels.shape[:2]
    model, source = bank.choose(w, h, src, anim.frames[0].pixels)
    size = size_rule.size(w, h, model.scale)
    ext = (outputs.ext or src.suffix).lower()
    ext = ext if ext.startswith(".") else f".{ext}"
    dst = outputs.target(outputs.dst(src, ext if ext in ANIMATED_SUFFIXES else src.suffix.lower()))
    frames, step = [], batch
    with tqdm(total=len(anim.frames), desc=src.name, unit="frame", leave=False,
              disable=None if progress and len(anim.frames) > 1 else True) as bar:
        for i in range(0, len(anim.frames), step):  # batches of same-size frames
            part = anim.frames[i:i + step]
            ups = (model.upscale_pictures(part) if hasattr(model, "upscale_pictures")
                   else [model.upscale_picture(f) for f in part])
            frames += [resize_picture(u, size) for u in ups]
            bar.update(len(part))
    write_animation(Animation(frames, anim.durations, anim.loop), dst, outputs.overwrite,
                    outputs.text(model, source, (w, h), size))
    return (f"{src} ({anim.describe()}) -> {dst} ({size[0]}x{size[1]}, x{model.scale}) "
            f"{time.perf_counter() - t0:.2f} s")
