"""Keeping glibc from handing the activations' memory back to the system after every call.

A call of the deployed network allocates its activations (4 MB per layer for a 256x256 image at
d=16) and frees them at the end. glibc serves blocks above its *mmap threshold* with fresh
pages from the system and gives the top of its heap back once more than its *trim threshold*
lies free there; both start at 128 KiB and grow only when a block served by the system is freed
(the first to its size, the second to twice that, up to 32 / 64 MiB). Until then every
call can find its memory given back and touch it again, one page fault per 4 KiB: 4,000-9,000
faults for a 256x256 image at x2, up to half the time of small calls on the 2-core Xeon, and
how many depends on what the process allocated before (``python scripts/benchmark.py
part=modes`` counts them per call; docs/speed.md).

:func:`settle_heap` allocates and frees one block just under the 32 MiB ceiling once per
process, which is what glibc's own dynamic rule then answers by keeping blocks up to 32 MiB in
the heap and up to 64 MiB of free heap in the process (no setting is changed: any program that
once freed such a block behaves the same). ``SRNET_SETTLE_HEAP=0`` turns it off; elsewhere than
glibc it does nothing.
"""

from __future__ import annotations

import functools
import os
import platform

import torch

ENV = "SRNET_SETTLE_HEAP"
CEILING = 32 << 20  # glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit systems
_done: dict[str, bool] = {}


@functools.cache
def on_glibc() -> bool:
    """Whether this Python runs on glibc (``platform.libc_ver`` reads the interpreter's binary:
    asked once)."""
    return platform.libc_ver()[0] == "glibc"


def settle_heap() -> bool:
    """Once per process (glibc, not switched off): free one block just under :data:`CEILING`
    so glibc raises its mmap and trim thresholds. Returns whether it did so now."""
    if _done or os.environ.get(ENV, "") == "0" or not on_glibc():
        return False
    _done["settled"] = True
    block = torch.empty(CEILING - (64 << 10), dtype=torch.uint8)  # never touched: no faults
    del block
    return True
