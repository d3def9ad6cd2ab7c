"""The networks one ``infer.py`` run uses: the checkpoint, or the bundled weights by scale.

With ``ckpt_path`` (or ``scale``) every input goes through that one network. Without either and
with ``outscale`` / ``width`` / ``height``, each input gets the bundled network of the smallest
trained scale that reaches its output size (:func:`srnet.infer.resize.pick_scale`); networks are
loaded on first use and kept.
"""

from __future__ import annotations

import logging

from srnet.infer.resize import OutputSize, pick_scale
from srnet.infer.upscaler import Upscaler, load_model
from srnet.io import checkpoints

log = logging.getLogger("srnet.infer")


class ModelBank:
    """Loaded networks by source (``run.ckpt`` or ``x2`` / ``x3`` / ``x4``)."""

    def __init__(self, ckpt_path: str | None, scale: int | None, size: OutputSize,
                 **load: object) -> None:
        """``load``: the :func:`load_model` arguments every network is loaded with (device,
        precision, tile, progress)."""
        self.size, self.load = size, load
        if ckpt_path is None and scale is not None and f"x{scale}" not in checkpoints.BUNDLED:
            raise ValueError(f"scale={scale}: srnet has no bundled network for x{scale} (bundled: "
                             f"{', '.join(checkpoints.BUNDLED)}); for another scale pass "
                             f"ckpt_path= a network trained at it (python train.py scale=...), "
                             f"or ask for any size with outscale= / width= / height=")
        self.fixed = ckpt_path is not None or scale is not None
        self.source = str(ckpt_path) if ckpt_path else f"x{scale or 2}"
        self.loaded: dict[str, Upscaler] = {}
        self.default = self.get(self.source)
        if scale is not None:
            checkpoints.check_compatible(self.default.net.cfg.to_dict(), {"scale": int(scale)},
                                         self.source)
        self.warned = False

    @classmethod
    def from_settings(cls, ckpt_path: str | None, scale: int | None, size: OutputSize,
                      device: str = "auto", precision: str = "fp32", tile: int | str = "auto",
                      progress: bool = False) -> ModelBank:
        return cls(ckpt_path, scale, size, device=device, precision=precision, tile=tile,
                   progress=progress)

    def get(self, source: str) -> Upscaler:
        if source not in self.loaded:
            self.loaded[source] = load_model(source, **self.load)
        return self.loaded[source]

    def bundled_scales(self) -> list[int]:
        """Scales whose bundled weights exist."""
        return [int(n[1:]) for n in checkpoints.BUNDLED
                if (checkpoints.WEIGHTS_DIR / f"fsrcnn_{n}.pt").is_file()]

    def choose(self, w: int, h: int) -> tuple[Upscaler, str]:
        """The network for a ``w`` x ``h`` input and its source name."""
        factor = self.size.factor(w, h)
        if factor is None or self.fixed:
            model, source = self.default, self.source
        else:
            s = pick_scale(factor, self.bundled_scales() or [self.default.scale])
            source = f"x{s}"
            model = self.get(source)
        if factor is not None and factor > model.scale + 1e-9 and not self.warned:
            self.warned = True
            log.warning("%s asks for x%.3g, more than the network's x%d: the rest is an "
                        "antialiased bicubic enlargement", self.size.describe(), factor, model.scale)
        return model, source

    @property
    def fallbacks(self) -> int:
        return sum(m.fallbacks for m in self.loaded.values())
