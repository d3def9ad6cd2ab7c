"""Running a trained network on images: colour handling, tiling, precision, and the Python API.

``y`` models see luma only (colour: :mod:`srnet.infer.reference`, computed at LR resolution by
:mod:`srnet.deploy.rgb`); ``rgb`` models see RGB. Grey images go through as R = G = B and come
back grey; alpha is enlarged by bicubic on its own. Every inference path prepares its network
with :func:`prepare_net`. Tiles (:mod:`srnet.infer.tiling`) have a halo of at least the receptive
field, so tiled output equals the whole-image pass; ``tile="auto"`` is the whole image on CPU
with the banded engine (large integer images stream through it row band by row band,
:mod:`srnet.deploy.stream`: memory holds the input, the output and a few bands), else a size
from free device memory. ``precision="fp16"|"bf16"`` runs
tiles under autocast and re-runs in float32 any tile whose output is not finite.

Python API::

    from srnet import load_model
    model = load_model("run.ckpt")          # or "x2" / "x3" / "x4": the bundled weights
    big = model.upscale(Image.open("photo.png"))   # PIL image or uint8 array (H, W, C) in and out
    model.net                               # the nn.Module: (N, C, H, W) in [0, 1], C = 1 for Y
"""

from __future__ import annotations

import logging
from functools import partial

import numpy as np
import torch
from PIL import Image, ImageOps
from torch import Tensor, nn

from srnet.deploy.engine import DeployedNet, deploy
from srnet.deploy.plan import MAX_PLAIN_PIXELS
from srnet.deploy.rgb import upscale_into
from srnet.deploy.stream import stream_into
from srnet.infer.devices import check_precision, resolve_device
from srnet.infer.tiling import CPU_TILE, Tiler
from srnet.io.pictures import (
    Picture,
    picture_from_array,
    picture_from_pil,
    picture_to_array,
    picture_to_pil,
)
from srnet.ops.reference import sr_from_rgb
from srnet.ops.resize import enlarge

log = logging.getLogger(__name__)
NOT_FINITE = "the network's output is not finite even in fp32: are the weights corrupt?"


def prepare_net(net: nn.Module, device: str | torch.device = "cpu",
                precision: str = "fp32") -> nn.Module:
    """Make a network ready for inference; every inference path goes through here.

    Contract: the returned module maps float32 (N, C, H, W) on ``device`` to the same values as
    ``net`` (to float rounding) and runs in float32 as it is: fp16/bf16 are applied by the caller
    with ``torch.autocast``, and a tile whose output is not finite is re-run in float32 on it.
    """
    check_precision(precision, torch.device(device))
    return deploy(net.eval(), device, "fp32")  # exact rewrite + fast kernels


class Upscaler:
    """A trained network ready to upscale images; what :func:`load_model` returns.

    In fp32 every image call (:meth:`upscale`, :meth:`upscale_picture`, ``infer.py``) runs the
    deployed network and its colour path (:func:`srnet.deploy.rgb.upscale_into`): integer images
    are converted to float once at LR size, and the rounded result is written straight into the
    output array. Same-size images (a stacked (N, H, W, C) array or a list) run as one batch.

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
        self.degradation = getattr(net, "degradation", None) or {"name": "bicubic"}
        self.runner = prepare_net(net, self.device, precision)
        self.fast = self.amp_dtype is None and isinstance(self.runner, DeployedNet)
        self.finite = all(bool(torch.isfinite(p).all()) for p in net.parameters())
        self.halo = max(3, net.receptive_field)  # bicubic chroma needs 2 LR pixels
        per_px = 4 * (2 * net.cfg.d + 12 * self.scale**2 + 8)
        banded = self.fast and self.runner.banded is not None  # needs no tiles on CPU
        self.tiler = Tiler(self.device, tile, progress, per_px, 0 if banded else CPU_TILE)
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
            raise FloatingPointError(NOT_FINITE)
        return y

    def _image_fn(self, x: Tensor) -> Tensor:
        """(N, 3, h, w) RGB or (N, 1, h, w) grey on the device -> the same at s x the size."""
        if self.fast:  # network, chroma and merge at LR resolution (srnet/deploy/rgb.py)
            n, c, h, w = x.shape
            out = upscale_into(self.runner, x, x.new_empty(n, c, h * self.scale, w * self.scale))
            if not torch.isfinite(out).all():
                raise FloatingPointError(NOT_FINITE)
            return out
        if x.shape[1] == 1:
            rgb = x.expand(-1, 3, -1, -1)
            return sr_from_rgb(rgb, self.run_net, self.color_mode, self.scale).mean(1, keepdim=True)
        return sr_from_rgb(x, self.run_net, self.color_mode, self.scale)

    def _array_fn(self, levels: int, colours: int, x: Tensor, out: Tensor | None) -> Tensor:
        """Integer images (N, h, w, C [+ alpha]) -> (N, sh, sw, same) int, on the device."""
        n, h, w, c = x.shape
        if out is None:
            out = torch.empty(n, h * self.scale, w * self.scale, c, device=self.device,
                              dtype=torch.uint8 if levels == 255 else torch.int32)
        if self.streams(n * h * w):  # no full-size float copies (srnet.deploy.stream)
            if not self.finite:
                raise FloatingPointError(NOT_FINITE)
            return stream_into(self.runner, x, levels, colours, out)
        lr = x.to(self.device).permute(0, 3, 1, 2).float().div_(levels)  # (N, C, h, w) in [0, 1]
        alpha = lr[:, colours:] if c > colours else None
        if self.fast:
            if not self.finite:
                raise FloatingPointError(NOT_FINITE)
            return upscale_into(self.runner, lr[:, :colours], out, alpha)
        sr = self._image_fn(lr[:, :colours])  # reduced precision, with its fp32 re-runs
        out[..., :colours] = sr.clamp(0, 1).mul(levels).round().permute(0, 2, 3, 1)
        if alpha is not None:
            out[..., colours] = enlarge(alpha, self.scale, "bicubic")[:, 0].mul(levels).round()
        return out

    def streams(self, pixels: int) -> bool:
        """Whether integer images of ``pixels`` LR pixels stream through the banded engine
        (CPU, fp32, larger than the sizes whose execution is measured)."""
        r = self.runner
        return (self.fast and r.banded is not None and pixels > MAX_PLAIN_PIXELS
                and r.execution in ("auto", "banded") and self.device.type == "cpu")

    def upscale_arrays(self, images: np.ndarray, alpha_last: bool = False) -> np.ndarray:
        """uint8/uint16 (N, H, W, C) images -> (N, sH, sW, C), one batch; C = 1 (grey) or 3
        (RGB), plus a last alpha channel (enlarged by bicubic) with ``alpha_last``."""
        if images.dtype not in (np.uint8, np.uint16):
            raise ValueError(f"upscale_arrays takes uint8 / uint16 images, not {images.dtype} "
                             f"(float pictures: srnet.infer.floats.upscale_float)")
        (n, h, w, c), s, deep = images.shape, self.scale, images.dtype == np.uint16
        x = np.ascontiguousarray(images, np.int32 if deep else None)
        x = torch.from_numpy(x if x.flags.writeable else x.copy())  # torch wants writable
        out = np.empty((n, h * s, w * s, c), np.int32 if deep else np.uint8)  # 16 bit: int32
        fn = partial(self._array_fn, 65535 if deep else 255, c - alpha_last)
        self.tiler.run_hwc(fn, x, s, self.halo, torch.from_numpy(out))
        return out.astype(np.uint16) if deep else out

    def forward_tiled(self, x: Tensor) -> Tensor:
        """The raw network output, tiled: network space (N, C, H, W) -> (N, C, sH, sW) on CPU."""
        return self.tiler.run(self.run_net, x.cpu().float(), self.scale, self.halo)

    def upscale_tensor(self, x: Tensor) -> Tensor:
        """RGB (N, 3, H, W) or grey (N, 1, H, W) float in [0, 1] -> (N, C, sH, sW), same device."""
        if x.ndim != 4 or x.shape[1] not in (1, 3):
            raise ValueError(f"expected (N, 3, H, W) RGB or (N, 1, H, W) grey, got {tuple(x.shape)}")
        out = self.tiler.run(self._image_fn, x.detach().cpu().float(), self.scale, self.halo)
        return out.to(x.device)

    def upscale_pictures(self, pics: list[Picture]) -> list[Picture]:
        """:meth:`upscale_picture` of each; pictures of one size and kind run as one batch."""
        groups: dict[tuple, list[int]] = {}
        for i, p in enumerate(pics):
            groups.setdefault((p.pixels.shape, p.pixels.dtype, p.alpha is None), []).append(i)
        out: list[Picture | None] = [None] * len(pics)
        for idx in groups.values():
            a = [pics[i] for i in idx]
            arrays = [p.pixels if p.alpha is None else picture_to_array(p) for p in a]
            x = arrays[0][None] if len(a) == 1 else np.stack(arrays)  # one image: no copy
            res, c = self.upscale_arrays(x, a[0].alpha is not None), a[0].pixels.shape[2]
            for j, i in enumerate(idx):
                alpha = None if a[j].alpha is None else res[j, ..., c]
                out[i] = Picture(res[j, ..., :c], alpha, a[j].icc_profile)
        return out

    def upscale_picture(self, pic: Picture) -> Picture:
        """Colour through the network, alpha by bicubic; bit depth and colour profile kept."""
        return self.upscale_pictures([pic])[0]

    def baseline(self, pic: Picture, method: str) -> Picture:
        """The colour of ``pic`` enlarged by a fixed rule (``nearest``, ``bilinear``, ``bicubic``)."""
        out = self.tiler.run(lambda t: enlarge(t, self.scale, method), pic.color_tensor(),
                             self.scale, 3, pic.max_value)
        return Picture(out)

    def upscale(self, image: Image.Image | np.ndarray | Tensor | list):
        """Upscale a PIL image, a uint8/uint16 numpy array (H, W[, C]) or (N, H, W, C) stack,
        a float tensor, or a list of images (same-size ones run as one batch).

        The result has the input's type, mode/layout and bit depth, at ``scale`` x the size.
        PIL images are turned upright first (EXIF orientation).
        """
        if isinstance(image, (list, tuple)):
            pics = [picture_from_pil(ImageOps.exif_transpose(im), "image")
                    if isinstance(im, Image.Image) else picture_from_array(im) for im in image]
            outs = self.upscale_pictures(pics)
            return [picture_to_pil(o) if isinstance(im, Image.Image) else as_layout(im, o)
                    for im, o in zip(image, outs, strict=True)]
        if isinstance(image, Image.Image):
            return picture_to_pil(self.upscale_picture(picture_from_pil(
                ImageOps.exif_transpose(image), "image")))
        if isinstance(image, np.ndarray) and image.ndim in (2, 3, 4):  # one image or a stack
            stack = image if image.ndim == 4 else image.reshape(1, *image.shape[:2], -1)
            picture_from_array(stack[0, :1, :1])  # checks the dtype and the channels
            out = self.upscale_arrays(stack, stack.shape[3] in (2, 4))
            return out if image.ndim == 4 else out[0, :, :, 0] if image.ndim == 2 else out[0]
        if torch.is_tensor(image):
            return self.upscale_tensor(image)
        raise TypeError(f"upscale takes a PIL image, a numpy array or a tensor, not {type(image)}")


def as_layout(image: np.ndarray, pic: Picture) -> np.ndarray:
    """``pic`` as an array laid out like ``image``: (H, W) for a 2-D input, else (H, W, C)."""
    out = picture_to_array(pic)
    return out[:, :, 0] if image.ndim == 2 else out

