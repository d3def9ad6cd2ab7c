"""Which network: :func:`load_model` (a checkpoint or bundled name -> an :class:`Upscaler`), and
the networks one ``infer.py`` run uses: the checkpoint, or the bundled weights by scale and kind.

With ``ckpt_path`` (or ``scale``) every input goes through that one network's scale. Without
either and with ``outscale`` / ``width`` / ``height``, each input gets the bundled network of the
smallest trained scale that reaches its output size (:func:`srnet.infer.resize.pick_scale`).
Bundled weights come in two kinds, ``clean`` (``x<s>``) and ``real`` (``x<s>-real``: compressed,
noisy, blurred photos); ``denoise`` blends them (0 clean .. 1 real), and ``weights=auto`` picks
the strength per input from what the file says about itself: a JPEG's quality (its quantisation
tables) sets it by :func:`auto_strength`; for other 8-bit files the quality of a JPEG their pixels
were decoded from, if any (:func:`srnet.io.jpeginfo.quality_from_pixels`), else the clean
weights. Networks are loaded on first use and kept.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from srnet.infer.resize import OutputSize, pick_scale
from srnet.infer.upscaler import Upscaler
from srnet.io import checkpoints
from srnet.io.jpeginfo import jpeg_quality, quality_from_pixels

log = logging.getLogger("srnet.infer")
WEIGHTS = ("clean", "real", "auto")
# weights=auto: (JPEG quality, denoise strength), linear between, rounded to STEP. The best
# strength on the x2 holdout (every 10th training image; python scripts/evaluate.py ckpt_path=x2
# 'denoise=[0,0.25,0.5,0.75,1]' datasets=[holdout] 'degradation=[bicubic,jpeg,jpeg_q75,jpeg_q50]'):
# 0.5 at quality 90, 1 at 75 (0.75 within 0.05 dB) and at 50; 0 on lossless (bicubic) LR; the
# same points at x3 and x4.
AUTO_POINTS = ((50, 1.0), (75, 1.0), (90, 0.5), (100, 0.0))
STEP = 0.25  # a few blends per run, not one per file


def load_model(source: str = "x2", device: str = "auto", precision: str = "fp32",
               tile: int | str = "auto", progress: bool = False, denoise: float | None = None,
               real: str | None = None) -> Upscaler:
    """Load a checkpoint (``.ckpt`` / ``.pt`` path, or a bundled name: ``"x2"``, ``"x3"``,
    ``"x4"`` for clean inputs, ``"x2-real"`` ... for compressed, noisy or blurred photos).

    Args:
        source: see :func:`srnet.io.checkpoints.load_net`.
        device: ``auto`` (GPU when there is one), ``cpu``, ``cuda``, ``cuda:<n>``.
        precision: ``fp32``, or ``fp16`` / ``bf16`` (autocast, fp32 re-run of non-finite tiles).
        tile: LR tile side, ``0`` for whole images, or ``auto``.
        progress: progress bar over tiles.
        denoise: 0..1, the weights interpolated from the clean network (0) to the real-photo one
            (1) of the same scale (:func:`srnet.nets.blend.blend`); None: ``source`` as it is.
        real: with ``denoise``, the real-photo checkpoint (default: the bundled ``x<s>-real``
            partner of a bundled ``source``).
    """
    from srnet.io.checkpoints import BUNDLED, load_net

    if denoise is None:
        return Upscaler(load_net(source), device, precision, tile, progress)
    from srnet.nets.blend import blend

    clean = str(source).removesuffix("-real")
    if real is None and clean not in BUNDLED:
        raise ValueError(f"denoise={denoise} with {source}: also give real=<the real-photo "
                         f"checkpoint fine-tuned from it> (bundled names pair x2 with x2-real)")
    net = blend(load_net(clean), load_net(real or f"{clean}-real"), denoise)
    net.source = f"{clean} and {real or clean + '-real'} blended at denoise={denoise:g}"
    return Upscaler(net, device, precision, tile, progress)


def auto_strength(quality: int | None) -> float:
    """``weights=auto``'s denoise strength for a JPEG of ``quality`` (None: lossless, 0)."""
    if quality is None:
        return 0.0
    q = min(max(quality, AUTO_POINTS[0][0]), AUTO_POINTS[-1][0])
    for (q0, t0), (q1, t1) in zip(AUTO_POINTS, AUTO_POINTS[1:], strict=False):
        if q0 <= q <= q1:
            return round((t0 + (t1 - t0) * (q - q0) / (q1 - q0)) / STEP) * STEP
    return 0.0


class ModelBank:
    """Loaded networks by source (``run.ckpt``, ``x2``, ``x2-real``, blends)."""

    def __init__(self, ckpt_path: str | None, scale: int | None, size: OutputSize,
                 weights: str = "clean", denoise: float | None = None, **load: object) -> None:
        """``load``: the :func:`load_model` arguments every network is loaded with (device,
        precision, tile, progress)."""
        if weights not in WEIGHTS:
            raise ValueError(f"weights={weights!r}: choose one of {WEIGHTS}")
        if ckpt_path is not None and (weights == "real" or denoise is not None):
            raise ValueError("weights=real|auto and denoise= choose among the bundled weights; "
                             "with ckpt_path= give the checkpoint you want instead")
        if denoise is not None and weights == "auto":
            raise ValueError("weights=auto sets the denoise strength per input; leave denoise= "
                             "unset (or use weights=real denoise=<0..1>)")
        self.size, self.load, self.weights, self.ckpt_path = size, load, weights, ckpt_path
        self.denoise = None if denoise is None else float(denoise)
        if weights == "real" and denoise is None:
            self.denoise = 1.0
        if ckpt_path is None and scale is not None and f"x{scale}" not in checkpoints.BUNDLED:
            raise ValueError(f"scale={scale}: srnet has no bundled network for x{scale} (bundled: "
                             f"{', '.join(n for n in checkpoints.BUNDLED if '-' not in n)}); for another scale pass "
                             f"ckpt_path= a network trained at it (python train.py scale=...), "
                             f"or ask for any size with outscale= / width= / height=")
        self.fixed = ckpt_path is not None or scale is not None
        self.source = str(ckpt_path) if ckpt_path else self.name(scale or 2, self.denoise)
        self.loaded: dict[str, Upscaler] = {}
        self.default = self.get(self.source)
        if scale is not None:
            checkpoints.check_compatible(self.default.net.cfg.to_dict(), {"scale": int(scale)},
                                         self.source)
        self.warned = False
        self.qualities: dict[Path, int | None] = {}  # weights=auto: per file, found once

    @classmethod
    def from_settings(cls, ckpt_path: str | None, scale: int | None, size: OutputSize,
                      device: str = "auto", precision: str = "fp32", tile: int | str = "auto",
                      progress: bool = False, weights: str = "clean",
                      denoise: float | None = None) -> ModelBank:
        return cls(ckpt_path, scale, size, weights, denoise, device=device, precision=precision,
                   tile=tile, progress=progress)

    @staticmethod
    def name(scale: int, denoise: float | None) -> str:
        """The source name of bundled weights: ``x2``, ``x2-real`` or ``x2@0.5`` (a blend)."""
        if denoise is None or denoise == 0:
            return f"x{scale}"
        return f"x{scale}-real" if denoise == 1 else f"x{scale}@{denoise:g}"

    def get(self, source: str) -> Upscaler:
        if source not in self.loaded:
            if "@" in source:  # a blend of the clean and the real weights of one scale
                clean, strength = source.split("@")
                self.loaded[source] = load_model(clean, denoise=float(strength), **self.load)
            else:
                self.loaded[source] = load_model(source, **self.load)
        return self.loaded[source]

    @staticmethod
    def has_real(scale: int) -> bool:
        """Whether real-photo weights are bundled for ``scale``."""
        return (checkpoints.WEIGHTS_DIR / f"fsrcnn_x{scale}_real.pt").is_file()

    def bundled_scales(self) -> list[int]:
        """Scales whose bundled clean weights exist."""
        return [int(n[1:]) for n in checkpoints.BUNDLED
                if "-" not in n and (checkpoints.WEIGHTS_DIR / f"fsrcnn_{n}.pt").is_file()]

    def quality(self, src: Path | None, pixels: np.ndarray | None) -> int | None:
        """``weights=auto``: the JPEG quality of the file ``src`` (its tables), else of its decoded
        ``pixels``; None for lossless content."""
        if src is not None and src in self.qualities:
            return self.qualities[src]
        q, how = (jpeg_quality(src) if src is not None else None), "its quantisation tables"
        if q is None and pixels is not None:
            q, how = quality_from_pixels(pixels), "its pixels (a decoded JPEG)"
        if q is not None:
            log.debug("weights=auto: %s is a JPEG of quality %d, from %s", src or "input", q, how)
        if src is not None:
            self.qualities[src] = q
        return q

    def choose(self, w: int, h: int, src: Path | None = None,
               pixels: np.ndarray | None = None) -> tuple[Upscaler, str]:
        """The network for a ``w`` x ``h`` input (the file ``src`` and its decoded ``pixels``,
        for ``weights=auto``) and its source name."""
        factor = self.size.factor(w, h)
        scale = self.default.scale
        if factor is not None and not self.fixed:
            scale = pick_scale(factor, self.bundled_scales() or [self.default.scale])
        if self.ckpt_path is not None:
            source = self.source
        elif self.weights == "auto":  # lossless inputs, or no real partner at this scale: clean
            strength = auto_strength(self.quality(src, pixels))
            source = self.name(scale, strength if self.has_real(scale) else 0.0)
        elif self.fixed:
            source = self.source
        else:
            source = self.name(scale, self.denoise)
        model = self.get(source)
        if factor is not None and factor > model.scale + 1e-9 and not self.warned:
            self.warned = True
            log.warning("%s asks for x%.3g, more than the network's x%d: the rest is an "
                        "antialiased bicubic enlargement", self.size.describe(), factor, model.scale)
        return model, source

    @property
    def fallbacks(self) -> int:
        return sum(m.fallbacks for m in self.loaded.values())
