"""Which exported RGB ONNX files which OpenCV versions run, and up to what size.

For each OpenCV version: ``pip install --target`` it into a cache folder (once), then, in a fresh
Python that imports only that ``cv2`` and NumPy (the recipe of docs/export.md), run the x2 RGB
export with each pixel shuffle (``shuffle=depth``, the default, and ``shuffle=deconv``) on
random inputs of each LR size. A process per (version, file, size), so a crash (OpenCV's
transposed convolution segfaults on large outputs) is recorded, not fatal. Results within
1e-4 of the PyTorch graph count as "ok".

    python scripts/opencv_versions.py
    python scripts/opencv_versions.py "versions=[4.10.0.84,5.1.0.95]" "sizes=[[360,640],[720,1280]]"
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from kvargs import parse_kv

from srnet.deploy.export import SHUFFLES, export_module, export_onnx
from srnet.infer.models import load_model
from srnet.io.tables import markdown_table

RUN = """
import sys, numpy as np, cv2
net = cv2.dnn.readNetFromONNX(sys.argv[1])
net.setInput(np.load(sys.argv[2]))
np.save(sys.argv[3], net.forward())
"""


def install(version: str, cache: Path) -> Path:
    """A folder holding opencv-python-headless ``version`` (and NumPy 1.x for OpenCV 4.x < 4.10,
    built against it), installed there once."""
    target = cache / f"opencv-{version}"
    if not (target / "cv2").is_dir():
        pkgs = [f"opencv-python-headless=={version}"]
        if tuple(int(v) for v in version.split(".")[:2]) < (4, 10):
            pkgs.append("numpy<2")
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target",
                        str(target), *pkgs], check=True)
    return target


def run_one(folder: Path, model: Path, x: np.ndarray, ref: np.ndarray, tmp: Path) -> str:
    """'ok', 'wrong (max diff)', 'error in <OpenCV function>' or 'crash (signal n)'."""
    np.save(tmp / "x.npy", x)
    out = tmp / "y.npy"
    out.unlink(missing_ok=True)
    env = {"PYTHONPATH": str(folder), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-c", RUN, str(model), str(tmp / "x.npy"), str(out)],
                          env=env, capture_output=True, text=True)
    if proc.returncode < 0:
        return f"crash (signal {-proc.returncode})"
    if proc.returncode:
        lines = [ln for ln in proc.stderr.splitlines() if "error" in ln.lower()] or ["?"]
        return "error in " + lines[-1].split(" in function ")[-1]  # OpenCV names the function
    diff = float(np.abs(np.load(out) - ref).max())
    return "ok" if diff < 1e-4 else f"wrong ({diff:.1e})"


def main(argv: list[str]) -> None:
    args = parse_kv("opencv_versions.py", {
        "versions": ["4.8.1.78", "4.10.0.84", "4.11.0.86", "4.14.0.94", "5.1.0.95"],
        "sizes": [[64, 80], [360, 640], [720, 1280], [1080, 1920]],
        "cache": str(Path.home() / ".cache" / "srnet" / "opencv-versions")}, argv)
    net = load_model("x2").net
    rows = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        files = {s: export_onnx(net, tmp / f"{s}.onnx", io="rgb", shuffle=s) for s in SHUFFLES}
        graph = export_module(net, "rgb")
        inputs = {}
        for h, w in args["sizes"]:
            x = np.random.default_rng(h * w).random((1, 3, h, w), dtype=np.float32)
            with torch.no_grad():
                inputs[(h, w)] = (x, graph(torch.from_numpy(x)).numpy())
        for version in args["versions"]:
            folder = install(version, Path(args["cache"]))
            for shuffle, model in files.items():
                cells = [run_one(folder, model, x, ref, tmp) for x, ref in inputs.values()]
                rows.append([version, shuffle, *cells])
                print(f"OpenCV {version} shuffle={shuffle}: {cells}", flush=True)
    print(markdown_table(["OpenCV", "shuffle", *(f"LR {w}x{h} (x2)" for h, w in args["sizes"])],
                         rows))


if __name__ == "__main__":
    main(sys.argv[1:])
