"""srnet: trainable image super-resolution (FSRCNN) in PyTorch Lightning + Hydra.

``import srnet`` is cheap (torch is imported on first use)::

    from srnet import load_model
    model = load_model("run.ckpt")        # or "x2" / "x3" / "x4" for the bundled weights
    big = model.upscale(image)            # PIL image or uint8 numpy (H, W, C)

Train with ``python train.py`` (or ``srnet-train``), upscale with ``python infer.py`` (or
``srnet-infer``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

__version__ = "0.1.0"
__all__ = ["CONFIG_DIR", "load_model", "load_net", "save_weights", "__version__"]

# The Hydra configs: inside the package in a wheel (srnet/configs), else the checkout's configs/.
_HERE = Path(__file__).resolve().parent
CONFIG_DIR = _HERE / "configs" if (_HERE / "configs").is_dir() else _HERE.parent / "configs"

if TYPE_CHECKING:
    from srnet.infer.models import load_model
    from srnet.io.checkpoints import load_net, save_weights


def __getattr__(name: str):
    """Import the API lazily, so ``import srnet`` does not import torch."""
    if name == "load_model":
        from srnet.infer.models import load_model

        return load_model
    if name in ("load_net", "save_weights"):
        from srnet.io import checkpoints

        return getattr(checkpoints, name)
    raise AttributeError(f"module 'srnet' has no attribute {name!r}")
