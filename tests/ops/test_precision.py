"""One precision vocabulary: ``auto``, ``fp32``, ``bf16``, ``fp16`` mean the same in training,
inference (``infer.py`` / ``load_model``) and the deploy path."""

from __future__ import annotations

import pytest
import torch

from srnet.deploy.engine import resolve_precision as deploy_dtype
from srnet.infer.devices import check_precision
from srnet.ops.precision import DTYPES, NAMES, resolve
from srnet.train.precision import AS_LIGHTNING, resolve_precision


def fake_cuda(monkeypatch, bf16: bool) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: bf16)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda *a, **k: "Tesla T4 (mocked)")


@pytest.mark.parametrize("bf16,expected", [(True, "bf16"), (False, "fp16")])
def test_auto_on_cuda(monkeypatch, bf16, expected) -> None:
    fake_cuda(monkeypatch, bf16)
    assert resolve("auto", "cuda") == resolve(None, "cuda") == expected
    assert resolve_precision("auto", "gpu") == AS_LIGHTNING[expected]


def test_auto_on_cpu() -> None:
    assert resolve("auto", "cpu") == "fp32"
    assert check_precision("auto", torch.device("cpu")) is None  # fp32: no autocast
    assert deploy_dtype("auto", torch.device("cpu")) == torch.float32
    assert resolve_precision("auto", "cpu") == "32-true"


@pytest.mark.parametrize("name", ["fp32", "bf16"])
def test_every_caller_agrees_on_cpu(name) -> None:
    dev = torch.device("cpu")
    assert deploy_dtype(name, dev) == DTYPES[name]
    assert check_precision(name, dev) == (None if name == "fp32" else DTYPES[name])
    assert resolve_precision(name, "cpu") == AS_LIGHTNING[name]


def test_errors_name_the_key_and_the_choices(monkeypatch) -> None:
    with pytest.raises(ValueError, match=r"precision='fp8': choose one of auto, fp32, bf16, fp16"):
        resolve("fp8", "cpu")
    with pytest.raises(ValueError, match="precision=fp16 needs a CUDA device"):
        check_precision("fp16", torch.device("cpu"))
    fake_cuda(monkeypatch, bf16=False)
    with pytest.raises(ValueError, match=r"precision='bf16': this GPU \(Tesla T4"):
        resolve("bf16", "cuda")
    assert NAMES == ("auto", "fp32", "bf16", "fp16")
