"""Degradation presets by name: the YAML files of the Hydra group ``configs/degradation/``.

``degradation_preset("photo")`` is the dict ``python train.py degradation=photo`` trains with;
evaluation and inference read presets by name here, without Hydra.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import yaml

from srnet import CONFIG_DIR
from srnet.ops.degrader import plain


def preset_dir() -> Path:
    return CONFIG_DIR / "degradation"


def preset_names() -> list[str]:
    """The presets there are (file names without ``.yaml``)."""
    return sorted(p.stem for p in preset_dir().glob("*.yaml"))


def degradation_preset(name: str | Mapping | None) -> dict:
    """A preset dict from its name (``configs/degradation/<name>.yaml``); a dict passes through
    (as a plain copy); None is ``bicubic``. Unknown names list the known ones."""
    if name is None:
        name = "bicubic"
    if isinstance(name, Mapping):
        return plain(name)
    path = preset_dir() / f"{name}.yaml"
    if not isinstance(name, str) or "/" in name or not path.is_file():
        raise ValueError(f"degradation={name!r}: no such preset; choose one of {preset_names()}")
    spec = yaml.safe_load(path.read_text()) or {}
    spec.setdefault("name", name)
    return spec
