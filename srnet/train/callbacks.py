"""Lightning callbacks: :class:`TensorBoardInspector` shows in TensorBoard what the network learned.

It adds to what :class:`srnet.train.module.SRSystem` logs (``val/*`` scalars, baselines, gain over
bicubic) and to the learning rate from ``LearningRateMonitor``; it never repeats them. On rank zero,
every ``every_n_epochs`` validations (and on a stand-alone ``trainer.validate``):

* ``images/<set>/<name>/<i>_<method>``  fixed crops (192 HR px) of the first validation set,
                              one image per method (HR, srnet, bicubic, bilinear, LR) with its
                              most detailed box zoomed, and ``|srnet - HR|``, ``|bicubic - HR|``
                              (luma, x ``error_gain``): ``srnet.analysis.samples.crop_panels``
* ``kernels/by_phase``        the tail's learned kernels split by the output phase they write
  ``kernels/all``             (deconv: polyphase components; pixelshuffle: channel groups;
                              ``srnet.analysis.kernels``)
* ``weights/<param>``         histograms of every parameter
* ``checkerboard/{score,flat,smooth}`` (8-bit levels, see ``srnet.analysis.checkerboard``),
  ``checkerboard/pattern`` and ``checkerboard/overlap_map`` (figures)
* on up to ``error_images`` whole images of the first validation set (``srnet.analysis.error_views``):
  ``error_phase/<i>_<j>``          mean(SR - HR) of output phase (i, j), 8-bit levels (luma)
  ``checkerboard/real``            the period-s pattern of the SR images themselves (levels)
  ``checkerboard/peak_ratio``      error power at the frequencies (i/s, j/s) over their surroundings
  ``checkerboard/error_phase_means`` and ``checkerboard/error_spectrum`` (figures): watch a
                                   checkerboard appear or fade during training
* ``hp_metric``               best ``val/psnr`` so far, with the hparams (HPARAMS tab)
* ``config``                  the full resolved Hydra config (TEXT tab), at the start of fit

plus ``train/patches_per_sec`` (training throughput) after every training epoch.
Configured in ``configs/callbacks/default.yaml`` (``inspector``).
"""

from __future__ import annotations

import time

import lightning as L
import torch
from lightning.pytorch.loggers import TensorBoardLogger
from lightning.pytorch.utilities import rank_zero_only
from omegaconf import DictConfig, OmegaConf
from PIL import Image
from torch import Tensor

from srnet.analysis import checkerboard as ckb
from srnet.analysis import error_views as ev
from srnet.analysis.figures import pil_to_tensor
from srnet.analysis.kernels import kernel_figures
from srnet.analysis.samples import (
    MIN_SIDE,
    auto_crop_size,
    centre_crop,
    crop_panels,
    detail_box,
    first_val_items,
)
from srnet.nets.tails import DeconvTail


def resolved_yaml(cfg: DictConfig) -> str:
    """The config as YAML with interpolations resolved (the ``hydra`` node left out)."""
    keep = [k for k in cfg if k != "hydra"]
    try:
        return OmegaConf.to_yaml(OmegaConf.masked_copy(cfg, keep), resolve=True)
    except Exception as err:  # an unresolvable interpolation: show the config as written
        return f"# could not resolve ({err})\n" + OmegaConf.to_yaml(cfg)


class TensorBoardInspector(L.Callback):
    """Images, kernels, histograms, checkerboard, hparams and config in TensorBoard.

    Args:
        every_n_epochs: inspect after every n-th validation epoch (the last one always).
        num_crops: crops (one per image) from the first validation set.
        crop_size: LR side of each crop (clipped to the image); None: ``min_side`` HR pixels.
        zoom: nearest enlargement of the image tiles, at least (small crops are enlarged to
            ``min_side`` pixels anyway).
        min_side: pixels a side of every tile of the sample images, at least.
        detail_zoom: the zoomed box is 1/``detail_zoom`` of the crop's side.
        font_size: labels of the sample images, in pixels.
        error_gain: error maps show ``error_gain * |SR - HR|`` on luma.
        histograms: log weight histograms.
        error_images: whole images of the first validation set for the error views (0: off).
        config: the run's Hydra config (``srnet.train.run.train`` sets it via :meth:`set_config`).
    """

    def __init__(self, every_n_epochs: int = 1, num_crops: int = 4, crop_size: int | None = None,
                 zoom: int = 1, error_gain: float = 8.0, histograms: bool = True,
                 error_images: int = 8, config: DictConfig | dict | None = None,
                 min_side: int = MIN_SIDE, detail_zoom: int = 4, font_size: int = 16) -> None:
        if every_n_epochs < 1:
            raise ValueError("callbacks.inspector.every_n_epochs must be >= 1, "
                             f"got {every_n_epochs}")
        self.every_n_epochs, self.num_crops, self.crop_size = every_n_epochs, num_crops, crop_size
        self.zoom, self.error_gain, self.histograms = zoom, error_gain, histograms
        self.error_images = error_images
        self.min_side, self.detail_zoom, self.font_size = min_side, detail_zoom, font_size
        self.config_text: str | None = None
        self._config: DictConfig | None = None
        if config is not None:
            self.set_config(config)
        self.best: float | None = None
        self._hparams_written = False
        self._last_step = -1
        self._crops: list[dict] | None = None
        self._pairs: list[tuple[Tensor, Tensor]] | None = None
        self._t0 = self._t_last = 0.0
        self._patches = 0

    def set_config(self, cfg: DictConfig | dict) -> None:
        cfg = cfg if isinstance(cfg, DictConfig) else OmegaConf.create(cfg)
        self.config_text = resolved_yaml(cfg)
        self._config = cfg

    @staticmethod
    def _writer(trainer: L.Trainer):
        for logger in trainer.loggers:
            if isinstance(logger, TensorBoardLogger):
                return logger, logger.experiment
        return None, None

    # -- throughput -----------------------------------------------------------------------
    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self._t0 = self._t_last = time.perf_counter()
        self._patches = 0

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        lr = batch["lr"] if isinstance(batch, dict) else batch[0]
        self._patches += lr.shape[0] * trainer.world_size
        self._t_last = time.perf_counter()

    @rank_zero_only
    def on_train_epoch_end(self, trainer, pl_module) -> None:
        _, writer = self._writer(trainer)
        if writer is not None and self._patches and self._t_last > self._t0:
            rate = self._patches / (self._t_last - self._t0)
            writer.add_scalar("train/patches_per_sec", rate, trainer.global_step)

    # -- config text ----------------------------------------------------------------------
    @rank_zero_only
    def on_fit_start(self, trainer, pl_module) -> None:
        _, writer = self._writer(trainer)
        if writer is not None and self.config_text:
            body = "\n".join("    " + line for line in self.config_text.splitlines())
            writer.add_text("config", body, 0)  # indented: markdown code block

    # -- after validation -----------------------------------------------------------------
    @rank_zero_only
    def on_validation_end(self, trainer, pl_module) -> None:
        if trainer.sanity_checking:
            return
        logger, writer = self._writer(trainer)
        if writer is None:
            return
        step = trainer.global_step
        psnr = trainer.callback_metrics.get("val/psnr")
        if psnr is not None:
            self.best = float(psnr) if self.best is None else max(self.best, float(psnr))
            if not self._hparams_written:
                logger.log_hyperparams(self._hparams(pl_module), {"hp_metric": self.best}, step)
                self._hparams_written = True
            else:
                writer.add_scalar("hp_metric", self.best, step)
        fitting = trainer.state.fn == "fit"
        last = trainer.current_epoch + 1 >= (trainer.max_epochs or 0) > 0
        due = (trainer.current_epoch + 1) % self.every_n_epochs == 0 or last or not fitting
        if due and step != self._last_step:
            self._last_step = step
            with torch.no_grad():
                self.inspect(trainer, pl_module, writer, step)

    def _hparams(self, pl_module) -> dict:
        params = {"net": dict(pl_module.net.cfg.to_dict()), "loss": pl_module.hparams.get("loss")}
        cfg = self._config
        if cfg is not None:
            for key in ("scale", "seed"):
                params[key] = cfg.get(key)
            for group, keys in (("data", ("patch_size", "batch_size", "patches_per_epoch")),
                                ("trainer", ("max_epochs", "max_steps", "precision"))):
                node = cfg.get(group) or {}
                params[group] = {k: node.get(k) for k in keys if k in node}
            opt = OmegaConf.select(cfg, "model.optimizer.lr", default=None)
            if opt is not None:
                params["lr"] = opt
        return params

    def inspect(self, trainer, pl_module, writer, step: int) -> None:
        """Log images, kernels, histograms and the checkerboard analysis at ``step``."""
        net = pl_module.net
        was_training = net.training
        net.eval()
        try:
            for tag, img in self._crop_rows(trainer, pl_module).items():
                writer.add_image(tag, pil_to_tensor(img), step)
            for name, fig in kernel_figures(net.tail, net.cfg.scale).items():
                writer.add_image(f"kernels/{name}", pil_to_tensor(fig), step)
            if self.histograms:
                for name, p in net.named_parameters():
                    writer.add_histogram(f"weights/{name}", p.detach().float().cpu(), step)
            cb = ckb.net_checkerboard(net)
            for k, v in cb.as_dict().items():
                writer.add_scalar(f"checkerboard/{k}", v, step)
            fig = ckb.pattern_figure(cb, "srnet")
            writer.add_image("checkerboard/pattern", pil_to_tensor(fig), step)
            if isinstance(net.tail, DeconvTail):
                fig = ckb.overlap_figure([(net.tail.kernel, net.cfg.scale)])
                writer.add_image("checkerboard/overlap_map", pil_to_tensor(fig), step)
            self._log_error_views(trainer, net, writer, step)
        finally:
            net.train(was_training)

    def _log_error_views(self, trainer, net, writer, step: int) -> None:
        """Phase means and spectrum of SR - HR on whole validation images (see the docstring)."""
        if self._pairs is None:
            items = first_val_items(trainer.datamodule, net.cfg.scale, self.error_images)
            self._pairs = [(lr, hr) for _, _, lr, hr in items]
        if not self._pairs:
            return
        s = net.cfg.scale
        views = ev.error_views(net, self._pairs, s)
        for i in range(s):
            for j in range(s):
                writer.add_scalar(f"error_phase/{i}_{j}", float(views.phase_means[i, j]), step)
        writer.add_scalar("checkerboard/real", views.real.amplitude, step)
        writer.add_scalar("checkerboard/peak_ratio", views.peak_ratio, step)
        figs = {"error_phase_means": ev.phase_means_figure(views.phase_means),
                "error_spectrum": ev.spectrum_figure(views.spectrum, s)}
        for name, fig in figs.items():
            writer.add_image(f"checkerboard/{name}", pil_to_tensor(fig), step)

    def _crop_rows(self, trainer, pl_module) -> dict[str, Image.Image]:
        """``images/<set>/<name>/<i>_<method>`` -> image (see the module docstring), for the
        fixed crops."""
        if self._crops is None:
            self._crops = self._make_crops(trainer, pl_module.net.cfg.scale,
                                           pl_module.net.receptive_field)
        s = pl_module.net.cfg.scale
        return {f"images/{c['set']}/{c['name']}/{key}": img for c in self._crops
                for key, img in crop_panels(pl_module.net, c, self.error_gain, max(
                    self.min_side, self.zoom * s * min(c["box"][2:])), self.font_size).items()}

    def _make_crops(self, trainer, scale: int, context: int) -> list[dict]:
        """Centre crops of the first validation images, LR with ``context`` pixels around them,
        and the most detailed square of each (1/``detail_zoom`` of its side)."""
        size = self.crop_size or auto_crop_size(scale, self.min_side)
        crops = [{"set": name, "name": image, **centre_crop(lr, hr, size, context, scale)}
                 for name, image, lr, hr in first_val_items(trainer.datamodule, scale,
                                                            self.num_crops)]
        for c in crops:
            c["detail"] = detail_box(c["hr"], min(c["hr"].shape[-2:]) // self.detail_zoom)
        return crops
