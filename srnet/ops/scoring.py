"""Scoring: a super-resolved batch and the fixed-rule baselines, by the protocol of ``metrics``.

The one place where "how good is this output, next to nearest / bilinear / bicubic" is computed:
training's validation (``srnet.train.module``), evaluation (``srnet.analysis.evaluation``,
``scripts/evaluate.py``), ``infer.py mode=evaluate`` and the upsampler study all call
:func:`score`, so their numbers agree to the last digit.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor

from srnet.ops.metrics import psnr, ssim
from srnet.ops.resize import BASELINES, upscale


def score(sr: Tensor | None, lr: Tensor, hr: Tensor, scale: int,
          methods: Sequence[str] = BASELINES) -> dict[str, dict[str, Tensor]]:
    """``{"model" and each method: {"psnr": (N,), "ssim": (N,)}}``, float64 per image.

    Args:
        sr: (N, 1 or 3, s*h, s*w) a model's output in [0, 1], luma or RGB (row ``model``), or
            None to score the baselines alone.
        lr: (N, 3, h, w) the RGB input the baselines upscale.
        hr: (N, 3, s*h, s*w) RGB ground truth.
        scale: SR factor (and the border cropped).
        methods: baselines from ``srnet.ops.resize.BASELINES``.
    """
    outs = {m: upscale(lr, scale, m) for m in methods}  # (N, 3, s*h, s*w) each
    if sr is not None:
        outs = {"model": sr.float(), **outs}
    return {name: {"psnr": psnr(out, hr, scale), "ssim": ssim(out, hr, scale)}
            for name, out in outs.items()}
