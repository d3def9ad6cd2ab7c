"""What ``python infer.py`` (``srnet-infer``) does.

:func:`infer` runs a composed ``configs/infer.yaml`` with ``mode=upscale`` (``mode=evaluate``
  is :func:`srnet.analysis.evaluation.evaluate_inputs`; :func:`srnet.cli.run_infer` picks): it
  checks the settings, lists the inputs (images, animated images, videos:
  :mod:`srnet.app.inputs`), checks the output folder and loads the checkpoint
  (:mod:`srnet.infer.models`), all before any work, then upscales each file
  (:mod:`srnet.app.stills`, :mod:`srnet.app.video`). It never writes onto an input file, nor onto
  an existing output unless ``overwrite=true`` (``skip_existing=true`` skips those inputs: a
  folder run continues where a stopped one ended); every output is written under a temporary
  name and given its name when complete (:mod:`srnet.app.outputs`); a file that cannot be read
  or listed is reported and the others go on; a summary is printed. Exit code: 0 all done (or
  skipped), 1 some files failed, 2 a usage error (bad setting, input, output or checkpoint),
  130 interrupted (Ctrl-C), 143 terminated (SIGTERM).
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

from omegaconf import DictConfig, OmegaConf
from tqdm.auto import tqdm

from srnet.app.inputs import UsageError, is_video_file, kind, scan_inputs
from srnet.app.outputs import Outputs, Skipped, encoder_settings, output_paths
from srnet.app.pipeline import Pipeline
from srnet.io.files import TargetExists

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
MODES = ("upscale", "evaluate")
SWITCHES = ("overwrite", "skip_existing", "compare", "metadata", "progress")
log = logging.getLogger("srnet.infer")


class Terminated(KeyboardInterrupt):
    """SIGTERM: stop as after Ctrl-C (the file being written is removed), exit 128 + 15."""


def check_settings(cfg: DictConfig) -> None:
    """Usage errors of the plain settings, each naming the key as typed."""
    if OmegaConf.is_missing(cfg, "input"):
        raise UsageError("input=<file|folder|glob> is required (or input=@list.txt / input=- for "
                         "paths from a file / stdin), e.g. python infer.py input=photo.jpg "
                         "output=upscaled/ ckpt_path=run.ckpt")
    if cfg.mode != "upscale":
        raise UsageError(f"mode={cfg.mode!r}: choose one of {MODES} (evaluate runs through "
                         f"infer.py / srnet-infer: srnet.cli.run_infer)")
    for key in SWITCHES:
        if not isinstance(cfg.get(key, False), bool):
            raise UsageError(f"{key}={cfg.get(key)!r}: give true or false")
    if cfg.get("overwrite") and cfg.get("skip_existing"):
        raise UsageError("overwrite=true and skip_existing=true: choose one (replace existing "
                         "outputs, or keep them and skip their inputs)")
    limit = cfg.get("max_pixels")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 0):
        raise UsageError(f"max_pixels={limit!r}: give a number of pixels (0: no limit)")
    if cfg.output is None:
        raise UsageError("output=<folder> is required (where the upscaled images go)")
    for key in ("batch", "writers"):
        v = cfg.get(key, 1)
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise UsageError(f"{key}={v!r}: give a whole number of at least 1")


class InferJob:
    """One ``infer.py`` run: the loaded model, the inputs, and what was written or failed."""

    def __init__(self, cfg: DictConfig) -> None:
        from srnet.app.video import VideoSettings
        from srnet.infer.models import ModelBank
        from srnet.infer.resize import OutputSize
        from srnet.io.checkpoints import describe

        check_settings(cfg)
        self.cfg = cfg
        self.inputs, self.failures = scan_inputs(cfg.input)
        self.listed = len(self.inputs) + len(self.failures)  # problems count as failed files
        self.size = OutputSize.from_settings(cfg.get("outscale"), cfg.get("width"),
                                             cfg.get("height"))
        self.video = VideoSettings.from_cfg(cfg.get("video"))
        self.writers = int(cfg.get("writers", 2))  # threads encoding (checked in check_settings)
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
        out_file, out_dir = output_paths(cfg.output, self.inputs)
        self.outputs = Outputs(out_file, out_dir, cfg.suffix, cfg.ext, bool(cfg.overwrite),
                               bool(cfg.get("metadata", True)),
                               {p.resolve() for p in self.inputs},  # inputs: never written
                               skip_existing=bool(cfg.get("skip_existing", False)),
                               encode=encoder_settings(cfg))
        self.bank = ModelBank.from_settings(cfg.ckpt_path, cfg.scale, self.size, cfg.device,
                                            cfg.precision, cfg.tile, cfg.progress,
                                            cfg.get("weights", "clean"), cfg.get("denoise"))
        self.model, self.source = self.bank.default, self.bank.source
        self.describe = describe(self.model.net.cfg.to_dict())
        self.outputs.prepare(self.inputs)  # last: a refused setting creates no folder
        self.skipped: list[tuple[Path, str]] = []

    def upscale_one(self, src: Path) -> str:
        from srnet.app.stills import upscale_animation, upscale_image

        what, o, cfg = kind(src), self.outputs, self.cfg
        limit = cfg.get("max_pixels") or None
        if what == "video":
            from srnet.app.video import VideoJob

            line = VideoJob(src, o, self.bank, self.size, self.video, cfg.progress).run()
        elif what == "animation":
            line = upscale_animation(src, o, self.bank, self.size, self.video.batch, cfg.progress,
                                     limit)
        else:
            line = upscale_image(src, o, self.bank, self.size, bool(cfg.compare), limit,
                                 self.writers)
        return line

    def run(self) -> int:
        cfg, n = self.cfg, len(self.inputs)
        print(f"srnet: {self.describe} from {self.source} on {self.model.device} "
              f"({cfg.precision}), {n} input(s), mode={cfg.mode}")
        for src, msg in self.failures:
            log.warning("skipped %s: %s", src, msg)
        bar = tqdm(total=n, desc="files", unit="file",
                   disable=None if cfg.progress and n > 1 else True)  # None: on a terminal only
        reported = []

        def report(src: Path, error: BaseException | None, line: str | None) -> None:
            reported.append(src)
            bar.update(1)
            if error is None:
                tqdm.write(line)
            elif isinstance(error, Skipped) or (isinstance(error, TargetExists)
                                                and self.outputs.skip_existing):
                self.skipped.append((src, str(error)))
            else:  # one bad file must not stop the others
                self.fail(src, error)

        pipe = Pipeline(self.outputs, self.bank, self.size, bool(cfg.compare),
                        cfg.get("max_pixels") or None, int(cfg.get("batch", 4)),
                        self.upscale_one, report, self.writers)
        try:
            pipe.run(self.inputs)
        except KeyboardInterrupt as e:
            busy = ", ".join(map(str, pipe.current)) or "no file"
            left = n - len(reported) - len(pipe.current)
            print(f"\ninterrupted: {busy} was not written (nothing is left under its output "
                  f"name; the files done are complete); {left} file(s) not started; the same "
                  f"command with skip_existing=true continues", file=sys.stderr)
            return 128 + signal.SIGTERM if isinstance(e, Terminated) else EXIT_INTERRUPTED
        finally:
            bar.close()
        return self.summary()

    def fail(self, src: Path, e: Exception) -> None:
        msg = str(e) if isinstance(e, (OSError, ValueError)) else f"{type(e).__name__}: {e}"
        log.warning("skipped %s: %s", src, msg)
        self.failures.append((src, msg))

    def summary(self) -> int:
        n, failed, skipped = self.listed, len(self.failures), len(self.skipped)
        done = n - failed - skipped
        where = f" -> {self.outputs.out_file or self.outputs.out_dir}"
        noun = "file(s)" if any(map(is_video_file, self.inputs)) else "image(s)"
        also = f", {skipped} skipped (output exists)" if skipped else ""
        print(f"\nsummary: {done} of {n} {noun} done{also}{where}; {failed} failed")
        for src, msg in self.failures:
            print(f"  FAILED {src}: {msg}")
        if self.bank.fallbacks:
            print(f"  {self.bank.fallbacks} tile(s) re-run in fp32 (non-finite "
                  f"{self.cfg.precision})")
        return EXIT_FAILED if self.failures else EXIT_OK


@contextmanager
def process_settings(cfg: DictConfig):
    """What the application sets for its process, undone afterwards: Pillow's pixel limit is
    ``max_pixels`` (checked by srnet's readers, naming the setting), SIGTERM stops like Ctrl-C."""
    from PIL import Image

    def terminate(signum, frame) -> None:
        raise Terminated

    pixels = Image.MAX_IMAGE_PIXELS
    if cfg.get("max_pixels") is not None:  # null: Pillow's own limit and message
        Image.MAX_IMAGE_PIXELS = None
    main = threading.current_thread() is threading.main_thread()  # signals: main thread only
    old = signal.signal(signal.SIGTERM, terminate) if main else None
    try:
        yield
    finally:
        Image.MAX_IMAGE_PIXELS = pixels
        if main:
            signal.signal(signal.SIGTERM, old)


def infer(cfg: DictConfig) -> int:
    """Run ``infer.py`` for a composed config; returns the exit code."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    with process_settings(cfg):
        try:
            job = InferJob(cfg)
        except (ValueError, FileNotFoundError) as e:  # usage, checkpoint, device/precision errors
            print(f"error: {e}", file=sys.stderr)
            return EXIT_USAGE
        return job.run()
