"""Running a trained network on images: colour handling, tiling, precision, and the Python API.

``y`` models see luma only: the image is converted to YCbCr (BT.601), Y goes through the network
and Cb/Cr are enlarged by bicubic interpolation, then merged back. ``rgb`` models see RGB. Grey
images go through as R = G = B and come back grey; alpha is enlarged by bicubic on its own.

Every inference path prepares its network with :func:`prepare_net`. Large images are cut into
tiles with a halo of at least the network's receptive field, so tiled output equals the
whole-image pass (to float rounding); the image stays in CPU memory and only tiles go to the
device. ``tile="auto"`` picks a size from free device memory and halves it after an
out-of-memory error. ``precision="fp16"|"bf16"`` runs tiles under autocast and re-runs in float32
any tile whose output is not finite.

Python API::

    from srnet import load_model
    model = load_model("run.ckpt")          # or "x2" / "x3" / "x4": the bundled weights
    big = model.upscale(Image.open("photo.png"))   # PIL image or uint8 array (H, W, C) in and out
    model.net                               # the nn.Module: (N, C, H, W) in [0, 1], C = 1 for Y
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
import torch
from PIL import Image, ImageOps
from torch import Tensor, nn

from srnet.infer.tiling import Tiler
from srnet.io.images import (
    Picture,
    picture_from_array,
    picture_from_pil,
    picture_to_array,
    picture_to_pil,
)
from srnet.ops.color import rgb_to_y, rgb_to_ycbcr, ycbcr_to_rgb
from srnet.ops.degradation import upscale

log = logging.getLogger(__name__)
PRECISIONS = {"fp32": None, "fp16": torch.float16, "bf16": torch.bfloat16}


def net_channels(net: nn.Module) -> int:
    return 1 if net.cfg.color_mode == "y" else 3


def to_net_space(rgb: Tensor, color_mode: str) -> Tensor:
    """RGB (N, 3, H, W) in [0, 1] -> what the network takes: Y (N, 1, H, W) or RGB unchanged."""
    return rgb_to_y(rgb) if color_mode == "y" else rgb


def enlarge(x: Tensor, scale: int, method: str, clamp: bool = True) -> Tensor:
    """``srnet.ops.degradation.upscale`` that gives the same values on a tile as on the whole image.

    Interpolation positions are computed in the input's precision; for scales that are not powers
    of two they drift with the distance from the origin in float32, so those run in float64.
    """
    exact = method == "nearest" or scale & (scale - 1) == 0  # 1/2, 1/4: exact in float32
    return upscale(x if exact else x.double(), scale, method, clamp).to(x.dtype)


def merge_y(sr_y: Tensor, lr_rgb: Tensor, scale: int) -> Tensor:
    """Network luma (N, 1, sH, sW) + bicubic-enlarged chroma of LR (N, 3, H, W) -> RGB in [0, 1].

    The enlarged RGB is not clamped before the conversion (only the result is): the same values
    as the deployed colour path, which computes this at LR resolution (``srnet/deploy/rgb.py``).
    """
    cbcr = rgb_to_ycbcr(enlarge(lr_rgb, scale, "bicubic", clamp=False))[:, 1:]
    return ycbcr_to_rgb(torch.cat([sr_y, cbcr], 1)).clamp(0, 1)


def sr_from_rgb(lr_rgb: Tensor, run_net: Callable[[Tensor], Tensor], color_mode: str,
                scale: int) -> Tensor:
    """LR RGB (N, 3, H, W) in [0, 1] -> SR RGB (N, 3, sH, sW) in [0, 1] through ``run_net``."""
    out = run_net(to_net_space(lr_rgb, color_mode))  # (N, 1 or 3, sH, sW)
    return merge_y(out, lr_rgb, scale) if color_mode == "y" else out.clamp(0, 1)


@torch.no_grad()
def super_resolve(net: nn.Module, lr_rgb: Tensor) -> Tensor:
    """LR RGB (N, 3, H, W) in [0, 1] -> SR RGB (N, 3, sH, sW) in [0, 1] (clamped, not rounded)."""
    return sr_from_rgb(lr_rgb, net, net.cfg.color_mode, net.cfg.scale)


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``auto`` -> ``cuda`` when available, else ``cpu``; anything else as torch spells it."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except RuntimeError as e:
        raise ValueError(f"device={device!r}: use auto, cpu, cuda or cuda:<n> ({e})") from e
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device}: CUDA is not available here; use device=cpu or auto")
    return dev


def check_precision(precision: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for ``precision`` (None for fp32); fp16 needs a CUDA device."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision={precision!r}: choose one of {sorted(PRECISIONS)}")
    if precision == "fp16" and device.type != "cuda":
        raise ValueError(f"precision=fp16 needs a CUDA device (device is {device}); use fp32 or bf16")
    return PRECISIONS[precision]


def prepare_net(net: nn.Module, device: str | torch.device = "cpu",
                precision: str = "fp32") -> nn.Module:
    """Make a network ready for inference; every inference path goes through here.

    Contract: the returned module maps float32 (N, C, H, W) on ``device`` to the same values as
    ``net`` (to float rounding) and runs in float32 as it is: fp16/bf16 are applied by the caller
    with ``torch.autocast``, and a tile whose output is not finite is re-run in float32 on it.
    It may share parameters with ``net``.
    """
    check_precision(precision, torch.device(device))
    from srnet.deploy.engine import (
        deploy,  # exact rewrite + fast kernels (see srnet/deploy/engine.py)
    )

    return deploy(net.eval(), device, "fp32")


class Upscaler:
    """A trained network ready to upscale images; what :func:`load_model` returns.

    Attributes:
        net: the network (``nn.Module``): (N, C, H, W) in [0, 1] -> (N, C, sH, sW), C = 1 (the Y
            of BT.601 studio range) for ``y`` models, 3 (RGB) for ``rgb`` models.
        scale, color_mode, degradation: what the checkpoint says.
        fallbacks: tiles re-run in float32 because the fp16/bf16 output was not finite.
    """

    def __init__(self, net: nn.Module, device: str | torch.device = "auto",
                 precision: str = "fp32", tile: int | str = "auto", progress: bool = False) -> None:
        self.device = resolve_device(device)
        self.amp_dtype = check_precision(precision, self.device)
        self.net, self.precision = net, precision
        self.scale, self.color_mode = net.cfg.scale, net.cfg.color_mode
        self.degradation = getattr(net, "degradation", "bicubic")
        self.runner = prepare_net(net, self.device, precision)
        self.halo = max(3, net.receptive_field)  # bicubic chroma needs 2 LR pixels
        per_px = 4 * (2 * net.cfg.d + 12 * self.scale**2 + 8)
        self.tiler = Tiler(self.device, tile, progress, per_px)
        self.fallbacks = 0

    def run_net(self, x: Tensor) -> Tensor:
        """Network-space (N, C, h, w) on the device -> (N, C, sh, sw) float32, finite."""
        if self.amp_dtype is not None:
            with torch.autocast(self.device.type, dtype=self.amp_dtype):
                y = self.runner(x).float()
            if torch.isfinite(y).all():
                return y
            self.fallbacks += 1
            if self.fallbacks == 1:  # once; the run's summary gives the count
                log.warning("%s output not finite on a tile; re-running it in fp32", self.precision)
        y = self.runner(x.float()).float()
        if not torch.isfinite(y).all():
            raise FloatingPointError("the network's output is not finite even in fp32: are the "
                                     "weights corrupt?")
        return y

    def _image_fn(self, x: Tensor) -> Tensor:
        """(N, 3, h, w) RGB or (N, 1, h, w) grey on the device -> the same at s x the size."""
        if x.shape[1] == 3 and self.amp_dtype is None and hasattr(self.runner, "upscale_rgb"):
            # fp32 deployed path: network, chroma and merge at LR resolution (srnet/deploy/rgb.py)
            out = self.runner.upscale_rgb(x)
            if not torch.isfinite(out).all():
                raise FloatingPointError("the network's output is not finite even in fp32: are "
                                         "the weights corrupt?")
            return out
        if x.shape[1] == 1:
            rgb = x.expand(-1, 3, -1, -1)
            return sr_from_rgb(rgb, self.run_net, self.color_mode, self.scale).mean(1, keepdim=True)
        return sr_from_rgb(x, self.run_net, self.color_mode, self.scale)

    def forward_tiled(self, x: Tensor) -> Tensor:
        """The raw network output, tiled: network space (N, C, H, W) -> (N, C, sH, sW) on CPU."""
        return self.tiler.run(self.run_net, x.cpu().float(), self.scale, self.halo)

    def upscale_tensor(self, x: Tensor) -> Tensor:
        """RGB (N, 3, H, W) or grey (N, 1, H, W) float in [0, 1] -> (N, C, sH, sW), same device."""
        if x.ndim != 4 or x.shape[1] not in (1, 3):
            raise ValueError(f"expected (N, 3, H, W) RGB or (N, 1, H, W) grey, got {tuple(x.shape)}")
        out = self.tiler.run(self._image_fn, x.detach().cpu().float(), self.scale, self.halo)
        return out.to(x.device)

    def upscale_picture(self, pic: Picture) -> Picture:
        """Colour through the network, alpha by bicubic; bit depth and colour profile kept."""
        levels = pic.max_value
        pixels = self.tiler.run(self._image_fn, pic.color_tensor(), self.scale, self.halo, levels)
        alpha = None
        if pic.alpha is not None:
            alpha = self.tiler.run(lambda a: enlarge(a, self.scale, "bicubic"), pic.alpha_tensor(),
                                   self.scale, 3, levels)[..., 0]
        return Picture(pixels, alpha, pic.icc_profile)

    def baseline(self, pic: Picture, method: str) -> Picture:
        """The colour of ``pic`` enlarged by a fixed rule (``nearest``, ``bilinear``, ``bicubic``)."""
        out = self.tiler.run(lambda t: enlarge(t, self.scale, method), pic.color_tensor(),
                             self.scale, 3, pic.max_value)
        return Picture(out)

    def upscale(self, image: Image.Image | np.ndarray | Tensor):
        """Upscale a PIL image, a uint8/uint16 numpy array (H, W[, C]) or a float tensor.

        The result has the input's type, mode/layout and bit depth, at ``scale`` x the size.
        PIL images are turned upright first (EXIF orientation).
        """
        if isinstance(image, Image.Image):
            pic = picture_from_pil(ImageOps.exif_transpose(image), "image")
            return picture_to_pil(self.upscale_picture(pic))
        if isinstance(image, np.ndarray):
            out = picture_to_array(self.upscale_picture(picture_from_array(image)))
            return out[:, :, 0] if image.ndim == 2 else out
        if torch.is_tensor(image):
            return self.upscale_tensor(image)
        raise TypeError(f"upscale takes a PIL image, a numpy array or a tensor, not {type(image)}")


def load_model(source: str = "x2", device: str = "auto", precision: str = "fp32",
               tile: int | str = "auto", progress: bool = False) -> Upscaler:
    """Load a checkpoint (``.ckpt`` / ``.pt`` path, or bundled ``"x2"``/``"x3"``/``"x4"``).

    Args:
        source: see :func:`srnet.io.checkpoints.load_net`.
        device: ``auto`` (GPU when there is one), ``cpu``, ``cuda``, ``cuda:<n>``.
        precision: ``fp32``, or ``fp16`` / ``bf16`` (autocast, fp32 re-run of non-finite tiles).
        tile: LR tile side, ``0`` for whole images, or ``auto``.
        progress: progress bar over tiles.
    """
    from srnet.io.checkpoints import load_net

    return Upscaler(load_net(source), device, precision, tile, progress)

