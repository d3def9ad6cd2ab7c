"""Any output size: ``outscale=``, ``width=``, ``height=``.

The network runs at the smallest trained scale that reaches the asked size (the largest there
is when none does), then an antialiased bicubic resize (``torch`` ``interpolate`` with
``antialias=True``) brings the result to the exact size: the ``--outscale`` of other upscalers.
Only ``width`` or only ``height`` keeps the aspect ratio; both together set the size exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch.nn.functional as F
from torch import Tensor

from srnet.io.pictures import Picture


def half_up(x: float) -> int:
    """Pixels: rounded half up (37 x 1.5 = 55.5 -> 56), at least 1."""
    return max(1, math.floor(x + 0.5 + 1e-9))


@dataclass(frozen=True)
class OutputSize:
    """The asked output size; all None means the network's own scale."""

    outscale: float | None = None
    width: int | None = None
    height: int | None = None

    @classmethod
    def from_settings(cls, outscale, width, height) -> OutputSize:
        """Validate the three settings; ``ValueError`` naming the one at fault."""
        def positive(name: str, value, kind):
            if value is None:
                return None
            try:
                v = kind(value)
            except (TypeError, ValueError):
                v = None
            if v is None or not math.isfinite(v) or v <= 0 or (kind is int and v != float(value)):
                raise ValueError(f"{name}={value!r}: give a positive {kind.__name__} (or null)")
            return v

        size = cls(positive("outscale", outscale, float), positive("width", width, int),
                   positive("height", height, int))
        if size.outscale is not None and (size.width or size.height):
            raise ValueError(f"outscale={size.outscale:g} and width=/height= both set: give one")
        return size

    @property
    def fixed(self) -> bool:
        """True when a size was asked (otherwise the network's scale decides)."""
        return self.outscale is not None or bool(self.width or self.height)

    def size(self, w: int, h: int, scale: int) -> tuple[int, int]:
        """Output (width, height) for a ``w`` x ``h`` input and a network of ``scale``."""
        if self.outscale is not None:
            return half_up(w * self.outscale), half_up(h * self.outscale)
        if self.width and self.height:
            return self.width, self.height
        if self.width:
            return self.width, half_up(h * self.width / w)
        if self.height:
            return half_up(w * self.height / h), self.height
        return w * scale, h * scale

    def factor(self, w: int, h: int) -> float | None:
        """The enlargement the network must reach for this input (None: no size asked)."""
        if not self.fixed:
            return None
        ow, oh = self.size(w, h, 1)
        return max(ow / w, oh / h)

    def describe(self) -> str:
        if self.outscale is not None:
            return f"outscale={self.outscale:g}"
        return " ".join(f"{k}={v}" for k, v in (("width", self.width), ("height", self.height)) if v)


def pick_scale(factor: float, scales: list[int] | tuple[int, ...]) -> int:
    """The smallest of ``scales`` that reaches ``factor``, else the largest."""
    reaching = [s for s in sorted(scales) if s >= factor - 1e-9]
    return reaching[0] if reaching else max(scales)


def resize(x: Tensor, size_hw: tuple[int, int], clamp: bool = True) -> Tensor:
    """(N, C, H, W) float -> (N, C, *size_hw), antialiased bicubic; clamped to [0, 1] unless not
    ``clamp`` (float pictures)."""
    if tuple(x.shape[-2:]) == tuple(size_hw):
        return x
    y = F.interpolate(x.float(), size=size_hw, mode="bicubic", antialias=True, align_corners=False)
    return y.clamp(0, 1) if clamp else y


def resize_picture(pic: Picture, size_wh: tuple[int, int]) -> Picture:
    """Resize colour and alpha to ``size_wh`` (width, height); integers re-rounded, float kept."""
    hw = (size_wh[1], size_wh[0])
    if pic.pixels.shape[:2] == hw:
        return pic

    def one(t: Tensor, channels_last: bool) -> np.ndarray:
        y = resize(t, hw, clamp=not pic.is_float)[0]
        if pic.is_float:
            arr = y.numpy().astype(np.float32)
        else:
            arr = y.mul(pic.max_value).round().numpy().astype(pic.pixels.dtype)
        return arr.transpose(1, 2, 0) if channels_last else arr[0]

    alpha = None if pic.alpha is None else one(pic.alpha_tensor(), False)
    return Picture(one(pic.color_tensor(), True), alpha, pic.icc_profile)
