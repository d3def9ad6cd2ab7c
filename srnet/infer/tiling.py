"""Tiled inference: run an image function over tiles with a halo, the image staying on the CPU.

A tile of ``t x t`` LR pixels is cut out with ``halo`` extra pixels on each side (clipped at the
image border), sent to the device, enlarged by ``fn``, and its centre (without the halo) is written
into the result. With a halo of at least the function's receptive field the result equals the
whole-image pass to float rounding (``tests/infer/test_infer_tiling.py``). ``tile="auto"`` picks a
side from free device memory (on CPU ``cpu_tile``: 512, or 0 = whole images where the engine needs no
tiles) and halves it after an out-of-memory error. :meth:`Tiler.run` maps float (N, C, H, W)
tensors; :meth:`Tiler.run_hwc` integer (N, H, W, C) images into a preallocated output (written in
place when one tile covers the image).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor
from tqdm.auto import tqdm

log = logging.getLogger(__name__)
CPU_TILE, MIN_TILE, MAX_TILE = 512, 16, 4096  # LR pixels per tile side


def is_oom(e: BaseException) -> bool:
    return isinstance(e, torch.cuda.OutOfMemoryError) or any(
        m in str(e) for m in ("out of memory", "can't allocate memory"))


@dataclass
class Tiler:
    """Runs an image function tile by tile with a halo; the image and the result stay on the CPU.

    Args:
        device: where tiles go.
        tile: LR tile side in pixels, ``0`` for the whole image, or ``"auto"``.
        progress: show a progress bar over tiles.
        bytes_per_pixel: estimated peak device bytes per LR pixel (for ``tile="auto"`` on GPU).
        cpu_tile: the ``auto`` side on CPU (0: whole images).
    """

    device: torch.device
    tile: int | str = "auto"
    progress: bool = False
    bytes_per_pixel: int = 4096
    cpu_tile: int = CPU_TILE

    def __post_init__(self) -> None:
        if str(self.tile) != "auto" and not str(self.tile).isdigit():
            raise ValueError(f"tile={self.tile!r}: use auto, 0 (whole image) or a positive integer")

    def auto_tile(self) -> int:
        if self.device.type != "cuda":
            return self.cpu_tile
        free, _ = torch.cuda.mem_get_info(self.device)
        return int(min(MAX_TILE, max(4 * MIN_TILE, (0.5 * free / self.bytes_per_pixel) ** 0.5)))

    def run(self, fn: Callable[[Tensor], Tensor], x: Tensor, scale: int, halo: int,
            levels: int | None = None) -> Tensor | np.ndarray:
        """``fn`` maps (N, C, h, w) on the device to (N, C', s*h, s*w); ``x`` is (N, C, H, W).

        Returns (N, C', sH, sW) float on the CPU, or with ``levels`` (255 or 65535, N = 1) the
        result rounded to those levels as a numpy (sH, sW, C') uint8 / uint16 array.
        """
        return self.retry(lambda tile: self._run(fn, x, scale, halo, tile, levels), x.shape[-2:])

    def run_hwc(self, fn: Callable[[Tensor, Tensor | None], Tensor], x: Tensor, scale: int,
                halo: int, out: Tensor) -> Tensor:
        """Images x (N, H, W, C) on the CPU -> ``out`` (N, sH, sW, C') on the CPU, filled.

        ``fn(tile, dest)`` maps an (N, h, w, C) CPU view to (N, s*h, s*w, C') on the device;
        with ``dest`` (only when one tile covers the image) it writes into ``dest`` and returns it.
        """
        return self.retry(lambda tile: self._run_hwc(fn, x, scale, halo, tile, out), x.shape[1:3])

    def retry(self, call: Callable[[int], object], size) -> object:
        """``call(tile side)`` (0 or >= the image: whole), halving the side after an
        out-of-memory error when ``tile="auto"``."""
        auto = str(self.tile) == "auto"
        tile = self.auto_tile() if auto else int(self.tile)
        while True:
            try:
                return call(tile or max(size))
            except RuntimeError as e:
                if not is_oom(e):
                    raise
                if not auto or tile <= MIN_TILE:
                    raise RuntimeError(f"out of memory with tile={tile} on {self.device}: use a "
                                       f"smaller tile= or tile=auto") from e
                if self.device.type == "cuda":
                    torch.cuda.empty_cache()
                tile = max(MIN_TILE, min(tile or max(size), *size) // 2)
                log.warning("out of memory on %s; retrying with tile=%d", self.device, tile)

    @torch.no_grad()
    def _run_hwc(self, fn, x: Tensor, s: int, halo: int, tile: int, out: Tensor) -> Tensor:
        h, w = x.shape[1:3]
        if tile >= max(h, w):
            on_device = out.device == self.device or self.device.type == "cpu"
            res = fn(x, out if on_device else None)
            if res is not out:
                out.copy_(res)
            return out
        ys, xs = range(0, h, tile), range(0, w, tile)
        with tqdm(total=len(ys) * len(xs), desc="tiles", unit="tile", leave=False,
                  disable=None if self.progress else True) as bar:
            for y0 in ys:
                for x0 in xs:
                    y1, x1 = min(y0 + tile, h), min(x0 + tile, w)
                    a0, b0 = max(0, y0 - halo), max(0, x0 - halo)  # tile plus halo, clipped
                    t = fn(x[:, a0:min(h, y1 + halo), b0:min(w, x1 + halo)], None)
                    t = t[:, (y0 - a0) * s:(y1 - a0) * s, (x0 - b0) * s:(x1 - b0) * s]
                    out[:, y0 * s:y1 * s, x0 * s:x1 * s] = t.cpu()
                    bar.update()
        return out

    @torch.no_grad()
    def _run(self, fn, x: Tensor, s: int, halo: int, tile: int, levels: int | None):
        h, w = x.shape[-2:]
        ys, xs = range(0, h, tile), range(0, w, tile)
        out = None
        with tqdm(total=len(ys) * len(xs), desc="tiles", unit="tile", leave=False,
                  disable=None if self.progress and len(ys) * len(xs) > 1 else True) as bar:
            for y0 in ys:
                for x0 in xs:
                    y1, x1 = min(y0 + tile, h), min(x0 + tile, w)
                    a0, b0 = max(0, y0 - halo), max(0, x0 - halo)  # tile plus halo, clipped
                    t = fn(x[..., a0:min(h, y1 + halo), b0:min(w, x1 + halo)].to(self.device))
                    t = t[..., (y0 - a0) * s:(y1 - a0) * s, (x0 - b0) * s:(x1 - b0) * s]
                    if levels:  # (1, C', th, tw) -> (th, tw, C') integers
                        t = t[0].float().clamp(0, 1).mul(levels).round().permute(1, 2, 0).cpu()
                        if out is None:
                            dtype = np.uint16 if levels > 255 else np.uint8
                            out = np.empty((h * s, w * s, t.shape[-1]), dtype)
                        out[y0 * s:y1 * s, x0 * s:x1 * s] = t.numpy()
                    else:
                        if out is None:
                            out = torch.empty(*t.shape[:2], h * s, w * s)
                        out[..., y0 * s:y1 * s, x0 * s:x1 * s] = t.float().cpu()
                    bar.update()
        return out
