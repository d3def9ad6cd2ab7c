"""Animated images (GIF, APNG, animated WebP): every frame, its duration and the loop count.

Pillow decodes each frame onto the full canvas (disposal and blending applied), so the frames
here are whole 8-bit pictures, RGB or RGBA (grey and palette frames are converted). Writing puts
the frames back with the same durations and loop count: GIF frames are quantised to a palette
of up to 256 colours each (what the format holds), with transparency kept where alpha is below
half; APNG and WebP are written losslessly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageSequence

from srnet.io.images import check_pixels, save_atomic, text_options
from srnet.io.pictures import Picture, picture_to_pil

ANIMATED_SUFFIXES = (".gif", ".png", ".apng", ".webp")  # formats Pillow animates
FORMATS = {".gif": "GIF", ".png": "PNG", ".apng": "PNG", ".webp": "WEBP"}


@dataclass
class Animation:
    """Frames of an animated file, upright, full canvas.

    Attributes:
        frames: 8-bit RGB or RGBA pictures, all the same size.
        durations: display time of each frame in milliseconds, as stored.
        loop: times to loop, 0 for forever, None when the file plays once.
    """

    frames: list[Picture]
    durations: list[int]
    loop: int | None = None
    info: dict = field(default_factory=dict)

    def describe(self) -> str:
        """E.g. ``'64x48 RGB, 12 frames, 1.20 s, loop forever'``."""
        h, w = self.frames[0].pixels.shape[:2]
        kind = "RGBA" if self.frames[0].alpha is not None else "RGB"
        loop = {None: "plays once", 0: "loops forever"}.get(self.loop, f"loops {self.loop}x")
        return (f"{w}x{h} {kind}, {len(self.frames)} frame(s), {sum(self.durations) / 1000:.2f} s, "
                f"{loop}")


def frame_count(path: str | Path) -> int:
    """How many frames Pillow sees in ``path`` (1 for still images); ``OSError`` naming the file."""
    try:
        with Image.open(path) as im:
            return int(getattr(im, "n_frames", 1))
    except Exception as e:  # PIL raises OSError, ValueError, SyntaxError, ...
        raise OSError(f"cannot read image {path}: {e}") from e


def read_animation(path: str | Path, max_pixels: int | None = None) -> Animation:
    """All frames of an animated (or still) GIF / APNG / WebP, with durations and loop count
    (``max_pixels``: per frame, see :func:`srnet.io.images.check_pixels`)."""
    path = Path(path)
    try:
        with Image.open(path) as im:
            check_pixels(path, im.size, max_pixels)
            loop = im.info.get("loop")
            rgba, durations = [], []
            for frame in ImageSequence.Iterator(im):
                rgba.append(np.asarray(frame.convert("RGBA")).copy())
                durations.append(int(frame.info.get("duration", 0) or 0))
    except Exception as e:
        if isinstance(e, OSError) and str(path) in str(e):
            raise  # already names the file (too large)
        raise OSError(f"cannot read image {path}: {e}") from e
    keep_alpha = any((a[..., 3] < 255).any() for a in rgba)
    frames = [Picture(a[..., :3].copy(), a[..., 3].copy() if keep_alpha else None) for a in rgba]
    return Animation(frames, durations, loop)


def write_animation(anim: Animation, path: str | Path, overwrite: bool = False,
                    text: dict[str, str] | None = None) -> Path:
    """Write atomically as GIF / APNG / WebP by ``path``'s suffix, keeping durations and loop."""
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"{path}: animations are written as {', '.join(ANIMATED_SUFFIXES)}")
    images = [picture_to_pil(p) for p in anim.frames]
    kwargs: dict = {"format": fmt, "save_all": True, "append_images": images[1:],
                    "duration": anim.durations if len(images) > 1 else anim.durations[0]}
    if anim.loop is not None:
        kwargs["loop"] = anim.loop
    if fmt == "GIF":
        kwargs["disposal"] = 2  # each frame is a whole canvas: clear before drawing the next
        images = [_gif_frame(im) for im in images]
        kwargs["append_images"] = images[1:]
    elif fmt == "WEBP":
        kwargs["lossless"] = True
    kwargs.update(text_options(".png" if fmt == "PNG" else path.suffix.lower(), text))
    return save_atomic(images[0], path, overwrite, **kwargs)


def _gif_frame(im: Image.Image) -> Image.Image:
    """An RGB(A) frame -> palette image: 255 colours (median cut), index 255 transparent."""
    if im.mode != "RGBA":
        return im.convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT)
    clear = np.asarray(im)[..., 3] < 128
    p = im.convert("RGB").quantize(255, method=Image.Quantize.MEDIANCUT)
    idx = np.asarray(p).copy()
    idx[clear] = 255
    out = Image.fromarray(idx, "P")
    palette = p.getpalette()[: 255 * 3]
    out.putpalette(palette + [0] * (768 - len(palette)))
    out.info["transparency"] = 255
    return out
