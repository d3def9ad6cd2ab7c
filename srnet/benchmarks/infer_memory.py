"""Peak resident memory of ``python infer.py`` on large generated images.

For each size, a PNG of smooth gradients plus noise is generated (band by band, low compression,
so making it costs little memory and time), then ``python infer.py input=<png> output=<folder>
scale=<s> device=cpu progress=false`` runs as a child process whose peak resident set size
(``ru_maxrss``, from ``os.wait4``) is read. The same command on a 64 x 48 image gives the fixed
part (the interpreter, torch, the network: several hundred MB whatever the image); what a large
image adds is compared with its arrays: the uint8 input and the uint8 output. The files are
deleted afterwards.

Run through ``scripts/benchmark.py part=memory``; ``tests/app/test_memory.py`` (slow) checks the
4000 x 3000 case.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from srnet.io.pngwrite import write_png
from srnet.io.tables import markdown_table

ROOT = Path(__file__).resolve().parents[2]
SIZES = ((4000, 3000), (12000, 9000))  # (W, H)


def make_image(path: Path, w: int, h: int, seed: int = 0) -> Path:
    """A w x h RGB PNG of smooth gradients and noise, written a band of rows at a time."""

    class Rows:  # what write_png reads: bands of rows, made when asked for
        shape, dtype, ndim = (h, w, 3), np.dtype(np.uint8), 3

        def __getitem__(self, rows: slice) -> np.ndarray:
            y = np.arange(h, dtype=np.float32)[rows, None] / h
            x = np.arange(w, dtype=np.float32)[None, :] / w
            rng = np.random.default_rng(seed + (rows.start or 0))
            band = np.empty((len(y), w, 3), np.uint8)
            for c in range(3):
                v = np.sin((x * (3 + c) + y * (2 + c)) * 6.283) * 80 + 128
                band[..., c] = np.clip(v + rng.integers(-20, 21, v.shape), 0, 255)
            return band

    with open(path, "wb") as f:
        write_png(f, Rows(), compress_level=1)
    return path


def peak_of(cmd: list[str], cwd: Path) -> tuple[int, float, int, str]:
    """(peak RSS in bytes, seconds, exit code, output tail) of a child process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = proc.stdout.read().decode(errors="replace")
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_maxrss * 1024, time.perf_counter() - t0, proc.returncode, out[-2000:]


def infer_cmd(src: Path, out: Path, scale: int) -> list[str]:
    return [sys.executable, str(ROOT / "infer.py"), f"input={src}", f"output={out}",
            f"scale={scale}", "device=cpu", "progress=false", "overwrite=true", "max_pixels=0"]


def run(sizes=SIZES, scale: int = 2, workdir: str | Path | None = None) -> dict:
    """Measure each (W, H) of ``sizes``; returns ``{"machine": ..., "baseline": ..., "rows"}``."""
    from srnet.benchmarks.peers import cpu_name

    work = Path(tempfile.mkdtemp(prefix="srnet-memory-", dir=workdir))
    try:
        small = make_image(work / "small.png", 64, 48)
        base, _, code, text = peak_of(infer_cmd(small, work / "out", scale), work)
        if code != 0:
            raise RuntimeError(f"infer.py failed on a 64x48 image:\n{text}")
        rows = []
        for w, h in sizes:
            src = make_image(work / f"{w}x{h}.png", w, h)
            peak, seconds, code, text = peak_of(infer_cmd(src, work / "out", scale), work)
            if code != 0:
                raise RuntimeError(f"infer.py failed on {w}x{h}:\n{text}")
            arrays = 3 * w * h * (1 + scale * scale)  # uint8 input + uint8 output
            rows.append({"size": f"{w}x{h}", "scale": scale, "arrays_mb": arrays / 1e6,
                         "peak_mb": peak / 1e6, "added_mb": (peak - base) / 1e6,
                         "added_over_arrays": (peak - base) / arrays, "seconds": seconds,
                         "output_mb": (work / "out" / src.name).stat().st_size / 1e6})
            src.unlink()
            shutil.rmtree(work / "out")
        load = os.getloadavg()[0]
        return {"machine": f"{cpu_name()}, {os.cpu_count()} cores", "load_average": load,
                "baseline_mb": base / 1e6, "rows": rows}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def table(result: dict) -> str:
    """Markdown: per image, its arrays, the peak, what it adds to the 64x48 run, the ratio."""
    return markdown_table(
        ["image", "scale", "input + output arrays (MB)", "peak RSS (MB)",
         f"added to a 64x48 run ({result['baseline_mb']:.0f} MB) (MB)", "added / arrays",
         "seconds"],
        [[r["size"], f"x{r['scale']}", f"{r['arrays_mb']:.0f}", f"{r['peak_mb']:.0f}",
          f"{r['added_mb']:.0f}", f"{r['added_over_arrays']:.2f}", f"{r['seconds']:.0f}"]
         for r in result["rows"]])
