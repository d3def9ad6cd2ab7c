"""Provenance written into outputs (``metadata=true``): srnet version, model, weights, scale.

Images get it as PNG text chunks (``Software``, ``Description``), TIFF ``Software`` /
``ImageDescription`` tags, or a JPEG / GIF comment (:func:`srnet.io.images.text_options`);
videos as the container's ``comment`` tag (after any comment the input had).
"""

from __future__ import annotations

from pathlib import Path

from srnet.infer.upscaler import Upscaler
from srnet.io.checkpoints import BUNDLED, describe


def provenance(model: Upscaler, source: str, in_wh: tuple[int, int], out_wh: tuple[int, int]
               ) -> dict[str, str]:
    """``{"Software": "srnet 0.1.0", "Description": "upscaled by srnet 0.1.0 from 64x48 to ..."}``."""
    from srnet import __version__

    weights = f"bundled {source}" if source in BUNDLED else Path(source).name
    text = (f"upscaled by srnet {__version__} from {in_wh[0]}x{in_wh[1]} to {out_wh[0]}x"
            f"{out_wh[1]}: {describe(model.net.cfg.to_dict())}, weights {weights}, x{model.scale}")
    if out_wh != (in_wh[0] * model.scale, in_wh[1] * model.scale):
        text += f", then an antialiased bicubic resize to {out_wh[0]}x{out_wh[1]}"
    return {"Software": f"srnet {__version__}", "Description": text}
