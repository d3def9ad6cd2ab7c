"""Degradation presets: how training and evaluation make LR images from HR ones.

A preset is a plain dict (the Hydra group ``configs/degradation/``, recorded in checkpoints):

    {"name": "photo",
     "first":  {"blur": {...}, "resize": {...}, "noise": {...}, "jpeg": {...}},  # in this order
     "second": {"p": 0.5, "blur": ..., "resize": ..., "noise": ..., "jpeg": ...},  # optional
     "final":  {"sinc_p": 0.8, "jpeg_first_p": 0.5}}                              # optional

``name: bicubic`` alone is srnet's classic LR (:func:`srnet.ops.resize.bicubic_down`, bit for
bit). Every step may be left out (null). After the stages the image is resized to the exact LR
size (by a random mode) if it is not already; the ``final`` block, for the second order, puts a
sinc filter on that last resize and a coin flip on whether JPEG comes before or after it
(Real-ESRGAN's last step). Step keys (ranges are [low, high], drawn uniformly):

* blur: ``p``, ``size`` (odd kernel sides), ``sigma`` (pixels), ``kinds`` ({name: weight} of
  iso, aniso, generalized_iso, generalized_aniso, plateau_iso, plateau_aniso), ``beta_g``,
  ``beta_p``, ``sinc_p`` (a sinc kernel instead)
* resize: ``probs`` ([up, down, keep]), ``range`` (factor), ``of`` (``input``: the current size;
  ``target``: the LR size), ``modes``
* noise: ``p``, ``gaussian_p`` (else Poisson), ``sigma`` (8-bit levels), ``poisson_scale``,
  ``gray_p``
* jpeg: ``p``, ``quality``

Blur kernels, noise and JPEG quality are drawn per image; the resize factor and mode per batch.
All draws come from one CPU generator (the global one by default), so a seed fixes the LR on
any device.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch
from torch import Tensor

from srnet.ops import degradation as D
from srnet.ops.metrics import quantize
from srnet.ops.resize import bicubic_down

STEPS = ("blur", "resize", "noise", "jpeg")
KINDS = ("iso", "aniso", "generalized_iso", "generalized_aniso", "plateau_iso", "plateau_aniso")
BICUBIC = {"name": "bicubic"}
BLOCK_MARGIN = 8  # LR context of a training patch under JPEG: its 8x8 grid starts at the patch


def plain(obj: object) -> object:
    """Mappings and sequences (OmegaConf's included) as plain dicts and lists, recursively."""
    if isinstance(obj, Mapping):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, Sequence) and not isinstance(obj, str):
        return [plain(v) for v in obj]
    return obj


def _u(g: torch.Generator, rng, n: int | None = None) -> Tensor:
    lo, hi = (float(rng), float(rng)) if isinstance(rng, (int, float)) else map(float, rng)
    return lo + (hi - lo) * torch.rand(() if n is None else n, generator=g, dtype=torch.float64)


def _coin(g: torch.Generator, p: float, n: int | None = None) -> Tensor:
    return torch.rand(() if n is None else n, generator=g, dtype=torch.float64) < float(p)


class Degrader:
    """A preset as a callable: ``degrader(hr, scale, generator)`` -> LR of size HR / scale.

    Raises ValueError naming the key (``degradation.<stage>.<step>.<key>``) for a bad preset."""

    def __init__(self, spec: dict | str | None = None) -> None:
        spec = BICUBIC if spec in (None, "bicubic") else spec
        if isinstance(spec, str):
            raise ValueError(f"degradation={spec!r}: a preset is a config "
                             f"(degradation=bicubic|jpeg|photo|realesrgan), not a name here")
        if not isinstance(spec, Mapping):
            raise ValueError(f"degradation: a preset is a dict, got {type(spec).__name__}")
        self.spec = plain(spec)
        self.name = str(self.spec.get("name", "custom"))
        unknown = set(self.spec) - {"name", "first", "second", "final"}
        if unknown:
            raise ValueError(f"degradation: unknown keys {sorted(unknown)}; known: name, first, "
                             f"second, final")
        for stage in ("first", "second"):
            for step, cfg in (self.spec.get(stage) or {}).items():
                if step not in (*STEPS, "p") or (step != "p" and cfg is not None
                                                 and not isinstance(cfg, dict)):
                    raise ValueError(f"degradation.{stage}.{step}: steps are {STEPS} (dicts)")
            blur = (self.spec.get(stage) or {}).get("blur") or {}
            bad = set(blur.get("kinds", {})) - set(KINDS)
            if bad:
                raise ValueError(f"degradation.{stage}.blur.kinds: unknown {sorted(bad)}; "
                                 f"known {KINDS}")

    @property
    def classic(self) -> bool:
        """True for srnet's bicubic LR (nothing random)."""
        return not any(self.spec.get(k) for k in ("first", "second", "final"))

    @property
    def margin(self) -> int:
        """LR context pixels a training patch needs around it (the bicubic kernel's reach, or a
        whole JPEG block so that the patch starts on the block grid)."""
        return 2 if self.classic else BLOCK_MARGIN

    def __call__(self, hr: Tensor, scale: int, generator: torch.Generator | None = None) -> Tensor:
        """HR (N, C, s*h, s*w) float in [0, 1] -> LR (N, C, h, w) in [0, 1], 8-bit levels."""
        if self.classic:
            return bicubic_down(hr, scale)
        g = generator if generator is not None else torch.default_generator
        h, w = hr.shape[-2:]
        if h % scale or w % scale:
            raise ValueError(f"HR size {h}x{w} is not a multiple of scale {scale}; mod-crop it")
        target = (h // scale, w // scale)
        x = hr.float()
        x = self.stage(x, self.spec.get("first") or {}, target, g)
        second = self.spec.get("second") or {}
        if second and _coin(g, second.get("p", 1.0)):
            x = self.stage(x, second, target, g)
        final = self.spec.get("final") or {}
        jpeg_cfg = (second or self.spec.get("first") or {}).get("jpeg") if final else None
        if final and jpeg_cfg and _coin(g, final.get("jpeg_first_p", 0.5)):
            x = self.last_resize(self.step_jpeg(x, jpeg_cfg, g), target, final, g)
        elif final and jpeg_cfg:
            x = self.step_jpeg(self.last_resize(x, target, final, g), jpeg_cfg, g)
        else:
            x = self.last_resize(x, target, final, g)
        return quantize(x.clamp(0, 1)).to(hr.dtype)

    def stage(self, x: Tensor, cfg: dict, target: tuple[int, int], g: torch.Generator) -> Tensor:
        """One order: blur, resize, noise, JPEG, each where configured."""
        if cfg.get("blur"):
            x = self.step_blur(x, cfg["blur"], g)
        if cfg.get("resize"):
            x = self.step_resize(x, cfg["resize"], target, g)
        if cfg.get("noise"):
            x = self.step_noise(x, cfg["noise"], g).clamp(0, 1)
        if cfg.get("jpeg") and not (self.spec.get("final") and cfg is self.last_stage()):
            x = self.step_jpeg(x, cfg["jpeg"], g)
        return x

    def last_stage(self) -> dict:
        return self.spec.get("second") or self.spec.get("first") or {}

    @staticmethod
    def step_blur(x: Tensor, cfg: dict, g: torch.Generator) -> Tensor:
        n = x.shape[0]
        sizes = cfg.get("size", [7, 21])
        lo, hi = (sizes, sizes) if isinstance(sizes, int) else sizes
        k = 2 * int(torch.randint(lo // 2, hi // 2 + 1, (), generator=g)) + 1
        kinds = cfg.get("kinds", {"iso": 1.0})
        names = list(kinds)
        pick = torch.multinomial(torch.tensor([float(kinds[c]) for c in names]), n, True,
                                 generator=g)
        s1, s2 = _u(g, cfg.get("sigma", [0.2, 3.0]), n), _u(g, cfg.get("sigma", [0.2, 3.0]), n)
        theta = _u(g, [-math.pi, math.pi], n)
        bg, bp = _u(g, cfg.get("beta_g", [0.5, 4.0]), n), _u(g, cfg.get("beta_p", [1.0, 2.0]), n)
        kind = [names[int(i)] for i in pick]
        aniso = torch.tensor(["aniso" in c for c in kind])
        plateau = torch.tensor([c.startswith("plateau") for c in kind])
        beta = torch.where(plateau, bp, torch.where(
            torch.tensor([c.startswith("generalized") for c in kind]), bg, torch.ones(n)))
        sy, theta = torch.where(aniso, s2, s1), torch.where(aniso, theta, torch.zeros(n))
        kernels = torch.where(plateau.reshape(-1, 1, 1),
                              D.gaussian_kernels(k, s1, sy, theta, beta, plateau=True),
                              D.gaussian_kernels(k, s1, sy, theta, beta))
        sinc = _coin(g, cfg.get("sinc_p", 0.0), n)
        if bool(sinc.any()):  # cutoff: lower for small kernels (Real-ESRGAN's ranges)
            cut = _u(g, [math.pi / 3, math.pi] if k < 13 else [math.pi / 5, math.pi], n)
            kernels[sinc] = D.sinc_kernels(k, cut)[sinc]
        apply = _coin(g, cfg.get("p", 1.0), n)
        if not bool(apply.any()):
            return x
        out = x.clone()
        out[apply.to(x.device)] = D.blur(x[apply.to(x.device)], kernels[apply])
        return out

    @staticmethod
    def step_resize(x: Tensor, cfg: dict, target: tuple[int, int], g: torch.Generator) -> Tensor:
        up, down, _ = cfg.get("probs", [0.0, 0.0, 1.0])
        lo, hi = cfg.get("range", [1.0, 1.0])
        r = float(torch.rand((), generator=g))
        f = _u(g, [1.0, hi]) if r < up else _u(g, [lo, 1.0]) if r < up + down else 1.0
        base = x.shape[-2:] if cfg.get("of", "input") == "input" else target
        size = tuple(max(1, round(float(f) * b)) for b in base)
        modes = cfg.get("modes", list(D.RESIZE_MODES))
        mode = modes[int(torch.randint(len(modes), (), generator=g))]
        return D.resize(x, size, mode)

    @staticmethod
    def step_noise(x: Tensor, cfg: dict, g: torch.Generator) -> Tensor:
        n = x.shape[0]
        apply = _coin(g, cfg.get("p", 1.0), n)
        gaussian = _coin(g, cfg.get("gaussian_p", 1.0))
        gray = _coin(g, cfg.get("gray_p", 0.0), n)
        sigma = _u(g, cfg.get("sigma", [1, 30]), n) / 255
        scale = _u(g, cfg.get("poisson_scale", [0.05, 3.0]), n)
        if not bool(apply.any()):
            return x
        out, on = x.clone(), apply.to(x.device)
        if gaussian:
            out[on] = D.gaussian_noise(x[on], sigma[apply], gray[apply], g)
        else:
            out[on] = D.poisson_noise(x[on], scale[apply], gray[apply], g)
        return out

    @staticmethod
    def step_jpeg(x: Tensor, cfg: dict, g: torch.Generator) -> Tensor:
        n = x.shape[0]
        apply = _coin(g, cfg.get("p", 1.0), n)
        quality = _u(g, cfg.get("quality", [30, 95]), n)
        if not bool(apply.any()):
            return x
        out = x.clone()
        out[apply.to(x.device)] = D.jpeg(x[apply.to(x.device)], quality[apply])
        return out

    @staticmethod
    def last_resize(x: Tensor, target: tuple[int, int], final: dict, g: torch.Generator) -> Tensor:
        """To the exact LR size by a random mode; with ``final.sinc_p`` a sinc filter after."""
        mode = D.RESIZE_MODES[int(torch.randint(len(D.RESIZE_MODES), (), generator=g))]
        x = D.resize(x, target, mode) if tuple(x.shape[-2:]) != target else x
        if final and _coin(g, final.get("sinc_p", 0.0)):
            k = 2 * int(torch.randint(3, 11, (), generator=g)) + 1
            x = D.blur(x, D.sinc_kernels(k, _u(g, [math.pi / 3, math.pi], 1)).expand(
                x.shape[0], k, k))
        return x


def seeded(name: str, salt: int = 0) -> torch.Generator:
    """A CPU generator seeded by a name (e.g. a validation image's): the same LR in every run."""
    import zlib

    return torch.Generator().manual_seed(zlib.crc32(name.encode()) + 7919 * salt)
