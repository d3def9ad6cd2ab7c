"""``python infer.py`` on a folder of JPEG photos against a plain OpenCV loop, as whole processes.

The folder: ``n`` JPEG photos (quality 90) made from scikit-image's colour photographs (astronaut,
chelsea, coffee, rocket, hubble_deep_field, retina, immunohistochemistry, both views of
stereo_motorcycle) and their mirror
images, resized to ``size``. Both commands decode every photo, upscale it by ``scale`` and encode
the result as JPEG into their own output folder; both are timed from process start to exit (the
interpreter, imports and model loading included: what a user waits for), interleaved, after one
untimed round (file cache):

* srnet: ``python infer.py input=<folder> output=<out> scale=<s> device=cpu overwrite=true
  progress=false`` (bundled weights);
* OpenCV: ``python -m srnet.benchmarks.infer_folder <folder> <out> <s>``, i.e. :func:`opencv_loop`:
  ``cv2.imread`` / ``DnnSuperResImpl.upsample`` / ``cv2.imwrite`` per file (no torch imported).

Run through ``scripts/benchmark.py part=folder``.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from srnet.io.tables import markdown_table

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "retina",
          "immunohistochemistry", "stereo_motorcycle:0", "stereo_motorcycle:1")
ROOT = Path(__file__).resolve().parents[2]


def make_photos(folder: Path, n: int = 20, size: tuple[int, int] = (768, 1024)) -> list[Path]:
    """Write ``n`` JPEG photos of ``size`` (H, W) into ``folder``; returns their paths."""
    from PIL import Image, ImageOps
    from skimage import data

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        name = PHOTOS[i % len(PHOTOS)]
        func, _, view = name.partition(":")
        arr = getattr(data, func)()
        im = Image.fromarray(arr[int(view)] if view else arr).convert("RGB")
        im = ImageOps.fit(im, (size[1], size[0]), Image.Resampling.BICUBIC)
        if (i // len(PHOTOS)) % 2:
            im = ImageOps.mirror(im)
        paths.append(folder / f"photo_{i:02d}_{func}{view}.jpg")
        im.save(paths[-1], quality=90)
    return paths


def opencv_loop(src: Path, dst: Path, scale: int) -> int:
    """Decode, upscale with OpenCV's FSRCNN, encode every ``*.jpg`` of ``src`` into ``dst``."""
    import cv2

    from srnet.benchmarks.peers import opencv_superres

    sr, note = opencv_superres(scale)
    if sr is None:
        raise SystemExit(note)
    dst.mkdir(parents=True, exist_ok=True)
    files = sorted(src.glob("*.jpg"))
    for path in files:
        cv2.imwrite(str(dst / path.name), sr.upsample(cv2.imread(str(path))))
    return len(files)


def commands(src: Path, out: Path, scale: int) -> dict[str, list[str]]:
    """The two timed commands (run from the repository root)."""
    return {
        "srnet infer.py": [sys.executable, "infer.py", f"input={src}", f"output={out / 'srnet'}",
                           f"scale={scale}", "device=cpu", "overwrite=true", "progress=false"],
        "opencv loop": [sys.executable, "-m", "srnet.benchmarks.infer_folder", str(src),
                        str(out / "opencv"), str(scale)],
    }


def run(scale: int = 2, n: int = 20, size: tuple[int, int] = (768, 1024),
        repeats: int = 3) -> dict:
    """Time both commands ``repeats`` times each, interleaved; returns rows and the ratio."""
    times: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        src = make_photos(Path(tmp) / "photos", n, size)[0].parent
        cmds = commands(src, Path(tmp), scale)
        for i in range(repeats + 1):  # the first round is not timed
            for name, cmd in cmds.items():
                t = time.perf_counter()
                subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
                if i:
                    times.setdefault(name, []).append(time.perf_counter() - t)
        written = {k: len(list((Path(tmp) / k.split()[0]).glob("*.jpg"))) for k in cmds}
    rows = [{"command": k, "s_median": statistics.median(v), "s_min": min(v),
             "photos_per_s": n / statistics.median(v)} for k, v in times.items()]
    med = {r["command"]: r["s_median"] for r in rows}
    return {"scale": scale, "photos": n, "size": f"{size[1]}x{size[0]}", "repeats": repeats,
            "rows": rows, "written": written,
            "ratio": med["opencv loop"] / med["srnet infer.py"]}


def table(result: dict) -> str:
    rows = [[r["command"], f"{r['s_median']:.2f}", f"{r['s_min']:.2f}", f"{r['photos_per_s']:.2f}"]
            for r in result["rows"]]
    rows.append(["**srnet / OpenCV speed**", f"**{result['ratio']:.2f}x**", "", ""])
    return markdown_table(["command", "s per folder (median)", "min", "photos/s"], rows)


if __name__ == "__main__":
    print(opencv_loop(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])), "photos")
