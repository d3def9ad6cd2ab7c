"""What ``python infer.py`` (``srnet-infer``) does.

:func:`infer` runs a composed ``configs/infer.yaml``: it lists the inputs, loads the checkpoint,
  and upscales (``mode=upscale``) or scores (``mode=evaluate``) each image. It never writes onto an
  input file, nor onto an existing output unless ``overwrite=true``; an unreadable file is skipped
  with a warning; a summary is printed. Exit code: 0 all done, 1 some files failed, 2 a usage
  error (bad input, checkpoint or setting).
"""

from __future__ import annotations

import glob
import logging
import sys
import time
from pathlib import Path

import numpy as np
from omegaconf import DictConfig, ListConfig, OmegaConf
from tqdm.auto import tqdm

from srnet.io.images import ALPHA_SUFFIXES, DEEP_SUFFIXES, IMAGE_SUFFIXES, is_image_file

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
MODES = ("upscale", "evaluate")
log = logging.getLogger("srnet.infer")


class UsageError(ValueError):
    """A setting that cannot work (no inputs, no output folder, unknown mode, ...)."""


def list_inputs(spec) -> list[Path]:
    """``input=``: a file, a folder (its image files), a glob, or a list of those -> paths."""
    items = list(spec) if isinstance(spec, (list, tuple, ListConfig)) else [spec]
    found: list[Path] = []
    for item in map(str, items):
        path = Path(item).expanduser()
        if path.is_dir():
            found += sorted(p for p in path.iterdir() if is_image_file(p))
        elif path.exists():
            found.append(path)
        elif glob.has_magic(item):
            found += sorted(Path(p) for p in glob.glob(str(path)) if is_image_file(p))
        else:
            raise UsageError(f"input={item}: no such file or folder")
    unique = list({p.resolve(): p for p in found}.values())
    if not unique:
        raise UsageError(f"input={spec}: no image files found (suffixes {', '.join(IMAGE_SUFFIXES)})")
    return unique


def output_ext(src: Path, pic, ext: str | None) -> str:
    """The output suffix: ``ext`` or the input's, switched to PNG when alpha / 16 bit needs it."""
    ext = (ext or src.suffix).lower()
    ext = ext if ext.startswith(".") else f".{ext}"
    if ext not in IMAGE_SUFFIXES or (pic.alpha is not None and ext not in ALPHA_SUFFIXES) or (
            pic.max_value > 255 and ext not in DEEP_SUFFIXES):
        return ".png"
    return ext


class InferJob:
    """One ``infer.py`` run: the loaded model, the inputs, and what was written or failed."""

    def __init__(self, cfg: DictConfig) -> None:
        from srnet.infer.upscaler import load_model
        from srnet.io.checkpoints import check_compatible, describe

        if OmegaConf.is_missing(cfg, "input"):
            raise UsageError("input=<file|folder|glob> is required, e.g. python infer.py "
                             "input=photo.jpg output=upscaled/ ckpt_path=run.ckpt")
        if cfg.mode not in MODES:
            raise UsageError(f"mode={cfg.mode!r}: choose one of {MODES}")
        self.cfg, self.inputs = cfg, list_inputs(cfg.input)
        self.out_file = self.out_dir = None
        if cfg.output is not None:
            out = Path(str(cfg.output)).expanduser()
            as_file = out.suffix.lower() in IMAGE_SUFFIXES and not out.is_dir()
            if as_file and len(self.inputs) > 1:
                raise UsageError(f"output={out} is a file name but there are {len(self.inputs)} "
                                 f"inputs; give a folder")
            self.out_file, self.out_dir = (out, out.parent) if as_file else (None, out)
        elif cfg.mode == "upscale":
            raise UsageError("output=<folder> is required (where the upscaled images go)")
        self.source = cfg.ckpt_path or f"x{cfg.scale or 2}"  # bundled weights without ckpt_path
        self.model = load_model(str(self.source), cfg.device, cfg.precision, cfg.tile, cfg.progress)
        if cfg.scale is not None:
            check_compatible(self.model.net.cfg.to_dict(), {"scale": int(cfg.scale)}, self.source)
        self.describe = describe(self.model.net.cfg.to_dict())
        self.protected = {p.resolve() for p in self.inputs}  # never written
        self.planned: set[Path] = set()
        self.failures: list[tuple[Path, str]] = []
        self.rows: list[tuple[str, dict]] = []

    def target(self, path: Path) -> Path:
        """Check that ``path`` may be written; refusals raise with the reason."""
        if path.resolve() in self.protected:
            raise FileExistsError(f"refusing to write {path}: it is an input file (choose another "
                                  f"output folder, suffix= or ext=)")
        if path.resolve() in self.planned:
            raise FileExistsError(f"{path} is also the output of another input; set suffix= or ext=")
        if path.exists() and not self.cfg.overwrite:
            raise FileExistsError(f"{path} exists; pass overwrite=true to replace it")
        self.planned.add(path.resolve())
        return path

    def upscale_one(self, src: Path) -> None:
        from srnet.io.images import Picture, read_picture, write_picture

        t0, pic, s = time.perf_counter(), read_picture(src), self.model.scale
        ext = output_ext(src, pic, self.cfg.ext)
        dst = self.target(self.out_file or self.out_dir / f"{src.stem}{self.cfg.suffix}{ext}")
        cmp = self.target(dst.with_name(f"{dst.stem}_compare.png")) if self.cfg.compare else None
        out = self.model.upscale_picture(pic)
        write_picture(out, dst, self.cfg.overwrite)
        if cmp is not None:  # nearest | bicubic | srnet, colour only
            panels = [self.model.baseline(pic, "nearest").pixels,
                      self.model.baseline(pic, "bicubic").pixels, out.pixels]
            write_picture(Picture(np.concatenate(panels, axis=1), None, pic.icc_profile), cmp,
                          self.cfg.overwrite)
        h, w = out.pixels.shape[:2]
        tqdm.write(f"{src} ({pic.describe()}) -> {dst} ({w}x{h}, x{s}) "
                   f"{time.perf_counter() - t0:.2f} s")

    def evaluate_one(self, src: Path) -> None:
        from srnet.infer.evaluate import score_pair
        from srnet.infer.upscaler import to_net_space
        from srnet.io.images import read_picture
        from srnet.ops.degradation import degrade, mod_crop
        from srnet.ops.metrics import psnr, quantize, ssim

        s, mode = self.model.scale, self.model.color_mode
        hr = read_picture(src).color_tensor()  # (1, C, H, W) in [0, 1]
        hr = quantize(mod_crop(hr.expand(-1, 3, -1, -1), s))  # 8-bit RGB, the protocol's
        if min(hr.shape[-2:]) < 2 * s + 11:
            raise ValueError(f"{src}: {hr.shape[-1]}x{hr.shape[-2]} is too small to score at x{s} "
                             f"(SSIM needs 11x11 pixels after cropping {s} border pixels)")
        lr = degrade(hr, s, self.model.degradation)  # (1, 3, H/s, W/s)
        scores = score_pair(None, lr, hr, s)  # the baselines
        sr = self.model.forward_tiled(to_net_space(lr, mode))  # (1, 1 or 3, H, W)
        ref = to_net_space(hr, mode)
        scores["model"] = (float(psnr(sr, ref, s)), float(ssim(sr, ref, s)))
        self.rows.append((src.name, scores))

    def print_table(self) -> None:
        methods = ["model", "nearest", "bilinear", "bicubic"]
        print(f"\nY-PSNR (dB) / SSIM, border {self.model.scale} px, LR made by "
              f"{self.model.degradation} degradation of the inputs:")
        print("| image | " + " | ".join(methods) + " |")
        print("|---" * (1 + len(methods)) + "|")
        for name, sc in self.rows:
            print(f"| {name} | " + " | ".join(f"{sc[m][0]:.2f} / {sc[m][1]:.4f}" for m in methods) + " |")
        if self.rows:
            mean = {m: [sum(sc[m][i] for _, sc in self.rows) / len(self.rows) for i in (0, 1)]
                    for m in methods}
            print(f"| mean of {len(self.rows)} | "
                  + " | ".join(f"{mean[m][0]:.2f} / {mean[m][1]:.4f}" for m in methods) + " |")

    def run(self) -> int:
        cfg, n = self.cfg, len(self.inputs)
        print(f"srnet: {self.describe} from {self.source} on {self.model.device} "
              f"({cfg.precision}), {n} input(s), mode={cfg.mode}")
        step = self.upscale_one if cfg.mode == "upscale" else self.evaluate_one
        bar = None if cfg.progress and n > 1 else True  # None: shown on a terminal only
        for src in tqdm(self.inputs, desc="images", unit="img", disable=bar):
            try:
                step(src)
            except Exception as e:  # one bad file must not stop the others
                msg = str(e) if isinstance(e, (OSError, ValueError)) else f"{type(e).__name__}: {e}"
                log.warning("skipped %s: %s", src, msg)
                self.failures.append((src, msg))
        if cfg.mode == "evaluate":
            self.print_table()
        done = n - len(self.failures)
        where = f" -> {self.out_file or self.out_dir}" if cfg.mode == "upscale" else ""
        print(f"\nsummary: {done} of {n} image(s) done{where}; {len(self.failures)} failed")
        for src, msg in self.failures:
            print(f"  FAILED {src}: {msg}")
        if self.model.fallbacks:
            print(f"  {self.model.fallbacks} tile(s) re-run in fp32 (non-finite {cfg.precision})")
        return EXIT_FAILED if self.failures else EXIT_OK


def infer(cfg: DictConfig) -> int:
    """Run ``infer.py`` for a composed config; returns the exit code."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    try:
        job = InferJob(cfg)
    except (ValueError, FileNotFoundError) as e:  # usage, checkpoint and device/precision errors
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    return job.run()
