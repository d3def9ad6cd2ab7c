"""What ``python infer.py`` (``srnet-infer``) does.

:func:`infer` runs a composed ``configs/infer.yaml`` with ``mode=upscale`` (``mode=evaluate``
  is :func:`srnet.analysis.evaluation.evaluate_inputs`; :func:`srnet.cli.run_infer` picks): it
  lists the inputs (images, animated images, videos: :mod:`srnet.app.inputs`), loads the
  checkpoint (:mod:`srnet.infer.models`), and upscales each file (:mod:`srnet.app.stills`,
  :mod:`srnet.app.video`). It never writes onto an input file, nor onto an existing output
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

from srnet.app.inputs import MEDIA_SUFFIXES, UsageError, is_video_file, kind, list_inputs
from srnet.app.outputs import Outputs

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
MODES = ("upscale", "evaluate")
log = logging.getLogger("srnet.infer")


class InferJob:
    """One ``infer.py`` run: the loaded model, the inputs, and what was written or failed."""

    def __init__(self, cfg: DictConfig) -> None:
        from srnet.app.video import VideoSettings
        from srnet.infer.models import ModelBank
        from srnet.infer.resize import OutputSize
        from srnet.io.checkpoints import describe

        if OmegaConf.is_missing(cfg, "input"):
            raise UsageError("input=<file|folder|glob> is required, e.g. python infer.py "
                             "input=photo.jpg output=upscaled/ ckpt_path=run.ckpt")
        if cfg.mode != "upscale":
            raise UsageError(f"mode={cfg.mode!r}: choose one of {MODES} (evaluate runs through "
                             f"infer.py / srnet-infer: srnet.cli.run_infer)")
        self.cfg, self.inputs = cfg, list_inputs(cfg.input)
        self.size = OutputSize.from_settings(cfg.get("outscale"), cfg.get("width"),
                                             cfg.get("height"))
        self.video = VideoSettings.from_cfg(cfg.get("video"))
        if any(is_video_file(p) for p in self.inputs):
            from srnet.app.videoio import import_av

            try:
                av = import_av(next(p for p in self.inputs if is_video_file(p)))
            except ImportError as e:
                raise UsageError(str(e)) from None
            try:
                av.codec.Codec(self.video.codec, "w")
            except Exception:
                raise UsageError(f"video.codec={self.video.codec}: FFmpeg has no such encoder "
                                 f"here (e.g. libx264, libx265, libvpx-vp9, ffv1)") from None
        out_file = out_dir = None
        if cfg.output is not None:
            out = Path(str(cfg.output)).expanduser()
            as_file = out.suffix.lower() in MEDIA_SUFFIXES and not out.is_dir()
            if as_file and len(self.inputs) > 1:
                raise UsageError(f"output={out} is a file name but there are {len(self.inputs)} "
                                 f"inputs; give a folder")
            out_file, out_dir = (out, out.parent) if as_file else (None, out)
        else:
            raise UsageError("output=<folder> is required (where the upscaled images go)")
        self.outputs = Outputs(out_file, out_dir, cfg.suffix, cfg.ext, bool(cfg.overwrite),
                               bool(cfg.get("metadata", True)),
                               {p.resolve() for p in self.inputs})  # inputs: never written
        self.bank = ModelBank.from_settings(cfg.ckpt_path, cfg.scale, self.size, cfg.device,
                                            cfg.precision, cfg.tile, cfg.progress,
                                            cfg.get("weights", "clean"), cfg.get("denoise"))
        self.model, self.source = self.bank.default, self.bank.source
        self.describe = describe(self.model.net.cfg.to_dict())
        self.failures: list[tuple[Path, str]] = []

    def upscale_one(self, src: Path) -> None:
        from srnet.app.stills import upscale_animation, upscale_image

        what, o, cfg = kind(src), self.outputs, self.cfg
        if what == "video":
            from srnet.app.video import VideoJob

            line = VideoJob(src, o, self.bank, self.size, self.video, cfg.progress).run()
        elif what == "animation":
            line = upscale_animation(src, o, self.bank, self.size, self.video.batch, cfg.progress)
        else:
            line = upscale_image(src, o, self.bank, self.size, bool(cfg.compare))
        tqdm.write(line)

    def run(self) -> int:
        cfg, n = self.cfg, len(self.inputs)
        print(f"srnet: {self.describe} from {self.source} on {self.model.device} "
              f"({cfg.precision}), {n} input(s), mode={cfg.mode}")
        step = self.upscale_one
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
        done = n - len(self.failures)
        where = f" -> {self.outputs.out_file or self.outputs.out_dir}"
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
