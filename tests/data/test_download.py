"""scripts/download_data.py against a local HTTP server (127.0.0.1) serving archives built here.

Covers: extraction into the layouts srnet reads, resuming a partial download with an HTTP Range
request, checksum and size verification, corrupt archives leaving no folder behind, and a second
run fetching nothing.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import sys
import tarfile
import threading
import zipfile
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from helpers import ROOT, smooth_image
from PIL import Image

from srnet.data.sources import BSDS500, DIV2K

spec = importlib.util.spec_from_file_location("download_data", ROOT / "scripts" / "download_data.py")
dl = importlib.util.module_from_spec(spec)
sys.modules["download_data"] = dl  # dataclasses look their module up there
spec.loader.exec_module(dl)


def png_bytes(h: int, w: int, seed: int, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    Image.fromarray(smooth_image(h, w, seed)).save(buf, format=fmt)
    return buf.getvalue()


def build_archives(folder: Path) -> None:
    """Small look-alikes of DIV2K_valid_HR.zip, DIV2K_valid_LR_bicubic_X2.zip, BSR_bsds500.tgz."""
    folder.mkdir()
    with zipfile.ZipFile(folder / "DIV2K_valid_HR.zip", "w") as zf:
        for i in (801, 802):
            zf.writestr(f"DIV2K_valid_HR/{i:04d}.png", png_bytes(48, 64, i))
    with zipfile.ZipFile(folder / "DIV2K_valid_LR_bicubic_X2.zip", "w") as zf:
        for i in (801, 802):
            zf.writestr(f"DIV2K_valid_LR_bicubic/X2/{i:04d}x2.png", png_bytes(24, 32, i))
    with tarfile.open(folder / "BSR_bsds500.tgz", "w:gz") as tf:
        files = {f"BSR/BSDS500/data/images/{s}/{n}.jpg": png_bytes(32, 48, n, "JPEG")
                 for n, s in enumerate(["train", "train", "val", "test"])}
        files["BSR/BSDS500/data/groundTruth/train/0.mat"] = b"not needed"
        files["BSR/BSDS500/data/images/train/Thumbs.db"] = b"junk"
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))


class RangeHandler(SimpleHTTPRequestHandler):
    """Static files with ``Range: bytes=N-`` support; records each request's Range header."""

    log: list = []

    def log_message(self, *args) -> None:  # keep the test output quiet
        pass

    def do_GET(self) -> None:
        RangeHandler.log.append((self.path, self.headers.get("Range")))
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            self.send_error(404)
            return
        data, start = path.read_bytes(), 0
        rng = self.headers.get("Range")
        if rng:
            start = int(rng.removeprefix("bytes=").split("-")[0])
            if start >= len(data):
                self.send_error(416)
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        self.wfile.write(data[start:])


@pytest.fixture
def server(tmp_path: Path):
    """(base URL, served folder); the folder holds the archives of :func:`build_archives`."""
    served = tmp_path / "served"
    build_archives(served)
    RangeHandler.log = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(RangeHandler, directory=str(served)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", served
    httpd.shutdown()
    httpd.server_close()


def checksums_file(served: Path, path: Path, corrupt: str | None = None) -> Path:
    lines = []
    for f in sorted(served.iterdir()):
        digest = hashlib.sha256(f.read_bytes()).hexdigest()
        lines.append(f"{f.name} {f.stat().st_size} {'0' * 64 if f.name == corrupt else digest}")
    path.write_text("\n".join(lines) + "\n")
    return path


def run(base: str, root: Path, sums: Path, *extra: str) -> list[Path]:
    return dl.main(["datasets=[div2k_valid,bsds500]", "lr_scales=[2]", f"root={root}",
                    f"base_url={base}", f"checksums={sums}", *extra])


def test_official_table_names_the_real_sites():
    names = {a.name: a for a in dl.archives(["div2k", "bsds500"], [2, 3, 4])}
    assert names["DIV2K_train_HR.zip"].url.startswith("https://data.vision.ee.ethz.ch/cvl/DIV2K/")
    assert names["DIV2K_train_HR.zip"].size == 3530603713
    assert "DIV2K_valid_LR_bicubic_X4.zip" in names and "BSR_bsds500.tgz" in names
    with pytest.raises(ValueError, match="lr_scales"):
        dl.archives(["div2k"], [8])


def test_download_extracts_layouts_srnet_reads(server, tmp_path):
    base, served = server
    root = tmp_path / "data"
    run(base, root, checksums_file(served, tmp_path / "sums.txt"))
    recs = DIV2K(root / "DIV2K", "valid", scale=2).records()
    assert [r.name for r in recs] == ["0801", "0802"] and recs[0].lr.name == "0801x2.png"
    assert [len(BSDS500(root, s).records()) for s in ("train", "val", "test")] == [2, 1, 1]
    assert not (root / "BSDS500" / "groundTruth").exists()
    leftovers = [p.name for p in root.iterdir() if p.name.startswith(".extract")]
    assert leftovers == [] and list((root / ".downloads").iterdir()) == []
    # A second run finds everything in place and makes no request.
    RangeHandler.log.clear()
    run(base, root, tmp_path / "sums.txt")
    assert RangeHandler.log == []


def test_partial_download_resumes_with_range(server, tmp_path):
    base, served = server
    root = tmp_path / "data"
    full = (served / "DIV2K_valid_HR.zip").read_bytes()
    (root / ".downloads").mkdir(parents=True)
    (root / ".downloads" / "DIV2K_valid_HR.zip.part").write_bytes(full[:1000])
    run(base, root, checksums_file(served, tmp_path / "sums.txt"))
    assert ("/DIV2K_valid_HR.zip", "bytes=1000-") in RangeHandler.log
    assert len(DIV2K(root / "DIV2K", "valid", 2).records()) == 2


def test_checksum_mismatch_stops_and_names_the_file(server, tmp_path):
    base, served = server
    root = tmp_path / "data"
    sums = checksums_file(served, tmp_path / "sums.txt", corrupt="BSR_bsds500.tgz")
    with pytest.raises(OSError, match=r"BSR_bsds500\.tgz.*SHA-256"):
        run(base, root, sums)
    assert not (root / "BSDS500").exists()
    assert not (root / ".downloads" / "BSR_bsds500.tgz.part").exists()  # no resume of a bad file


def test_corrupt_archive_leaves_no_half_extracted_folder(server, tmp_path):
    base, served = server
    data = bytearray((served / "DIV2K_valid_HR.zip").read_bytes())
    data[len(data) // 3 : len(data) // 3 + 200] = bytes(200)  # damage a member, keep the directory
    (served / "DIV2K_valid_HR.zip").write_bytes(bytes(data))
    root = tmp_path / "data"
    with pytest.raises(OSError, match=r"DIV2K_valid_HR\.zip.*corrupt"):
        run(base, root, checksums_file(served, tmp_path / "sums.txt"))
    assert not (root / "DIV2K" / "DIV2K_valid_HR").exists()
    assert [p.name for p in root.iterdir() if p.name.startswith(".extract")] == []


def test_unknown_dataset_and_key_are_refused(tmp_path):
    with pytest.raises(ValueError, match="div2k_valid"):
        dl.main(["datasets=[div3k]", f"root={tmp_path}"])
    with pytest.raises(ValueError, match="allowed keys"):
        dl.main(["roots=/x"])
