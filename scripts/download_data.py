"""Download DIV2K and BSDS500 from their official sites into the layouts srnet reads.

    python scripts/download_data.py                                  # DIV2K HR + BSDS500
    python scripts/download_data.py datasets=[div2k] lr_scales=[2,3,4] root=/data/sr
    python scripts/download_data.py datasets=[div2k_valid,bsds500]   # 0.5 GB instead of 4 GB

Keys (``key=value``, lists as ``[a,b]``):

* ``datasets``   any of ``div2k`` (train + valid HR, 4 GB), ``div2k_valid`` (0.45 GB), ``bsds500``
* ``lr_scales``  also fetch DIV2K's official bicubic LR (``DIV2K_<split>_LR_bicubic/X<s>/``)
* ``root``       where the data goes; default ``$SRNET_DATA`` or ``../shared/datasets`` next to
  the project (where the data configs look, ``paths.data_dir``)
* ``base_url``   fetch every archive from ``<base_url>/<archive name>`` instead (a mirror)
* ``checksums``  a file of ``<archive name or URL> <size> <sha256>`` lines overriding the table below
* ``keep_archives``  keep the archives in ``<root>/.downloads`` after extracting

Downloads go to ``<name>.part`` and resume with an HTTP Range request after an interruption; each
archive is checked against its size (the table's, else the server's Content-Length) and SHA-256
where known, and the archive formats' own CRCs are checked while extracting. Extraction goes into a
temporary folder inside ``root`` and each finished folder is renamed into place, so a folder that
exists is complete. Result:

    <root>/DIV2K/DIV2K_{train,valid}_HR/0001.png   <root>/DIV2K/DIV2K_train_LR_bicubic/X2/0001x2.png
    <root>/BSDS500/{train,val,test}/*.jpg
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.error import HTTPError
from urllib.request import Request, urlopen

from omegaconf import OmegaConf
from omegaconf.errors import ConfigKeyError
from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
DIV2K_URL = "https://data.vision.ee.ethz.ch/cvl/DIV2K/"
BSDS_URL = "https://www2.eecs.berkeley.edu/Research/Projects/CS/vision/grouping/BSR/"
# Sizes and SHA-256 of the DIV2K archives as recorded by TensorFlow Datasets (url_checksums/div2k).
KNOWN = {
    "DIV2K_train_HR.zip": (3530603713, "9d0b9c463f6e35b6c62cc6a930ee2224f670b34c1df841a57670f9acf0f6c335"),
    "DIV2K_valid_HR.zip": (448993893, "20dd31fd84d777bc1cf5d6b7654a3f569c0aec74458ae094122ad1d0489900fc"),
    "DIV2K_train_LR_bicubic_X2.zip": (925390592, "a53a424317575838dadce4bcd97cf7b744d6855f43740ed5f0245af3cf4bd850"),
    "DIV2K_valid_LR_bicubic_X2.zip": (117763600, "60eed9875c697df51204aa579e2a699e1d5215095788a097ff54dd17e2664d57"),
}
DATASETS = ("div2k", "div2k_valid", "bsds500")


@dataclass
class Archive:
    """One file to fetch; ``products`` maps a folder under root to the folder inside the archive."""

    name: str
    url: str
    products: dict[str, str] = field(default_factory=dict)
    size: int | None = None
    sha256: str | None = None


def archives(datasets: list[str], lr_scales: list[int]) -> list[Archive]:
    """The archives behind the requested data sets, official URLs and known checksums."""
    out = []
    for ds in datasets:
        if ds not in DATASETS:
            raise ValueError(f"datasets: {ds!r} unknown; choose from {DATASETS}")
        if ds.startswith("div2k"):
            for split in ("train", "valid") if ds == "div2k" else ("valid",):
                name = f"DIV2K_{split}_HR"
                out.append(Archive(f"{name}.zip", DIV2K_URL + f"{name}.zip", {f"DIV2K/{name}": name}))
                for s in lr_scales:
                    if s not in (2, 3, 4):
                        raise ValueError(f"lr_scales: {s} not available; DIV2K has X2, X3, X4")
                    lr = f"DIV2K_{split}_LR_bicubic"
                    out.append(Archive(f"{lr}_X{s}.zip", DIV2K_URL + f"{lr}_X{s}.zip",
                                       {f"DIV2K/{lr}/X{s}": f"{lr}/X{s}"}))
        else:
            out.append(Archive("BSR_bsds500.tgz", BSDS_URL + "BSR_bsds500.tgz",
                               {f"BSDS500/{s}": f"BSR/BSDS500/data/images/{s}"
                                for s in ("train", "val", "test")}))
    for a in out:
        a.size, a.sha256 = KNOWN.get(a.name, (None, None))
    return out


def read_checksums(path: str | Path) -> dict[str, tuple[int, str]]:
    """``<name or URL> <size> <sha256>`` lines -> {archive name: (size, sha256)}."""
    table = {}
    for line in Path(path).read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            url, size, digest = line.split()
            table[url.rsplit("/", 1)[-1]] = (int(size), digest.lower())
    return table


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def verify(path: Path, size: int | None, sha256: str | None) -> None:
    """Raise naming ``path`` if its size or SHA-256 differs from the expected ones."""
    got = path.stat().st_size
    if size is not None and got != size:
        raise OSError(f"{path}: {got} bytes, expected {size}")
    if sha256 and (digest := sha256_of(path)) != sha256:
        raise OSError(f"{path}: SHA-256 {digest}, expected {sha256}")


def fetch(url: str, dest: Path, size: int | None = None, sha256: str | None = None) -> Path:
    """Download ``url`` to ``dest`` through ``dest.part``, resuming it if present; verify; rename."""
    if dest.exists():
        verify(dest, size, sha256)
        return dest
    part = dest.with_name(dest.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    try:
        resp = urlopen(Request(url, headers={"Range": f"bytes={have}-"} if have else {}), timeout=60)
    except HTTPError as e:
        if e.code != 416 or not have:  # 416: nothing left after `have` bytes, i.e. complete
            raise OSError(f"{url}: HTTP {e.code} {e.reason}") from e
        resp = None
    if resp is not None:
        with resp:
            if have and resp.status != 206:  # the server ignored the Range: start over
                have = 0
            length = resp.headers.get("Content-Length")
            total = have + int(length) if length is not None else None
            if size is not None and total is not None and total != size:
                raise OSError(f"{url}: the server offers {total} bytes, expected {size}")
            size = size if size is not None else total
            with open(part, "ab" if have else "wb") as f, tqdm(
                    total=total, initial=have, unit="B", unit_scale=True, desc=dest.name) as bar:
                while chunk := resp.read(1 << 20):
                    f.write(chunk)
                    bar.update(len(chunk))
    try:
        verify(part, size, sha256)
    except OSError:
        part.unlink()  # a resume cannot repair a wrong file
        raise
    os.replace(part, dest)
    return dest


def extract(archive: Path, products: dict[str, str], root: Path) -> list[Path]:
    """Extract the ``products`` folders of ``archive`` into ``root``; returns the new folders.

    Everything is unpacked into a temporary folder inside ``root`` first; each product is renamed
    into place only once the whole archive has been read, so an existing folder is a complete one.
    Folders already present are left alone.
    """
    todo = {dst: src for dst, src in products.items() if not (root / dst).exists()}
    if not todo:
        return []
    wanted = tuple(src.rstrip("/") + "/" for src in todo.values())
    tmp = Path(tempfile.mkdtemp(prefix=f".extract-{archive.name}-", dir=root))
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:  # CRCs are checked while extracting
                zf.extractall(tmp, [n for n in zf.namelist() if n.startswith(wanted)])
        else:
            with tarfile.open(archive) as tf:  # reading to the end checks the gzip CRC
                members = [m for m in tf.getmembers() if m.name.startswith(wanted)]
                tf.extractall(tmp, members, filter="data")
        missing = [src for src in todo.values() if not (tmp / src).is_dir()]
        if missing:
            raise OSError(f"{archive}: no folder {missing} inside; is it the right archive?")
        for dst, src in todo.items():
            (root / dst).parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp / src, root / dst)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError) as e:
        raise OSError(f"{archive}: corrupt archive ({e}); delete it and run again") from e
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return [root / dst for dst in todo]


def parse_args(argv: list[str]) -> dict:
    cfg = OmegaConf.create({
        "datasets": ["div2k", "bsds500"], "lr_scales": [],
        "root": os.environ.get("SRNET_DATA", str(ROOT.parent / "shared" / "datasets")),
        "base_url": None, "checksums": None, "keep_archives": False})
    OmegaConf.set_struct(cfg, True)
    try:
        cfg = OmegaConf.merge(cfg, OmegaConf.from_dotlist(argv))
    except ConfigKeyError as e:
        raise ValueError(f"unknown key in {argv}; allowed keys: {list(cfg)}") from e
    args = OmegaConf.to_container(cfg)
    for key in ("datasets", "lr_scales"):
        if not isinstance(args[key], list):
            args[key] = [args[key]]
    return args


def main(argv: list[str]) -> list[Path]:
    """Fetch and extract what ``argv`` asks for; returns the data folders now in place."""
    args = parse_args(argv)
    root = Path(args["root"]).expanduser()
    root.mkdir(parents=True, exist_ok=True)
    known = read_checksums(args["checksums"]) if args["checksums"] else {}
    done = []
    for a in archives(args["datasets"], [int(s) for s in args["lr_scales"]]):
        if all((root / dst).is_dir() for dst in a.products):
            print(f"{a.name}: already extracted in {root}")
            done += [root / dst for dst in a.products]
            continue
        url = args["base_url"].rstrip("/") + "/" + a.name if args["base_url"] else a.url
        size, sha = known.get(a.name, (a.size, a.sha256))
        (root / ".downloads").mkdir(exist_ok=True)
        path = fetch(url, root / ".downloads" / a.name, size, sha)
        new = extract(path, a.products, root)
        print(f"{a.name}: extracted {', '.join(str(p) for p in new) or 'nothing new'}")
        if not args["keep_archives"]:
            path.unlink()
        done += [root / dst for dst in a.products]
    return done


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except (OSError, ValueError) as e:
        sys.exit(f"download_data.py: error: {e}")
