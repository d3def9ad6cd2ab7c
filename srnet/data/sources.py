"""Where images come from: the folder layouts srnet reads, as lists of :class:`Record`.

A *source* is a small object with ``records() -> list[Record]``; configs build them with
``_target_``. Each record names an HR image (a file, or an in-memory array for the embedded samples)
and, for paired sets, the matching LR file.

* :class:`ImageFolder`  any folder of HR images (T91, BSDS500/train, DIV2K_train_HR, ...)
* :class:`SampleImages` the photographs shipped inside scikit-image's wheel (no download)
* :class:`PairedBenchmark` ``<set>/X<s>/{HR,LR}/`` (the layout of ../shared/datasets/benchmark)
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from srnet.imageio import is_image_file, read_rgb


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


class PairedBenchmark:
    """``root/X<scale>/HR/*.png`` with same-named ``root/X<scale>/LR/*.png`` (MATLAB-made LR).

    With ``use_lr=False`` only the HR images are used and LR is made by srnet's degradation.
    """

    def __init__(self, root: str | Path, scale: int, use_lr: bool = True) -> None:
        self.root, self.scale, self.use_lr = Path(root), int(scale), use_lr

    def records(self) -> list[Record]:
        hr_dir = self.root / f"X{self.scale}" / "HR"
        lr_dir = self.root / f"X{self.scale}" / "LR"
        hr = list_images(hr_dir, "benchmark HR")
        if not self.use_lr:
            return [Record(p.stem, p) for p in hr]
        lr = {p.name: p for p in list_images(lr_dir, "benchmark LR")}
        missing = [p.name for p in hr if p.name not in lr]
        if missing or len(lr) != len(hr):
            raise FileNotFoundError(
                f"{self.root}: HR/LR mismatch at X{self.scale}: {len(hr)} HR vs {len(lr)} LR files; "
                f"HR without LR: {missing[:10]}")
        return [Record(p.stem, p, lr[p.name]) for p in hr]
