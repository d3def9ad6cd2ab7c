"""Where ``infer.py`` writes: output names, the checks before a write, encoding settings, and
the provenance written into outputs.

An output is never an input file, never the output of two inputs, and never an existing file
unless ``overwrite=true``: the final step of every write is exclusive
(:func:`srnet.io.files.write_atomic`), so a file that appears at the target while its image is
being encoded (another run, the user's own) is kept and reported. With ``skip_existing=true`` an
input whose output exists is skipped: a file at an output name is complete by construction,
since only finished files are ever given that name. The output folder is checked before any work
(:meth:`Outputs.prepare`), and temporary files that killed runs left there are removed.

Provenance (``metadata=true``: srnet version, model, weights, scale) goes into images as PNG
text chunks (``Software``, ``Description``), TIFF ``Software`` / ``ImageDescription`` tags, or a
JPEG / GIF comment (:func:`srnet.io.images.text_options`); into videos as the container's
``comment`` tag (after any comment the input had).
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from srnet.app.inputs import MEDIA_SUFFIXES, UsageError
from srnet.infer.upscaler import Upscaler
from srnet.io.checkpoints import BUNDLED, describe
from srnet.io.files import TargetExists, remove_stale, temp_path
from srnet.io.pngwrite import FILTERS

log = logging.getLogger("srnet.infer")
EXTENSION = re.compile(r"\.[A-Za-z][A-Za-z0-9]{0,4}$")  # looks like a file type, e.g. .txt


class Skipped(Exception):
    """The output of an input exists and ``skip_existing=true``: nothing to do."""


def output_paths(output: str, inputs: list[Path]) -> tuple[Path | None, Path]:
    """``output=`` -> (the single output file or None, the output folder); a usage error for a
    name that can be neither (an existing non-media file, a suffix that is no media type)."""
    out = Path(str(output)).expanduser()
    if out.is_dir():
        return None, out
    if out.suffix.lower() in MEDIA_SUFFIXES:
        if len(inputs) > 1:
            raise UsageError(f"output={out} is a file name but there are {len(inputs)} inputs; "
                             f"give a folder")
        return out, out.parent
    if out.exists() or EXTENSION.search(out.name):
        what = "is an existing file, not a folder" if out.exists() else (
            f"ends in {out.suffix}, which is no image or video type")
        raise UsageError(f"output={out} {what}: give a folder (created if needed; a folder name "
                         f"with a dot: create it first), or for one input a file name ending in "
                         f"an image or video suffix ({', '.join(MEDIA_SUFFIXES[:6])}, ...)")
    return None, out


@dataclass
class Outputs:
    """Output naming and write checks of one run.

    Attributes:
        out_file: the single output file (one input, ``output=<name.ext>``), else None.
        out_dir: the output folder.
        suffix: appended to output stems (``suffix=``).
        ext: the output format (``ext=``) or None for the input's.
        overwrite: replace existing outputs.
        metadata: embed provenance (``metadata=``).
        protected: resolved input paths, never written.
        skip_existing: skip inputs whose output exists (``skip_existing=``).
        encode: encoder settings for :func:`srnet.io.images.write_picture` (``png_level``,
            ``jpeg_quality``, ``webp_quality``).
    """

    out_file: Path | None
    out_dir: Path | None
    suffix: str = ""
    ext: str | None = None
    overwrite: bool = False
    metadata: bool = True
    protected: set[Path] = field(default_factory=set)
    planned: set[Path] = field(default_factory=set)
    skip_existing: bool = False
    encode: dict = field(default_factory=dict)

    def dst(self, src: Path, ext: str) -> Path:
        """The output path for ``src`` with suffix ``ext`` (or the single output file)."""
        return self.out_file or self.out_dir / f"{src.stem}{self.suffix}{ext}"

    def prepare(self, inputs: list[Path]) -> None:
        """Before any work: refuse outputs that would land on inputs, make the output folder and
        check that files can be created there (usage errors), remove dead runs' temporary files."""
        for src in inputs:
            ext = self.ext or src.suffix  # the usual case; output_ext may still switch it
            dst = self.dst(src, ext if ext.startswith(".") else f".{ext}")
            if dst.resolve() in self.protected:
                raise UsageError(f"output={self.out_file or self.out_dir} would replace the input "
                                 f"{src}: choose another output folder, or a suffix= or ext= "
                                 f"that gives new names (inputs are never written)")
        folder = self.out_dir
        try:
            folder.mkdir(parents=True, exist_ok=True)
            probe = temp_path(folder / "write-check")
            os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            probe.unlink()
        except OSError as e:
            raise UsageError(f"output={folder}: files cannot be created there "
                             f"({e.strerror or e})") from None
        removed = remove_stale(folder, every=True)
        if removed:
            log.info("removed %d temporary file(s) that stopped runs left in %s", len(removed),
                     folder)

    def target(self, path: Path) -> Path:
        """Check that ``path`` may be written; refusals raise with the reason (:class:`Skipped`
        when it exists and ``skip_existing``)."""
        if path.resolve() in self.protected:
            raise FileExistsError(f"refusing to write {path}: it is an input file (choose another "
                                  f"output folder, suffix= or ext=)")
        if path.resolve() in self.planned:
            raise FileExistsError(f"{path} is also the output of another input; set suffix= or ext=")
        if path.exists() and not self.overwrite:
            if self.skip_existing:
                raise Skipped(f"{path} exists")
            raise TargetExists(f"{path} exists; pass overwrite=true to replace it, or "
                               f"skip_existing=true to keep it and skip its input")
        self.planned.add(path.resolve())
        return path

    def text(self, model: Upscaler, source: str, in_wh: tuple[int, int],
             out_wh: tuple[int, int]) -> dict[str, str] | None:
        """Provenance to embed, or None with ``metadata=false``."""
        return provenance(model, source, in_wh, out_wh) if self.metadata else None


def encoder_settings(cfg) -> dict:
    """``png_level`` (0-9), ``png_filter`` (sub / adaptive), ``jpeg_quality`` (1-100),
    ``webp_quality`` (1-100 or null: lossless) from the settings, checked: a bad value is a usage
    error naming the key."""
    settings = {"png_level": cfg.get("png_level", 1), "png_filter": cfg.get("png_filter", "sub"),
                "jpeg_quality": cfg.get("jpeg_quality", 95), "webp_quality": cfg.get("webp_quality")}
    if settings["png_filter"] not in FILTERS:
        raise UsageError(f"png_filter={settings['png_filter']}: expected one of {', '.join(FILTERS)}")
    for key, lo, hi in (("png_level", 0, 9), ("jpeg_quality", 1, 100), ("webp_quality", 1, 100)):
        v = settings[key]
        if v is None and key == "webp_quality":
            continue
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise UsageError(f"{key}={v}: expected a whole number from {lo} to {hi}"
                             + (" (or null: lossless)" if key == "webp_quality" else ""))
    return settings


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
