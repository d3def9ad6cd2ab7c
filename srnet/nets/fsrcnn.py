"""FSRCNN (Dong, Loy and Tang, ECCV 2016) as a pure ``nn.Module``.

    LR (N, C, H, W) -> conv 5x5, d -> PReLU                       feature extraction
                    -> conv 1x1, s -> PReLU                       shrinking
                    -> m x (conv 3x3, s -> PReLU)                 non-linear mapping
                    -> conv 1x1, d -> PReLU                       expanding
                    -> upsampling tail (deconv k x k, stride r)  -> SR (N, C, r*H, r*W)
                    [+ a fixed bicubic / nearest upscaling of the LR input: ``skip``]

C is 1 for ``color_mode="y"`` (the paper's: the network sees luma only) or 3 for ``"rgb"``.
Inputs and outputs are in [0, 1]; the output is not clamped (the loss sees the raw values).
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
    s: int = 12
    m: int = 4
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
        for key in ("d", "s"):
            if int(getattr(self, key)) < 1:
                raise ValueError(f"model.net.{key} must be >= 1, got {getattr(self, key)}")
        if int(self.m) < 0:
            raise ValueError(f"model.net.m must be >= 0, got {self.m}")
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
        layers = _conv(c, cfg.d, 5) + _conv(cfg.d, cfg.s, 1)
        for _ in range(cfg.m):
            layers += _conv(cfg.s, cfg.s, 3)
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
        radius = 2 + self.cfg.m  # 5x5 head, m 3x3 mapping layers
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

