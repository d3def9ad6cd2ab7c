"""srnet: trainable image super-resolution (FSRCNN) in PyTorch Lightning + Hydra.

``import srnet`` is cheap (torch is imported on first use)::

    from srnet import load_model
    model = load_model("run.ckpt")        # or "x2" / "x3" / "x4" for the bundled weights
    big = model.upscale(image)            # PIL image or uint8 numpy (H, W, C)

Train with ``python train.py`` (or ``srnet-train``), upscale with ``python infer.py`` (or
``srnet-infer``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"
__all__ = ["load_model", "load_net", "save_weights", "__version__"]

if TYPE_CHECKING:
    from srnet.checkpoint import load_net, save_weights
    from srnet.inference import load_model


def __getattr__(name: str):
    """Import the API lazily, so ``import srnet`` does not import torch."""
    if name == "load_model":
        from srnet.inference import load_model

        return load_model
    if name in ("load_net", "save_weights"):
        from srnet import checkpoint

        return getattr(checkpoint, name)
    raise AttributeError(f"module 'srnet' has no attribute {name!r}")
