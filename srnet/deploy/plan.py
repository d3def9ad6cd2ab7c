"""Choosing how to run an input: by a rule from its shape (the default), or by timing.

:func:`rule` picks an execution from the batch size, the LR size and the thread count alone, so
a first call on an unseen shape costs what a warm one does (no candidate is timed on the user's
images); ``python scripts/benchmark.py part=modes`` shows it against the fastest per size.
:class:`Planner` (``DeployedNet.execution = "measure"``) times the candidates instead:

Which execution is fastest depends on the input size, the scale, the thread count and the
machine: on the 2-core CPU the banded engine with row parts on threads wins on large images, the
banded engine or the plain rewritten network with intra-op threads on small ones.
:class:`Planner` settles it by measurement the first time a shape class is seen: every
candidate runs once as a warm-up (oneDNN builds its kernels for a new shape on first use), then
``rounds`` timed times (more, up to 8, for inputs cheap enough to time in half a second),
interleaved; the least time wins and is kept for that class for the rest
of the process. With one thread the time is the CPU time of the calling thread
(``time.thread_time``, which other processes loading the cores change little); with more, the
wall time (the minimum over rounds discards most interference). A shape class is the batch
size, the thread count, the kind of call and the LR area rounded to steps of 2^(1/4) (about
19%), so a folder of similar photos is measured once, not once per exact size.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Hashable

import torch

log = logging.getLogger(__name__)
MEASURE_SECONDS = 0.5  # cheap inputs: as many rounds (up to 8) as fit in about this long
MAX_PLAIN_PIXELS = 512 * 512  # LR pixels per batch above which only the banded engine is tried
EXECUTIONS = ("auto", "banded", "plain")
MIN_PART_ROWS = 24  # an image is cut into one row part per thread when each gets this many
NARROW = 24  # networks at most this wide (channels) count as narrow (the re-shaped d=16 family)
INTRA_PIXELS = 320 * 240  # LR images up to this run whole on intra-op threads (more than 1 thread)
NARROW_INTRA_PIXELS = 640 * 480  # the same for narrow networks


def rule(n: int, h: int, w: int, threads: int, width: int = 56) -> str:
    """The execution for a batch of ``n`` LR images of ``h`` x ``w`` on ``threads`` threads,
    for a network whose widest layer has ``width`` channels.

    One thread: the banded engine (activations stay in cache). More: whole images per thread
    when the batch splits evenly; else images up to 320x240 (640x480 for a narrow network, d=16)
    and images too short to split run with every op on all threads (``banded-intra``: 1.1-2x
    faster there on the 2-core Xeon, ``benchmark.py part=modes``, docs/speed.md), larger ones in
    row parts, one per thread (``banded``)."""
    if threads <= 1 or n % threads == 0:
        return "banded"
    if h * w <= (NARROW_INTRA_PIXELS if width <= NARROW else INTRA_PIXELS):
        return "banded-intra"
    return "banded" if h >= threads * MIN_PART_ROWS else "banded-intra"


def shape_class(kind: Hashable, n: int, h: int, w: int) -> tuple:
    """The cache key of an input: kind, batch size, threads, LR area in 2^(1/4) steps."""
    return kind, n, torch.get_num_threads(), round(4 * math.log2(max(1, h * w)))


class Planner:
    """Per shape class, the name of the fastest of some candidates (measured once, then cached).

    Attributes:
        choices: shape class -> chosen candidate name.
        timings: shape class -> {candidate: least seconds measured}.
    """

    def __init__(self, rounds: int = 3) -> None:
        self.rounds = rounds
        self.choices: dict[tuple, str] = {}
        self.timings: dict[tuple, dict[str, float]] = {}

    def choose(self, key: tuple, candidates: dict[str, Callable[[], object]]) -> str:
        """The cached choice for ``key``, or time ``candidates`` (name -> call) and cache it."""
        if key in self.choices:
            return self.choices[key]
        if len(candidates) == 1:
            return next(iter(candidates))
        clock = time.thread_time if torch.get_num_threads() == 1 else time.perf_counter
        best = dict.fromkeys(candidates, math.inf)
        t0 = time.perf_counter()
        for fn in candidates.values():
            fn()  # warm-up
        once = time.perf_counter() - t0  # cheap inputs get more rounds (less noise), up to 8
        for _ in range(max(self.rounds, min(8, int(MEASURE_SECONDS / max(once, 1e-6))))):
            for name, fn in candidates.items():
                t = clock()
                fn()
                best[name] = min(best[name], clock() - t)
        choice = min(best, key=best.__getitem__)
        self.choices[key], self.timings[key] = choice, best
        log.debug("execution for %s: %s (%s)", key, choice,
                  ", ".join(f"{k} {1e3 * v:.1f} ms" for k, v in best.items()))
        return choice
