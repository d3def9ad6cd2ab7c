"""What ``python infer.py`` (``srnet-infer``) does.

:func:`infer` runs a composed ``configs/infer.yaml``: it lists the inputs (images, animated
  images, videos: :mod:`srnet.infer.inputs`), loads the checkpoint (:mod:`srnet.infer.models`),
  and upscales (``mode=upscale``: :mod:`srnet.infer.stills`, :mod:`srnet.infer.video`) or scores
  (``mode=evaluate``) each file. It never writes onto an input file, nor onto an existing output
  unless ``overwrite=true``; every output is written under a temporary name and renamed when
  complete; an unreadable file is skipped with a warning; a summary is printed. Exit code: 0 all
  done, 1 some files failed, 2 a usage error (bad input, checkpoint or setting), 130 interrupted.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from omegaconf import DictConfig, OmegaConf
from tqdm.auto import tqdm

from srnet.infer.inputs import (  # noqa: F401  (list_inputs, output_ext: part of this API)
    MEDIA_SUFFIXES,
    UsageError,
    is_video_file,
    kind,
    list_inputs,
    output_ext,
)

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
MODES = ("upscale", "evaluate")
log = logging.getLogger("srnet.infer")


class InferJob:
    """One ``infer.py`` run: the loaded model, the inputs, and what was written or failed."""

    def __init__(self, cfg: DictConfig) -> None:
        from srnet.infer.models import ModelBank
        from srnet.infer.resize import OutputSize
        from srnet.infer.video import VideoSettings
        from srnet.io.checkpoints import describe

        if OmegaConf.is_missing(cfg, "input"):
            raise UsageError("input=<file|folder|glob> is required, e.g. python infer.py "
                             "input=photo.jpg output=upscaled/ ckpt_path=run.ckpt")
        if cfg.mode not in MODES:
            raise UsageError(f"mode={cfg.mode!r}: choose one of {MODES}")
        self.cfg, self.inputs = cfg, list_inputs(cfg.input)
        self.size = OutputSize.from_settings(cfg.get("outscale"), cfg.get("width"),
                                             cfg.get("height"))
        self.video = VideoSettings.from_cfg(cfg.get("video"))
        if any(is_video_file(p) for p in self.inputs) and cfg.mode == "upscale":
            from srnet.infer.videoio import import_av

            try:
                av = import_av(next(p for p in self.inputs if is_video_file(p)))
            except ImportError as e:
                raise UsageError(str(e)) from None
            try:
                av.codec.Codec(self.video.codec, "w")
            except Exception:
                raise UsageError(f"video.codec={self.video.codec}: FFmpeg has no such encoder "
                                 f"here (e.g. libx264, libx265, libvpx-vp9, ffv1)") from None
        self.out_file = self.out_dir = None
        if cfg.output is not None:
            out = Path(str(cfg.output)).expanduser()
            as_file = out.suffix.lower() in MEDIA_SUFFIXES and not out.is_dir()
            if as_file and len(self.inputs) > 1:
                raise UsageError(f"output={out} is a file name but there are {len(self.inputs)} "
                                 f"inputs; give a folder")
            self.out_file, self.out_dir = (out, out.parent) if as_file else (None, out)
        elif cfg.mode == "upscale":
            raise UsageError("output=<folder> is required (where the upscaled images go)")
        self.bank = ModelBank(cfg, self.size)
        self.model, self.source = self.bank.default, self.bank.source
        self.describe = describe(self.model.net.cfg.to_dict())
        self.protected = {p.resolve() for p in self.inputs}  # never written
        self.planned: set[Path] = set()
        self.failures: list[tuple[Path, str]] = []
        self.rows: list[tuple[str, dict]] = []

    def dst(self, src: Path, ext: str) -> Path:
        """The output path for ``src`` with suffix ``ext`` (or the single output file)."""
        return self.out_file or self.out_dir / f"{src.stem}{self.cfg.suffix}{ext}"

    def text(self, model, source: str, in_wh: tuple[int, int], out_wh: tuple[int, int]
             ) -> dict[str, str] | None:
        """Provenance to embed, or None with ``metadata=false``."""
        from srnet.infer.provenance import provenance

        return provenance(model, source, in_wh, out_wh) if self.cfg.get("metadata", True) else None

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
        from srnet.infer.stills import upscale_animation, upscale_image

        what = kind(src)
        if what == "video":
            from srnet.infer.video import VideoJob

            line = VideoJob(self, src).run()
        else:
            line = (upscale_animation if what == "animation" else upscale_image)(self, src)
        tqdm.write(line)

    def evaluate_one(self, src: Path) -> None:
        from srnet.io.images import read_picture
        from srnet.ops.color import to_net_space
        from srnet.ops.degrader import Degrader, seeded
        from srnet.ops.metrics import quantize
        from srnet.ops.resize import mod_crop
        from srnet.ops.scoring import score

        if is_video_file(src):
            raise ValueError(f"{src}: mode=evaluate scores still images; use mode=upscale")
        s, mode = self.model.scale, self.model.color_mode
        hr = read_picture(src).color_tensor()  # (1, C, H, W) in [0, 1]
        hr = quantize(mod_crop(hr.expand(-1, 3, -1, -1), s))  # 8-bit RGB, the protocol's
        if min(hr.shape[-2:]) < 2 * s + 11:
            raise ValueError(f"{src}: {hr.shape[-1]}x{hr.shape[-2]} is too small to score at x{s} "
                             f"(SSIM needs 11x11 pixels after cropping {s} border pixels)")
        lr = Degrader(self.model.degradation)(hr, s, seeded(src.name))  # (1, 3, H/s, W/s)
        sr = self.model.forward_tiled(to_net_space(lr, mode))  # (1, 1 or 3, H, W)
        scores = {m: (float(v["psnr"]), float(v["ssim"])) for m, v in score(sr, lr, hr, s).items()}
        self.rows.append((src.name, scores))

    def print_table(self) -> None:
        from srnet.io.tables import markdown_table

        methods = ["model", "nearest", "bilinear", "bicubic"]
        print(f"\nY-PSNR (dB) / SSIM, border {self.model.scale} px, LR made by "
              f"{self.model.degradation['name']} degradation of the inputs:")
        rows = [[name, *(f"{sc[m][0]:.2f} / {sc[m][1]:.4f}" for m in methods)]
                for name, sc in self.rows]
        if self.rows:
            mean = {m: [sum(sc[m][i] for _, sc in self.rows) / len(self.rows) for i in (0, 1)]
                    for m in methods}
            rows.append([f"mean of {len(self.rows)}",
                         *(f"{mean[m][0]:.2f} / {mean[m][1]:.4f}" for m in methods)])
        print(markdown_table(["image", *methods], rows))

    def run(self) -> int:
        cfg, n = self.cfg, len(self.inputs)
        print(f"srnet: {self.describe} from {self.source} on {self.model.device} "
              f"({cfg.precision}), {n} input(s), mode={cfg.mode}")
        step = self.upscale_one if cfg.mode == "upscale" else self.evaluate_one
        bar = None if cfg.progress and n > 1 else True  # None: shown on a terminal only
        for src in tqdm(self.inputs, desc="files", unit="file", disable=bar):
            try:
                step(src)
            except KeyboardInterrupt:
                print(f"\ninterrupted: {src} was not written (nothing is left under its output "
                      f"name); {len(self.inputs) - self.inputs.index(src) - 1} file(s) not started",
                      file=sys.stderr)
                return EXIT_INTERRUPTED
            except Exception as e:  # one bad file must not stop the others
                msg = str(e) if isinstance(e, (OSError, ValueError)) else f"{type(e).__name__}: {e}"
                log.warning("skipped %s: %s", src, msg)
                self.failures.append((src, msg))
        if cfg.mode == "evaluate":
            self.print_table()
        done = n - len(self.failures)
        where = f" -> {self.out_file or self.out_dir}" if cfg.mode == "upscale" else ""
        noun = "file(s)" if any(map(is_video_file, self.inputs)) else "image(s)"
        print(f"\nsummary: {done} of {n} {noun} done{where}; {len(self.failures)} failed")
        for src, msg in self.failures:
            print(f"  FAILED {src}: {msg}")
        if self.bank.fallbacks:
            print(f"  {self.bank.fallbacks} tile(s) re-run in fp32 (non-finite {cfg.precision})")
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
