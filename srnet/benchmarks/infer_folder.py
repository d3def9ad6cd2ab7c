"""Folders of photos through whole processes: ``python infer.py`` against an OpenCV script and
ECBSR-M4C16 in eager PyTorch, PNG in and PNG out.

Folders (:func:`folders`):

* ``mixed``: 100 photos of 32 sizes from 64x48 to 1920x1080, cut from mosaics of real photographs
  (BSDS500 train and T91 from ``../shared/datasets``; scikit-image's photographs without them);
* ``bsd100``: BSD100's LR images of the scale (two sizes), as the benchmark ships them;
* ``big``: 12 photos of 1.4 MP (3x3 mosaics of BSDS500 photos, 1443x963);
* any folder given.

Each command decodes every image, upscales it by the scale and writes a PNG into its own output
folder, timed from process start to exit (interpreter, imports and model loading included: what
a user waits for), commands interleaved, after one untimed round (the file cache):

* srnet: ``python infer.py input=<folder> output=<out> scale=<s> png_level=1 ...`` (bundled weights);
* OpenCV: ``python -m srnet.benchmarks.infer_folder opencv <folder> <out> <s>``: ``cv2.imread`` /
  ``DnnSuperResImpl.upsample`` (FSRCNN) / ``cv2.imwrite`` per file, 2 threads, no torch imported;
* ECBSR: ``python -m srnet.benchmarks.infer_folder ECBSR-M4C16 <folder> <out> <s>``: Pillow read,
  the peer in eager PyTorch (uint8 RGB in and out), OpenCV's PNG write (level 1, its default).

Run through ``scripts/benchmark.py part=folder``.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from srnet.io.tables import markdown_table

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "datasets"
SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")


def photo_pool() -> list[np.ndarray]:
    """Real photographs (uint8 RGB) to cut test images from."""
    from PIL import Image

    files = sorted((DATA / "BSDS500" / "train").glob("*.jpg")) + sorted((DATA / "T91").glob("*.png"))
    if files:
        return [np.asarray(Image.open(p).convert("RGB")) for p in files[:120]]
    from skimage import data

    return [data.astronaut(), data.chelsea(), data.coffee(), data.rocket()]


def mosaic(pool: list[np.ndarray], start: int, rows: int, cols: int) -> np.ndarray:
    """``rows`` x ``cols`` photos of the pool side by side (portrait ones turned to landscape,
    each cropped to the smallest)."""
    tiles = [pool[(start + i) % len(pool)] for i in range(rows * cols)]
    tiles = [np.rot90(t) if t.shape[0] > t.shape[1] else t for t in tiles]
    h, w = min(t.shape[0] for t in tiles), min(t.shape[1] for t in tiles)
    grid = [np.concatenate([t[:h, :w] for t in tiles[r * cols:(r + 1) * cols]], 1)
            for r in range(rows)]
    return np.concatenate(grid, 0)


def mixed_sizes(n: int = 32) -> list[tuple[int, int]]:
    """``n`` (W, H) sizes from 64x48 to 1920x1080, geometric, aspect ratios alternating."""
    out = []
    for i in range(n):
        t = i / (n - 1)
        w = round(64 * (1920 / 64) ** t)
        aspect = (0.75, 0.5625, 0.667, 1.0)[i % 4]
        out.append((w, max(48, round(w * aspect))) if i < n - 1 else (1920, 1080))
    return out


def make_folder(kind: str, folder: Path, scale: int) -> Path:
    """Fill ``folder`` with the photos of ``kind`` (``mixed``, ``big``) as PNG; for ``bsd100``
    (or a path) return the existing folder."""
    from PIL import Image

    if kind == "bsd100":
        return DATA / "benchmark" / "BSD100" / f"X{scale}" / "LR"
    if kind not in ("mixed", "big"):
        return Path(kind)
    folder.mkdir(parents=True, exist_ok=True)
    pool, rng = photo_pool(), np.random.default_rng(0)
    if kind == "big":
        for i in range(12):
            Image.fromarray(mosaic(pool, 9 * i, 3, 3)).save(folder / f"big_{i:02d}.png",
                                                            compress_level=1)
        return folder
    sizes = mixed_sizes()
    for i in range(100):
        w, h = sizes[i % len(sizes)]
        m = mosaic(pool, 16 * i, 4, 4)
        top, left = rng.integers(0, m.shape[0] - h + 1), rng.integers(0, m.shape[1] - w + 1)
        Image.fromarray(m[top:top + h, left:left + w]).save(folder / f"photo_{i:03d}.png",
                                                            compress_level=1)
    return folder


def script_loop(method: str, src: Path, dst: Path, scale: int) -> int:
    """What the two peer commands do: every image of ``src`` upscaled into ``dst`` as PNG."""
    import cv2

    cv2.setNumThreads(2)
    dst.mkdir(parents=True, exist_ok=True)
    files = sorted(p for p in src.iterdir() if p.suffix.lower() in SUFFIXES)
    if method == "opencv":
        from srnet.benchmarks.peers import opencv_superres

        sr, note = opencv_superres(scale, 2)
        if sr is None:
            raise SystemExit(note)
        for path in files:
            cv2.imwrite(str(dst / f"{path.stem}.png"), sr.upsample(cv2.imread(str(path))))
        return len(files)
    import torch
    from PIL import Image

    from srnet.benchmarks.peers import tiny_sr

    torch.set_num_threads(2)
    upscale, _ = tiny_sr(method, scale)
    if upscale is None:
        raise SystemExit(f"{method}: no weights under ../shared/peers/tiny-sr")
    for path in files:
        rgb = np.asarray(Image.open(path).convert("RGB"))
        cv2.imwrite(str(dst / f"{path.stem}.png"), upscale(rgb)[..., ::-1])
    return len(files)


def commands(src: Path, out: Path, scale: int) -> dict[str, list[str]]:
    """The timed commands (run from the repository root)."""
    me = [sys.executable, "-m", "srnet.benchmarks.infer_folder"]
    return {
        "srnet infer.py": [sys.executable, "infer.py", f"input={src}", f"output={out / 'srnet'}",
                           f"scale={scale}", "device=cpu", "overwrite=true", "progress=false",
                           "ext=.png", "png_level=1"],
        "opencv script": [*me, "opencv", str(src), str(out / "opencv"), str(scale)],
        "ECBSR-M4C16 eager": [*me, "ECBSR-M4C16", str(src), str(out / "ecbsr"), str(scale)],
    }


def run(kind: str = "mixed", scale: int = 2, repeats: int = 3) -> dict:
    """Time every command ``repeats`` times, interleaved; rows and srnet's speed-ups."""
    times: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        src = make_folder(kind, Path(tmp) / "photos", scale)
        files = [p for p in src.iterdir() if p.suffix.lower() in SUFFIXES]
        px = sum(_pixels(p) for p in files)
        cmds = commands(src, Path(tmp), scale)
        for i in range(repeats + 1):  # the first round is not timed
            for name, cmd in cmds.items():
                t = time.perf_counter()
                done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
                if done.returncode:
                    raise RuntimeError(f"{name} failed: {' '.join(cmd)}\n{done.stderr[-2000:]}")
                if i:
                    times.setdefault(name, []).append(time.perf_counter() - t)
    rows = [{"command": k, "s_median": statistics.median(v), "s_min": min(v),
             "images_per_s": len(files) / statistics.median(v)} for k, v in times.items()]
    med = {r["command"]: r["s_median"] for r in rows}
    return {"folder": kind, "scale": scale, "images": len(files), "mp_in": px / 1e6,
            "repeats": repeats, "rows": rows,
            "speedup": {k: v / med["srnet infer.py"] for k, v in med.items()}}


def _pixels(path: Path) -> int:
    from PIL import Image

    with Image.open(path) as im:
        return im.size[0] * im.size[1]


def table(results: list[dict]) -> str:
    rows = [[f"{r['folder']} ({r['images']} images, {r['mp_in']:.1f} MP)", f"x{r['scale']}",
             row["command"], f"{row['s_median']:.2f}", f"{row['s_min']:.2f}",
             f"{row['images_per_s']:.1f}", f"{r['speedup'][row['command']]:.2f}x"]
            for r in results for row in r["rows"]]
    return markdown_table(["folder", "scale", "command", "s (median)", "s (min)", "images/s",
                           "its time / srnet's"], rows)


if __name__ == "__main__":
    n = script_loop(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]))
    print(n, "images")
