"""model.compile / model.channels_last: auto picks compile for long CPU fits, NHWC when eager."""

import pytest

from srnet.train import throughput
from srnet.train.throughput import (
    COMPILE_MIN_STEPS,
    check_choice,
    resolve_channels_last,
    resolve_compile,
)


@pytest.fixture
def cxx(monkeypatch):
    monkeypatch.setattr(throughput, "find_cxx", lambda: "/usr/bin/g++")


def test_auto_compiles_only_long_cpu_fits_with_a_compiler(cxx, monkeypatch) -> None:
    assert resolve_compile("auto", "cpu", COMPILE_MIN_STEPS) == (
        True, f"auto: CPU, {COMPILE_MIN_STEPS} steps, C++ compiler /usr/bin/g++")
    compiled, why = resolve_compile("auto", "cpu", COMPILE_MIN_STEPS - 1)
    assert not compiled and "999 < 1000 steps" in why
    compiled, why = resolve_compile("auto", "cuda", 10**6)
    assert not compiled and "cuda" in why
    monkeypatch.setattr(throughput, "find_cxx", lambda: None)
    compiled, why = resolve_compile("auto", "cpu", 10**6)
    assert not compiled and "no C++ compiler" in why


def test_explicit_values_are_kept(cxx) -> None:
    assert resolve_compile(True, "cpu", 1) == (True, "model.compile=true")
    assert resolve_compile("false", "cpu", 10**6) == (False, "model.compile=false")
    assert resolve_compile(True, "cuda", 1)[0] is True


def test_compile_true_without_a_compiler_says_what_to_do(monkeypatch) -> None:
    monkeypatch.setattr(throughput, "find_cxx", lambda: None)
    with pytest.raises(RuntimeError, match="needs a C\\+\\+ compiler.*model.compile=auto"):
        resolve_compile(True, "cpu", 10)


def test_channels_last_auto_means_eager_only() -> None:
    assert resolve_channels_last("auto", compiled=False) is True
    assert resolve_channels_last("auto", compiled=True) is False
    assert resolve_channels_last(True, compiled=True) is True
    assert resolve_channels_last("False", compiled=False) is False


@pytest.mark.parametrize("bad", ["yes", 1, 0, None, 2.0])
def test_bad_values_name_the_key(bad) -> None:
    with pytest.raises(ValueError, match="model.compile=.*choose auto, true or false"):
        check_choice("model.compile", bad)


def test_keep_freed_memory_takes_on_glibc(monkeypatch) -> None:
    import ctypes
    import platform

    monkeypatch.delenv("SRNET_KEEP_FREED_MEMORY", raising=False)

    if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
        assert throughput.keep_freed_memory() is True
    monkeypatch.setattr(ctypes, "CDLL", lambda name: (_ for _ in ()).throw(OSError(name)))
    assert throughput.keep_freed_memory() is False  # no glibc: a no-op, not an error


def test_keep_freed_memory_can_be_switched_off(monkeypatch) -> None:
    monkeypatch.setenv("SRNET_KEEP_FREED_MEMORY", "0")
    assert throughput.keep_freed_memory() is False
    monkeypatch.setenv("SRNET_KEEP_FREED_MEMORY", "maybe")
    with pytest.raises(ValueError, match="SRNET_KEEP_FREED_MEMORY='maybe': use 1"):
        throughput.keep_freed_memory()
