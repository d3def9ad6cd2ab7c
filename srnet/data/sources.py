"""Where images come from: the folder layouts srnet reads, as lists of :class:`Record`.

A *source* is a small object with ``records() -> list[Record]``; configs build them with
``_target_``. Each record names an HR image (a file, or an in-memory array for the embedded samples)
and, for paired sets, the matching LR file.

* :class:`ImageFolder`  any folder of HR images (T91, BSDS500/train, DIV2K_train_HR, ...)
* :class:`SampleImages` the photographs shipped inside scikit-image's wheel (no download)
* :class:`PairedBenchmark` ``<set>/X<s>/{HR,LR}/`` (the layout of ../shared/datasets/benchmark), or
  the EDSR layout ``<set>/HR/x.png`` + ``<set>/LR_bicubic/X<s>/x<s>.png``
* :class:`DIV2K` ``DIV2K_{train,valid}_HR/0001.png``, with the official
  ``DIV2K_{train,valid}_LR_bicubic/X<s>/0001x<s>.png`` when present
* :class:`BSDS500` ``BSDS500/{train,val,test}/`` or the tarball's ``BSR/BSDS500/data/images/...``
* :class:`Holdout` a validation split carved out of training sources (every n-th image)

Every layout is described in ``data/README.md``. Missing folders and HR/LR count mismatches raise
here, naming the path; unreadable files and HR/LR size mismatches are found by
``srnet.data.preflight`` before training starts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from srnet.io.images import is_image_file, read_rgb


@dataclass
class Record:
    """One image: ``hr`` is a path or a uint8 (H, W, 3) array; ``lr`` the paired LR file if any."""

    name: str
    hr: Path | np.ndarray
    lr: Path | None = None

    def load_hr(self) -> np.ndarray:
        return self.hr if isinstance(self.hr, np.ndarray) else read_rgb(self.hr)

    def load_lr(self) -> np.ndarray | None:
        return None if self.lr is None else read_rgb(self.lr)


def list_images(folder: str | Path, key: str = "path") -> list[Path]:
    """Sorted image files directly inside ``folder``; errors name the folder and the config key."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(f"{key}: folder {folder} does not exist")
    files = sorted(p for p in folder.iterdir() if p.is_file() and is_image_file(p))
    if not files:
        raise FileNotFoundError(f"{key}: no images (png/jpg/bmp/tif/webp) in {folder}")
    return files


class ImageFolder:
    """Every image file in ``root`` (not recursive) is an HR image; ``limit`` keeps the first N."""

    def __init__(self, root: str | Path, limit: int | None = None) -> None:
        self.root, self.limit = Path(root), limit

    def records(self) -> list[Record]:
        files = list_images(self.root, "data root")[: self.limit]
        return [Record(p.stem, p) for p in files]


# Colour photographs (and a few textures) in scikit-image's wheel. `camera` is grey, kept as RGB.
SAMPLE_SPLITS = {
    "train": ["astronaut.png", "coffee.png", "rocket.jpg", "motorcycle_left.png", "ihc.png",
              "retina.jpg", "brick.png", "grass.png", "gravel.png"],
    "val": ["chelsea.png", "camera.png"],
}


class SampleImages:
    """The embedded default data set: natural photographs that ship inside scikit-image."""

    def __init__(self, split: str = "train") -> None:
        if split not in SAMPLE_SPLITS:
            raise ValueError(f"sample split {split!r}: choose one of {sorted(SAMPLE_SPLITS)}")
        self.split = split

    def records(self) -> list[Record]:
        root = resources.files("skimage") / "data"
        out = []
        for name in SAMPLE_SPLITS[self.split]:
            with resources.as_file(root / name) as path:
                out.append(Record(Path(name).stem, read_rgb(path)))
        return out


def _paired(hr: list[Path], lr: dict[str, Path], where: Path, scale: int) -> list[Record]:
    """Records pairing each HR file with ``lr[hr.name]``; errors list the unpaired files."""
    missing = [p.name for p in hr if p.name not in lr]
    extra = sorted(set(lr) - {p.name for p in hr})
    if missing or extra:
        raise FileNotFoundError(
            f"{where}: HR/LR mismatch at X{scale}: {len(hr)} HR vs {len(lr)} LR files; "
            f"HR without LR: {missing[:10]}; LR without HR: {extra[:10]}")
    return [Record(p.stem, p, lr[p.name]) for p in hr]


class PairedBenchmark:
    """A benchmark set with MATLAB-made LR files, in either of two layouts under ``root``:

    * ``X<scale>/HR/*.png`` with same-named ``X<scale>/LR/*.png`` (../shared/datasets/benchmark);
    * EDSR's ``HR/<x>.png`` with ``LR_bicubic/X<scale>/<x>x<scale>.png``.

    With ``use_lr=False`` only the HR images are used and LR is made by srnet's degradation.
    """

    def __init__(self, root: str | Path, scale: int, use_lr: bool = True) -> None:
        self.root, self.scale, self.use_lr = Path(root).expanduser(), int(scale), use_lr

    def records(self) -> list[Record]:
        s, root = self.scale, self.root
        if (root / f"X{s}" / "HR").is_dir():
            hr = list_images(root / f"X{s}" / "HR", "benchmark HR")
            if not self.use_lr:
                return [Record(p.stem, p) for p in hr]
            lr = {p.name: p for p in list_images(root / f"X{s}" / "LR", "benchmark LR")}
            return _paired(hr, lr, root, s)
        if (root / "HR").is_dir():
            hr = list_images(root / "HR", "benchmark HR")
            if not self.use_lr:
                return [Record(p.stem, p) for p in hr]
            lr_dir = root / "LR_bicubic" / f"X{s}"
            suffix = re.compile(rf"x{s}$")
            lr = {suffix.sub("", p.stem) + p.suffix: p for p in list_images(lr_dir, "benchmark LR")}
            return _paired(hr, lr, lr_dir, s)
        raise FileNotFoundError(
            f"benchmark root {root}: expected {root / f'X{s}' / 'HR'} (with X{s}/LR) or "
            f"{root / 'HR'} (with LR_bicubic/X{s}); neither exists")


class DIV2K:
    """DIV2K (Agustsson and Timofte, 2017): ``root/DIV2K_<split>_HR/0001.png`` ...

    Args:
        root: the folder holding ``DIV2K_train_HR`` / ``DIV2K_valid_HR``.
        split: ``train`` (0001-0800) or ``valid`` (0801-0900).
        scale: SR factor; picks ``DIV2K_<split>_LR_bicubic/X<scale>/<name>x<scale>.png``.
        use_lr: pair the official bicubic LR files: ``True`` requires them, ``False`` ignores them
            (LR made on the fly by srnet's degradation), ``None`` uses them when the folder exists.
        limit: keep the first N images (e.g. 10 validation images, 0801-0810).
    """

    SPLITS = ("train", "valid")

    def __init__(self, root: str | Path, split: str = "train", scale: int = 2,
                 use_lr: bool | None = None, limit: int | None = None) -> None:
        if split not in self.SPLITS:
            raise ValueError(f"DIV2K split {split!r}: choose one of {self.SPLITS}")
        self.root, self.split, self.scale = Path(root).expanduser(), split, int(scale)
        self.use_lr, self.limit = use_lr, limit

    def records(self) -> list[Record]:
        s = self.scale
        hr = list_images(self.root / f"DIV2K_{self.split}_HR", "DIV2K HR")[: self.limit]
        lr_dir = self.root / f"DIV2K_{self.split}_LR_bicubic" / f"X{s}"
        use_lr = lr_dir.is_dir() if self.use_lr is None else self.use_lr
        if not use_lr:
            return [Record(p.stem, p) for p in hr]
        if not lr_dir.is_dir():
            raise FileNotFoundError(f"DIV2K LR: folder {lr_dir} does not exist (use_lr=true)")
        lr = [lr_dir / f"{p.stem}x{s}.png" for p in hr]
        missing = [str(p) for p in lr if not p.is_file()]
        if missing:
            raise FileNotFoundError(f"{lr_dir}: {len(missing)} of {len(hr)} LR files missing: "
                                    f"{missing[:10]}")
        return [Record(p.stem, p, q) for p, q in zip(hr, lr, strict=True)]


class BSDS500:
    """Berkeley Segmentation Dataset 500: ``root/BSDS500/<split>/*.jpg``.

    ``root`` may also be the ``BSDS500`` folder itself, or hold the official tarball's
    ``BSR/BSDS500/data/images/<split>/``. Splits: ``train`` (200), ``val`` (100, = BSD100's
    pictures), ``test`` (200).
    """

    SPLITS = ("train", "val", "test")

    def __init__(self, root: str | Path, split: str = "train", limit: int | None = None) -> None:
        if split not in self.SPLITS:
            raise ValueError(f"BSDS500 split {split!r}: choose one of {self.SPLITS}")
        self.root, self.split, self.limit = Path(root).expanduser(), split, limit

    def folder(self) -> Path:
        tries = [self.root / "BSDS500" / self.split, self.root / self.split,
                 self.root / "BSR" / "BSDS500" / "data" / "images" / self.split,
                 self.root / "data" / "images" / self.split]
        for folder in tries:
            if folder.is_dir():
                return folder
        raise FileNotFoundError(f"BSDS500 {self.split}: none of these folders exists: "
                                + ", ".join(map(str, tries)))

    def records(self) -> list[Record]:
        files = list_images(self.folder(), "BSDS500")[: self.limit]
        return [Record(p.stem, p) for p in files]


class Holdout:
    """Split training sources into a training part and a held-out validation part.

    Every ``every``-th record (by position, after concatenating the sources in order, starting at
    ``offset``) is held out. ``part="val"`` returns the held-out records, ``part="train"`` the rest,
    so the two never overlap and settings can be chosen without touching a test set.
    """

    PARTS = ("train", "val")

    def __init__(self, sources, part: str = "train", every: int = 10, offset: int = 0) -> None:
        if part not in self.PARTS:
            raise ValueError(f"Holdout part {part!r}: choose one of {self.PARTS}")
        if int(every) < 2:
            raise ValueError(f"Holdout every={every}: must be >= 2 (1 would hold out everything)")
        self.sources = [as_source(s) for s in sources]
        self.part, self.every, self.offset = part, int(every), int(offset)

    def records(self) -> list[Record]:
        recs = [r for src in self.sources for r in src.records()]
        held = [(i - self.offset) % self.every == 0 for i in range(len(recs))]
        return [r for r, h in zip(recs, held, strict=True) if h == (self.part == "val")]


def as_source(src):
    """A source object as is; a path string means :class:`ImageFolder` of that path."""
    if isinstance(src, (str, Path)):
        return ImageFolder(src)
    if not hasattr(src, "records"):
        raise TypeError(f"a data source must be a folder path or have records(); got {src!r}")
    return src
