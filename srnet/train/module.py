"""The LightningModule ("system"): FSRCNN + loss + optimiser + the validation protocol.

Training sees random patches; validation sees whole images and scores, in the same pass, the model
and the nearest / bilinear / bicubic upscalings of the same LR input (protocol in
``srnet.ops.metrics``). Logged names:

* ``train/loss``
* ``val/<set>/{psnr,ssim}``, ``val/<set>/{psnr,ssim}_{nearest,bilinear,bicubic}``,
  ``val/<set>/gain_over_bicubic``
* ``val/psnr``, ``val/ssim``, ``val/psnr_<baseline>``, ``val/ssim_<baseline>``: the first
  validation set's values (``val/psnr`` is the monitored metric).
"""

from __future__ import annotations

import inspect
from collections import defaultdict

import lightning as L
import torch
import torch.nn.functional as F
from lightning.pytorch.utilities import rank_zero_info
from torch import Tensor

from srnet.io.init_from import load_matching
from srnet.nets.fsrcnn import build_net
from srnet.nets.overparam import check_branches, check_resume, overparametrize
from srnet.nets.tailfit import fit_tail
from srnet.ops.color import to_net_space
from srnet.ops.metrics import crop_border
from srnet.ops.resize import BASELINES
from srnet.ops.scoring import score
from srnet.train.throughput import (
    check_choice,
    keep_freed_memory,
    resolve_channels_last,
    resolve_compile,
)

LOSSES = {"l1": F.l1_loss, "mse": F.mse_loss}


class SRSystem(L.LightningModule):
    """Trains and validates an SR network.

    Args:
        net: architecture dict (``model.net``), see ``srnet.nets.fsrcnn.FSRCNNConfig``.
        loss: ``l1`` or ``mse``.
        optimizer: partial optimiser, called with the parameters.
        scheduler: partial LR scheduler or None; called with the optimiser, plus
            ``total_steps=<trainer.estimated_stepping_batches>`` when it accepts that argument.
            Stepped every optimiser step.
        degradation: how the training LR was made (a preset dict); recorded in checkpoints.
        init_from: a checkpoint or weights file whose matching weights start this network (the
            FSRCNN paper's trick: train x2, then reuse its body for x3 / x4 and learn a new tail).
        tail_fit_batches: at the start of a fresh fit, set the tail by ridge least squares on the
            body's features of this many training batches (``srnet.nets.tailfit``); 0: off. With
            ``init_from`` a body trained at another scale, this starts the new scale's tail.
        tail_lr_scale: the tail's learning rate as a multiple of the optimiser's (FSRCNN trains
            its deconvolution at 0.1x: its gradients are much larger than the body's).
        channels_last: NHWC weights and training inputs (``model.channels_last``: auto / true /
            false; auto: only when the forward is eager, :mod:`srnet.train.throughput`).
        compile: train through ``torch.compile(net)`` (``model.compile``: auto / true / false;
            decided at the start of each fit, :mod:`srnet.train.throughput`); checkpoints keep
            the plain network's parameter names, validation runs eagerly (whole images of
            varying sizes would recompile).
        overparam: train the body's 5x5 and 3x3 convolutions as scaled sums of smaller branches
            (and an identity where channels match), merged into one kernel every step
            (:mod:`srnet.nets.overparam`); exported weights are the plain, collapsed network.
        branches: with ``overparam``, extra branches besides the square ones and the identity:
            any of ``seq`` (1x1 then k x k) and ``edges`` (1x1 then Sobel / Laplacian masks).
        loss_border: LR pixels per side of a training patch left out of the loss (they see the
            patch's zero padding); checked against ``data.patch_size`` in config_check.
    """

    def __init__(self, net: dict, loss: str = "l1", optimizer=None, scheduler=None,
                 degradation: dict | str = "bicubic", init_from: str | None = None,
                 channels_last: bool | str = "auto", compile: bool | str = "auto",
                 tail_lr_scale: float = 1.0, tail_fit_batches: int = 0,
                 overparam: bool = False, branches: list[str] | tuple[str, ...] = (),
                 loss_border: int = 0) -> None:
        super().__init__()
        if loss not in LOSSES:
            raise ValueError(f"model.loss={loss!r}: choose one of {sorted(LOSSES)}")
        self.save_hyperparameters(ignore=["optimizer", "scheduler"])
        self.net = build_net(dict(net))
        if init_from:
            try:
                copied = load_matching(self.net, init_from)
            except FileNotFoundError:
                raise FileNotFoundError(f"model.init_from={init_from}: no such file (nor a "
                                        f"bundled name: x2, x3, x4)") from None
            except ValueError as e:  # not an srnet file, or nothing in it fits this network
                raise ValueError(f"model.init_from: {e}") from e
            print(f"init_from {init_from}: {len(copied)} tensors started (srnet.io.init_from)")
        if not isinstance(overparam, bool):
            raise ValueError(f"model.overparam={overparam!r}: choose true or false")
        branches = check_branches(overparam, branches)
        if overparam:  # after init_from: the branches start as the copied kernels
            overparametrize(self.net, branches)
        self.optimizer_factory, self.scheduler_factory = optimizer, scheduler
        self.loss_fn = LOSSES[loss]
        self.throughput = (check_choice("model.compile", compile),
                           check_choice("model.channels_last", channels_last))
        self.channels_last = channels_last is True
        if self.channels_last:
            self.net.to(memory_format=torch.channels_last)
        # Kept out of the module tree (no second copy of the weights' names in state_dict).
        self.__dict__["train_net"] = self.net
        self._val_sums: dict[str, dict[str, float]] = {}
        self.val_set_names: list[str] = []

    @property
    def scale(self) -> int:
        return self.net.cfg.scale

    @property
    def color_mode(self) -> str:
        return self.net.cfg.color_mode

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)

    def training_step(self, batch: dict, batch_idx: int) -> Tensor:
        lr = to_net_space(batch["lr"], self.color_mode)  # (N, C, p, p)
        hr = to_net_space(batch["hr"], self.color_mode)  # (N, C, s*p, s*p)
        if self.channels_last:
            lr = lr.contiguous(memory_format=torch.channels_last)
        sr = self.train_net(lr)
        b = self.hparams.loss_border * self.scale  # HR pixels per side not scored (0: none)
        loss = self.loss_fn(crop_border(sr, b).float(), crop_border(hr, b).float())  # fp32 loss
        if not torch.isfinite(loss):
            raise FloatingPointError(f"non-finite training loss ({loss.item()}) at step "
                                     f"{self.global_step} with trainer.precision={self.trainer.precision}; "
                                     "lower the learning rate or use trainer.precision=32-true")
        self.log("train/loss", loss, prog_bar=True)
        return loss

    def on_fit_start(self) -> None:
        if self.hparams.tail_fit_batches and self.trainer.ckpt_path is None:  # not on resume
            self.fit_tail(self.hparams.tail_fit_batches)
        self.set_training_forward(self.device.type, int(self.trainer.estimated_stepping_batches))

    def set_training_forward(self, device_type: str, steps: int) -> None:
        """Compile and/or NHWC for this fit, as ``model.compile`` / ``model.channels_last`` say."""
        compiled, why = resolve_compile(self.throughput[0], device_type, steps)
        if device_type == "cpu":
            keep_freed_memory()
        self.channels_last = resolve_channels_last(self.throughput[1], compiled)
        fmt = torch.channels_last if self.channels_last else torch.contiguous_format
        self.net.to(memory_format=fmt)  # in place: the optimiser keeps the same parameters
        # dynamic=False: training batches have one shape; a last, smaller one compiles once more.
        self.__dict__["train_net"] = torch.compile(self.net, dynamic=False) if compiled else self.net
        rank_zero_info(f"training forward: {'torch.compile' if compiled else 'eager'} ({why}), "
                       f"{'NHWC' if self.channels_last else 'NCHW'}")

    @torch.no_grad()
    def fit_tail(self, batches: int) -> None:
        """Closed-form tail on the current body, from ``batches`` training batches."""
        tail = getattr(self.net.tail, "deconv", None)
        if tail is None:
            raise ValueError(f"model.tail_fit_batches needs the deconv tail, not "
                             f"model.net.tail={self.net.cfg.tail}")
        dm = self.trainer.datamodule

        def pairs():
            for i, batch in enumerate(dm.train_dataloader()):
                if i == batches:
                    break
                batch = dm.on_after_batch_transfer(batch.to(self.device), 0)
                lr = to_net_space(batch["lr"], self.color_mode)  # (N, C, p, p)
                target = to_net_space(batch["hr"], self.color_mode)  # (N, C, s*p, s*p)
                if self.net.skip is not None:
                    target = target - self.net.skip(lr)
                yield self.net.body(lr), target

        n = fit_tail(tail, pairs())
        print(f"tail fitted in closed form on {n} LR pixels ({batches} batches)")

    # -- validation: per-image scores accumulated per set, averaged at the end of the epoch --
    def on_validation_epoch_start(self) -> None:
        self._val_sums = defaultdict(lambda: defaultdict(float))
        self.val_set_names = []

    def validation_step(self, batch: dict, batch_idx: int, dataloader_idx: int = 0) -> None:
        name = batch["set"]
        if name not in self.val_set_names:
            self.val_set_names.append(name)
        lr, hr = batch["lr"], batch["hr"]  # RGB (N, 3, h, w), (N, 3, s*h, s*w)
        sr = self.net(to_net_space(lr, self.color_mode))  # (N, 1 or 3, s*h, s*w)
        sums = self._val_sums[name]
        for method, values in score(sr, lr, hr, self.scale).items():
            suffix = "" if method == "model" else f"_{method}"
            for metric, per_image in values.items():
                sums[metric + suffix] += float(per_image.sum())
        sums["count"] += batch["hr"].shape[0]

    def on_validation_epoch_end(self) -> None:
        first = None
        # Every rank reduces the same sets and keys, even a rank whose shard of a set is empty.
        dm = getattr(self.trainer, "datamodule", None)
        names = list(getattr(dm, "val_names", None) or self.val_set_names)
        keys = ["count", "psnr", "ssim", *(f"{m}_{b}" for b in BASELINES for m in ("psnr", "ssim"))]
        for name in names:
            total = torch.tensor([self._val_sums[name][k] for k in keys], dtype=torch.float64,
                                 device=self.device)
            total = self.trainer.strategy.reduce(total, reduce_op="sum")  # sum over DDP ranks
            sums = dict(zip(keys, total.tolist(), strict=True))
            if sums["count"] == 0:
                continue
            means = {k: v / sums["count"] for k, v in sums.items() if k != "count"}
            means["gain_over_bicubic"] = means["psnr"] - means["psnr_bicubic"]
            for k, v in means.items():
                self.log(f"val/{name}/{k}", v, sync_dist=False, rank_zero_only=False)
            if first is None:
                first = means
                for k, v in means.items():
                    self.log(f"val/{k}", v, prog_bar=k == "psnr")

    def configure_optimizers(self):
        if self.optimizer_factory is None:
            raise ValueError("model.optimizer is not set")
        groups = list(self.parameters())  # one group (LR monitor: lr-Adam) unless the tail differs
        if self.hparams.tail_lr_scale != 1.0:
            base = getattr(self.optimizer_factory, "keywords", {}).get("lr")
            if base is None:
                raise ValueError("model.tail_lr_scale needs model.optimizer.lr to be set")
            tail = {id(p) for p in self.net.tail.parameters()}
            groups = [{"params": [p for p in groups if id(p) not in tail], "name": "body"},
                      {"params": list(self.net.tail.parameters()), "name": "tail",
                       "lr": base * self.hparams.tail_lr_scale}]
        opt = self.optimizer_factory(groups)
        if self.scheduler_factory is None:
            return opt
        kwargs = {}
        params = inspect.signature(self.scheduler_factory).parameters
        if "total_steps" in params:
            kwargs["total_steps"] = max(1, int(self.trainer.estimated_stepping_batches))
        sched = self.scheduler_factory(opt, **kwargs)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        # Self-describing: what is needed to rebuild and use the network, in plain types.
        checkpoint["srnet"] = {"net": self.net.cfg.to_dict(),
                               "degradation": self.hparams.degradation, "format": 1}

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        # Before Lightning loads the weights: name the switch instead of a list of missing keys.
        check_resume(checkpoint.get("state_dict", {}), self.hparams.overparam,
                     self.hparams.get("branches") or [])
