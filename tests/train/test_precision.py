"""trainer.precision selection (GPU support mocked) and the non-finite-loss stop."""

from __future__ import annotations

import lightning as L
import pytest
import torch
from helpers import compose_train
from torch.utils.data import DataLoader

from srnet.train.module import SRSystem
from srnet.train.precision import resolve_precision


def fake_gpu(monkeypatch, available: bool, bf16: bool = False) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: available)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: bf16)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda *a, **k: "Tesla V100 (mocked)")


@pytest.mark.parametrize("available,bf16,accelerator,expected", [
    (False, False, "auto", "32-true"),      # CPU
    (True, True, "auto", "bf16-mixed"),     # Ampere and newer
    (True, False, "gpu", "16-mixed"),       # a GPU without bfloat16
    (True, True, "cuda", "bf16-mixed"),
    (True, True, "cpu", "32-true"),         # a GPU in the box, but training asked on the CPU
    (True, True, None, "bf16-mixed"),       # accelerator unset = Lightning's auto
])
def test_auto(monkeypatch, available, bf16, accelerator, expected) -> None:
    fake_gpu(monkeypatch, available, bf16)
    assert resolve_precision("auto", accelerator) == expected
    assert resolve_precision(None, accelerator) == expected


@pytest.mark.parametrize("asked,expected", [
    ("32-true", "32-true"), (32, "32-true"), ("16", "16-mixed"), ("bf16", "bf16-mixed"),
    ("64-true", "64-true"), ("16-true", "16-true"), ("bf16-mixed", "bf16-mixed"),
    ("16-mixed", "16-mixed"), (" BF16-True ", "bf16-true"),
])
def test_lightning_values_pass_through(monkeypatch, asked, expected) -> None:
    fake_gpu(monkeypatch, True, True)
    assert resolve_precision(asked, "gpu") == expected


def test_unknown_values_are_refused_with_the_allowed_ones(monkeypatch) -> None:
    fake_gpu(monkeypatch, False)
    for bad in ("fp8", "mixed", 8, "bf16-auto"):
        with pytest.raises(ValueError, match=r"trainer\.precision=.*auto, fp32, bf16, fp16, 64-true"):
            resolve_precision(bad)


def test_srnet_names_mean_what_they_mean_at_inference(monkeypatch) -> None:
    fake_gpu(monkeypatch, True, True)
    assert [resolve_precision(p, "gpu") for p in ("fp32", "bf16", "fp16")] == [
        "32-true", "bf16-mixed", "16-mixed"]
    with pytest.raises(ValueError, match=r"trainer\.precision=fp16 needs a CUDA device"):
        resolve_precision("fp16", "cpu")


def test_bf16_on_a_gpu_without_it_is_refused(monkeypatch) -> None:
    fake_gpu(monkeypatch, True, bf16=False)
    for asked in ("bf16-mixed", "bf16", "bf16-true"):
        with pytest.raises(ValueError, match=r"trainer\.precision=.*V100.*auto \(picks fp16"):
            resolve_precision(asked, "auto")
    assert resolve_precision("bf16-mixed", "cpu") == "bf16-mixed"  # CPU autocast has bf16


def test_configs_default_to_auto(tmp_path, monkeypatch) -> None:
    fake_gpu(monkeypatch, False)
    cfg = compose_train([], tmp_path)
    assert cfg.trainer.precision == "auto"
    assert resolve_precision(cfg.trainer.precision, cfg.trainer.accelerator) == "32-true"
    gpu = compose_train(["trainer=gpu"], tmp_path)
    fake_gpu(monkeypatch, True, bf16=True)
    assert resolve_precision(gpu.trainer.precision, gpu.trainer.accelerator) == "bf16-mixed"


class PoisonAt(L.Callback):
    """Sets a weight to NaN before optimiser step ``step``."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if trainer.global_step == self.step:
            with torch.no_grad():
                next(pl_module.net.parameters()).fill_(float("nan"))


@pytest.mark.parametrize("precision", ["32-true", "bf16-mixed"])
def test_non_finite_loss_stops_training_naming_step_and_precision(precision) -> None:
    torch.manual_seed(0)
    batches = [{"lr": torch.rand(2, 3, 6, 6), "hr": torch.rand(2, 3, 12, 12)} for _ in range(6)]
    model = SRSystem({"scale": 2, "d": 4, "s": 2, "m": 1},
                     optimizer=lambda params: torch.optim.SGD(params, lr=0.01))
    trainer = L.Trainer(accelerator="cpu", precision=precision, max_steps=6, logger=False,
                        enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, callbacks=[PoisonAt(3)])
    with pytest.raises(FloatingPointError, match=rf"at step 3 with trainer.precision={precision}"):
        trainer.fit(model, DataLoader(batches, batch_size=None))
    assert trainer.global_step == 3  # steps 0-2 ran, step 3 stopped before its update


@pytest.mark.parametrize("avx512_bf16,amx,expected", [
    (False, False, False), (True, False, True), (False, True, True)])
def test_native_bf16_cpu_is_read_off_torch(monkeypatch, avx512_bf16, amx, expected) -> None:
    from srnet.ops import precision

    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: avx512_bf16)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx)
    assert precision.cpu_has_native_bf16() is expected
    monkeypatch.delattr(torch.cpu, "_is_avx512_bf16_supported")
    monkeypatch.delattr(torch.cpu, "_is_amx_tile_supported")
    assert precision.cpu_has_native_bf16() is False  # an older torch without the checks
