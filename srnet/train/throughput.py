"""``model.compile`` and ``model.channels_last``: how the training forward is executed.

Both take ``auto`` (the default), ``true`` or ``false``. ``auto`` is what measured fastest
(``python scripts/benchmark.py part=train``, numbers in docs/training.md):

* compile: ``torch.compile`` the training forward on a CPU when a C++ compiler is on ``PATH``
  and the fit has at least :data:`COMPILE_MIN_STEPS` optimiser steps. Inductor fuses each PReLU
  and bias into the convolutions around it; eager PReLU backward alone is about a fifth of an
  eager step. Compiling costs some 20-60 s once, so short fits (tests, ``debug=short``) stay eager.
  On a CUDA GPU ``auto`` stays eager: not measured there yet.
* channels_last: NHWC only for an eager forward (it helps the eager sub-pixel tail); a compiled
  forward was faster in NCHW at every scale.

On a CPU, training also sets glibc's malloc to keep freed buffers (:func:`keep_freed_memory`),
so the process may hold up to 512 MB it has freed; ``SRNET_KEEP_FREED_MEMORY=0`` in the
environment leaves malloc as it is (e.g. on a machine short of memory).

The choice never changes what is learned beyond float rounding, nor what checkpoints store.
"""

from __future__ import annotations

import ctypes
import os
import shutil

COMPILE_MIN_STEPS = 1000
CXX = ("g++", "c++", "clang++")  # what inductor's CPU backend looks for
CHOICES = ("auto", True, False)


def check_choice(key: str, value: object) -> bool | str:
    """``value`` as ``auto`` / True / False, or a ValueError naming ``key``."""
    if isinstance(value, str) and value.lower() in ("auto", "true", "false"):
        value = {"auto": "auto", "true": True, "false": False}[value.lower()]
    if value not in CHOICES or isinstance(value, int) and not isinstance(value, bool):
        raise ValueError(f"{key}={value!r}: choose auto, true or false")
    return value


def find_cxx() -> str | None:
    """The first C++ compiler on PATH that torch.compile's CPU backend can use, or None."""
    return next((path for name in CXX if (path := shutil.which(name))), None)


def resolve_compile(value: bool | str, device_type: str, steps: int) -> tuple[bool, str]:
    """Whether to compile the training forward, and why (for the run's log)."""
    value = check_choice("model.compile", value)
    if value is not True and value is not False:  # auto
        if device_type != "cpu":
            return False, f"auto: eager on {device_type} (compile not measured there)"
        if steps < COMPILE_MIN_STEPS:
            return False, f"auto: eager for a fit of {steps} < {COMPILE_MIN_STEPS} steps"
        cxx = find_cxx()
        if cxx is None:
            return False, f"auto: eager, no C++ compiler on PATH ({', '.join(CXX)})"
        return True, f"auto: CPU, {steps} steps, C++ compiler {cxx}"
    if value and device_type == "cpu" and find_cxx() is None:
        raise RuntimeError(f"model.compile=true on CPU needs a C++ compiler on PATH ({', '.join(CXX)});"
                           f" install one or set model.compile=auto")
    return value, "model.compile=" + str(value).lower()


def resolve_channels_last(value: bool | str, compiled: bool) -> bool:
    """NHWC weights and inputs: ``auto`` means only for an eager forward."""
    value = check_choice("model.channels_last", value)
    return (not compiled) if value == "auto" else value


# glibc mallopt parameters (malloc.h): keep freed blocks instead of returning them to the OS.
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD = 32 * 2**20  # glibc's largest allowed value on 64-bit
TRIM_THRESHOLD = 512 * 2**20
KEEP_FREED_ENV = "SRNET_KEEP_FREED_MEMORY"  # "0": leave glibc's malloc as it is


def keep_freed_memory() -> bool:
    """Tell glibc's malloc to reuse freed activation buffers rather than unmap them.

    A compiled step allocates its ~15 MB activations afresh each step; with glibc's default
    thresholds each one is a new mmap whose pages fault in again (measured: a fresh process ran
    the compiled x3 step at ~450 patches/s, ~640 with these settings; docs/training.md). Returns
    whether the settings took (False off glibc, or when ``SRNET_KEEP_FREED_MEMORY=0``)."""
    value = os.environ.get(KEEP_FREED_ENV, "1").strip().lower()
    if value not in ("0", "1", "false", "true"):
        raise ValueError(f"{KEEP_FREED_ENV}={os.environ[KEEP_FREED_ENV]!r}: use 1 (keep freed "
                         f"buffers, the default) or 0 (leave glibc's malloc as it is)")
    if value in ("0", "false"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
                    and libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    except (OSError, AttributeError):
        return False
