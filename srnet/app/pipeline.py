"""``infer.py`` over many files: decoding, the network and encoding overlap.

    reader thread --(AHEAD decoded stills)--> main thread: network --(AHEAD)--> writer threads

The main thread keeps the cores for the network; a reader thread decodes the next stills and
``writers`` threads encode and write finished ones (zlib, libjpeg and libwebp release the GIL,
so they run beside the network; two writers keep both cores busy where encoding outweighs the
network, as PNG at x4 does). Stills of one size and network that are decoded and waiting go
through the network as one batch (up to ``batch``; :meth:`Upscaler.upscale_pictures` gives each
the pixels it gets alone). Lines, failures and the progress bar come in input order, as one file
at a time would give them. Animations, videos and stills over ``PIPE_PIXELS`` run alone in the
main thread once the writes before them are done, so memory stays that of one large picture.
Ctrl-C stops reading, lets the writes of pictures already upscaled finish, and re-raises.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from srnet.app.inputs import kind
from srnet.app.outputs import Outputs
from srnet.app.stills import StillPlan, plan_still, upscale_to, write_still
from srnet.infer.models import ModelBank
from srnet.infer.resize import OutputSize, resize_picture
from srnet.io.images import read_picture
from srnet.io.pictures import Picture

PIPE_PIXELS = 4_000_000  # stills up to this many input pixels are decoded ahead and batched
AHEAD = 2  # decoded pictures waiting for the network; upscaled ones waiting for the writer
END = object()  # the reader's last item

Report = Callable[[Path, BaseException | None, str | None], None]  # (src, error, line)


@dataclass
class Item:
    """One input on its way: ``pic`` when decoded ahead, ``error`` when decoding failed."""

    src: Path
    t0: float
    pic: Picture | None = None
    error: BaseException | None = None

    @property
    def ahead(self) -> bool:
        return self.pic is not None or self.error is not None


def pipelined(src: Path) -> bool:
    """A still of at most ``PIPE_PIXELS`` by its header (anything unclear: not pipelined)."""
    from PIL import Image

    if kind(src) != "image":
        return False
    try:
        with Image.open(src) as im:
            return im.width * im.height <= PIPE_PIXELS
    except Exception:  # Pillow cannot tell: the main thread reads it and reports its errors
        return False


class Reader(threading.Thread):
    """Decodes the pipelined inputs in order into a bounded queue; the others pass undecoded.
    ``inspect(src, pic)``, when given, runs on each decoded still here, off the main thread
    (``weights=auto``'s look at the pixels)."""

    def __init__(self, inputs: list[Path], max_pixels: int | None,
                 inspect: Callable[[Path, Picture], object] | None = None) -> None:
        super().__init__(name="srnet-reader", daemon=True)
        self.inputs, self.max_pixels, self.inspect = inputs, max_pixels, inspect
        self.items: queue.Queue = queue.Queue(AHEAD)
        self.stopped = threading.Event()

    def run(self) -> None:
        for src in self.inputs:
            item = Item(src, time.perf_counter())
            if pipelined(src):
                try:
                    item.pic = read_picture(src, self.max_pixels)
                except Exception as e:  # reported in its turn by the main thread
                    item.error = e
                else:
                    self.look(src, item.pic)
            if not self.put(item):
                return
        self.put(END)

    def look(self, src: Path, pic: Picture) -> None:
        if self.inspect is not None:
            try:
                self.inspect(src, pic)
            except Exception:  # noqa: S110 - not cached: the main thread asks again and reports
                pass

    def put(self, item: object) -> bool:
        while not self.stopped.is_set():
            try:
                self.items.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def stop(self) -> None:
        self.stopped.set()


def failed(error: BaseException) -> Future:
    f: Future = Future()
    f.set_exception(error)
    return f


class Pipeline:
    """Runs ``inputs`` through reader, network and writer; ``report`` gets each file's outcome
    in input order; ``inline(src)`` does a file that is not pipelined and returns its line."""

    def __init__(self, outputs: Outputs, bank: ModelBank, size_rule: OutputSize, compare: bool,
                 max_pixels: int | None, batch: int, inline: Callable[[Path], str],
                 report: Report, writers: int = 2) -> None:
        self.outputs, self.bank, self.size_rule, self.compare = outputs, bank, size_rule, compare
        self.max_pixels, self.batch, self.inline, self.report = max_pixels, max(1, batch), inline, report
        self.writers = max(1, writers)
        self.ahead = max(AHEAD, self.writers)  # upscaled pictures waiting for or in a writer
        self.pending: deque[tuple[Path, Future]] = deque()
        self.current: list[Path] = []  # in the network (or done inline) now: for Ctrl-C's message

    def run(self, inputs: list[Path]) -> None:
        auto = self.bank.weights == "auto" and self.bank.ckpt_path is None
        reader = Reader(inputs, self.max_pixels,
                        (lambda src, pic: self.bank.quality(src, pic.pixels)) if auto else None)
        writer = ThreadPoolExecutor(self.writers, thread_name_prefix="srnet-writer")
        reader.start()
        held = None
        try:
            while (item := held or reader.items.get()) is not END:
                held = None
                if not item.ahead:
                    self.drain()  # the writes before it first: in-order lines, one large picture
                    self.current = [item.src]
                    try:
                        self.report(item.src, None, self.inline(item.src))
                    except Exception as e:
                        self.report(item.src, e, None)
                    continue
                group, held = self.gather(item, reader)
                self.current = [src for src, _ in group]
                self.upscale(group, writer)
                self.current = []
                while self.pending and self.pending[0][1].done():
                    self.settle()
            self.drain()
        finally:  # Ctrl-C included: stop reading, let writes under way finish and report them
            reader.stop()
            writer.shutdown(wait=True)  # at most self.ahead writes, each of a finished picture
            self.drain()

    def plan(self, item: Item) -> tuple[Path, StillPlan | BaseException]:
        if item.error is not None:
            return item.src, item.error
        try:
            return item.src, plan_still(item.src, item.pic, self.outputs, self.bank,
                                        self.size_rule, self.compare, item.t0)
        except Exception as e:
            return item.src, e

    def gather(self, item: Item, reader: Reader) -> tuple[list[tuple], object]:
        """``item`` planned, and the decoded stills waiting behind it that can share its batch;
        returns them and the first waiting item that cannot (or None)."""
        group = [self.plan(item)]
        first = group[0][1]
        while len(group) < self.batch and isinstance(first, StillPlan) and not first.pic.is_float:
            try:
                nxt = reader.items.get_nowait()
            except queue.Empty:
                return group, None
            if nxt is END or nxt.pic is None or not self.same_batch(first, nxt):
                return group, nxt
            group.append(self.plan(nxt))
        return group, None

    def same_batch(self, plan: StillPlan, item: Item) -> bool:
        """Same array shape, type and alpha, and the same network (``weights=auto`` picks per
        file): one batch."""
        a, b = plan.pic, item.pic
        if b.is_float or a.pixels.shape != b.pixels.shape or a.pixels.dtype != b.pixels.dtype \
                or (a.alpha is None) != (b.alpha is None):
            return False
        h, w = b.pixels.shape[:2]
        return self.bank.choose(w, h, item.src, b.pixels)[0] is plan.model

    def upscale(self, group: list[tuple], writer: ThreadPoolExecutor) -> None:
        plans = [p for _, p in group if isinstance(p, StillPlan)]
        if len(plans) > 1:  # one size, one network: one batch
            ups = plans[0].model.upscale_pictures([p.pic for p in plans])
            outs = iter([resize_picture(o, p.size) for o, p in zip(ups, plans, strict=True)])
        else:
            outs = iter([upscale_to(p.model, p.pic, p.size) for p in plans])
        for src, p in group:
            while len(self.pending) >= self.ahead and not self.pending[0][1].done():
                self.settle()  # the writer is behind: wait for its oldest file
            fut = (writer.submit(write_still, p, next(outs), self.outputs, self.bank)
                   if isinstance(p, StillPlan) else failed(p))
            self.pending.append((src, fut))

    def settle(self) -> None:
        src, fut = self.pending.popleft()
        try:
            line = fut.result()
        except Exception as e:
            self.report(src, e, None)
        else:
            self.report(src, None, line)

    def drain(self) -> None:
        while self.pending:
            self.settle()

