"""FSRCNN (Dong, Loy and Tang, ECCV 2016) and its re-shaped family as one pure ``nn.Module``.

    LR (N, C, H, W) -> conv f x f, d -> PReLU                     feature extraction (f = 5)
                    -> conv 1x1, s -> PReLU                       shrinking      (shrink only)
                    -> m x (conv 3x3, s -> PReLU)                 non-linear mapping
                    -> conv 1x1, d -> PReLU                       expanding      (shrink only)
                    -> upsampling tail (deconv k x k, stride r)  -> SR (N, C, r*H, r*W)
                    [+ a fixed bicubic / nearest upscaling of the LR input: ``skip``]

The classic network is d=56, s=12, m=4, f=5 with the 1x1 shrink / expand (``model=fsrcnn``).
``shrink=false`` drops both 1x1 layers, so the mapping runs at width d (s must be d or unset):
with f=3, d=16, m=4 that is a plain stack of five 16-channel 3x3 convolutions, the body of the
best tiny networks (ECBSR, ETDS), before the same transposed-convolution tail
(``model=fsrcnn_slim``). C is 1 for ``color_mode="y"`` (the paper's: the network sees luma only)
or 3 for ``"rgb"``. Inputs and outputs are in [0, 1]; the output is not clamped (the loss sees
the raw values).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import Tensor, nn

from srnet.nets.skip import SKIPS, build_skip
from srnet.nets.tails import TAILS, build_tail, default_kernel

SCALES = (2, 3, 4)
RESIDUAL_START = 0.01  # tail weights are scaled by this at init when a skip is used
COLOR_MODES = {"y": 1, "rgb": 3}


@dataclass
class FSRCNNConfig:
    """The architecture, as stored in checkpoints (``model.net`` in the Hydra config)."""

    scale: int = 3
    color_mode: str = "y"
    d: int = 56
    s: int | None = 12
    m: int = 4
    first_kernel: int = 5
    shrink: bool = True
    tail: str = "deconv"
    tail_kernel: int | None = None
    tail_init: str = "smooth"
    allow_checkerboard: bool = False
    skip: str = "none"
    arch: str = "fsrcnn"

    def __post_init__(self) -> None:
        if self.arch != "fsrcnn":
            raise ValueError(f"model.net.arch={self.arch!r}: only 'fsrcnn' is available")
        if int(self.scale) not in SCALES:
            raise ValueError(f"scale={self.scale} is not supported; choose one of {SCALES}")
        if self.color_mode not in COLOR_MODES:
            raise ValueError(f"model.net.color_mode={self.color_mode!r}: choose 'y' or 'rgb'")
        if not isinstance(self.shrink, bool):
            raise ValueError(f"model.net.shrink={self.shrink!r}: choose true or false")
        if self.s is None or not self.shrink:  # no shrinking layer: the mapping is d wide
            if self.s is not None and int(self.s) != int(self.d):
                raise ValueError(f"model.net.s={self.s} with model.net.shrink=false: the mapping "
                                 f"layers are d={self.d} wide; set model.net.s={self.d} or null")
            if self.shrink:
                raise ValueError("model.net.s=null needs model.net.shrink=false")
            self.s = int(self.d)
        for key in ("d", "s"):
            if int(getattr(self, key)) < 1:
                raise ValueError(f"model.net.{key} must be >= 1, got {getattr(self, key)}")
        if int(self.m) < 0:
            raise ValueError(f"model.net.m must be >= 0, got {self.m}")
        f = int(self.first_kernel)
        if f < 1 or f % 2 == 0:
            raise ValueError(f"model.net.first_kernel must be odd and >= 1, got {self.first_kernel}")
        self.first_kernel = f
        if self.tail not in TAILS:
            raise ValueError(f"model.net.tail={self.tail!r} is not known; choose one of {TAILS}")
        if self.skip not in SKIPS:
            raise ValueError(f"model.net.skip={self.skip!r}: choose one of {SKIPS}")
        self.scale, self.d, self.s, self.m = int(self.scale), int(self.d), int(self.s), int(self.m)
        if self.tail == "deconv" and self.tail_kernel is None:
            self.tail_kernel = default_kernel(self.scale)

    @property
    def channels(self) -> int:
        return COLOR_MODES[self.color_mode]

    def to_dict(self) -> dict:
        return asdict(self)


def _conv(c_in: int, c_out: int, k: int) -> list[nn.Module]:
    conv = nn.Conv2d(c_in, c_out, k, padding=k // 2)
    # He initialisation suits PReLU (the paper's choice); biases start at zero.
    nn.init.kaiming_normal_(conv.weight, a=0.25, nonlinearity="leaky_relu")
    nn.init.zeros_(conv.bias)
    return [conv, nn.PReLU(c_out)]


class FSRCNN(nn.Module):
    """FSRCNN with a configurable upsampling tail; see the module docstring."""

    def __init__(self, cfg: FSRCNNConfig | None = None, **kwargs) -> None:
        super().__init__()
        cfg = cfg if cfg is not None else FSRCNNConfig(**kwargs)
        self.cfg = cfg
        c = cfg.channels
        layers = _conv(c, cfg.d, cfg.first_kernel)
        if cfg.shrink:
            layers += _conv(cfg.d, cfg.s, 1)
        for _ in range(cfg.m):
            layers += _conv(cfg.s, cfg.s, 3)
        if cfg.shrink:
            layers += _conv(cfg.s, cfg.d, 1)
        self.body = nn.Sequential(*layers)
        self.tail = build_tail(cfg.tail, cfg.d, c, cfg.scale, cfg.tail_kernel,
                               cfg.allow_checkerboard, cfg.tail_init)
        self.skip = build_skip(cfg.skip, cfg.scale, c)  # residual learning; None: no skip
        if self.skip is not None:  # start as the skip itself: the residual begins near zero
            with torch.no_grad():
                for p in self.tail.parameters():
                    p.mul_(RESIDUAL_START)

    @property
    def scale(self) -> int:
        return self.cfg.scale

    @property
    def receptive_field(self) -> int:
        """Radius in LR pixels beyond which an input pixel cannot affect an output pixel."""
        radius = self.cfg.first_kernel // 2 + self.cfg.m  # f x f head, m 3x3 mapping layers
        k = self.cfg.tail_kernel or 9
        return radius + math.ceil(k / self.cfg.scale) + 1

    def forward(self, x: Tensor) -> Tensor:
        y = self.tail(self.body(x))  # (N, C, H, W) -> (N, C, s*H, s*W)
        return y if self.skip is None else y + self.skip(x)


def build_net(cfg: dict | FSRCNNConfig) -> FSRCNN:
    """Build the network from a plain dict (as found in ``model.net`` and in checkpoints)."""
    if isinstance(cfg, FSRCNNConfig):
        return FSRCNN(cfg)
    known = set(FSRCNNConfig.__dataclass_fields__)
    unknown = set(cfg) - known
    if unknown:
        raise ValueError(f"model.net has unknown keys {sorted(unknown)}; known: {sorted(known)}")
    return FSRCNN(FSRCNNConfig(**cfg))

