"""Start-up: build what a training config describes, and name every mistake before any work starts.

``srnet.train.run.train`` calls :func:`build`. It builds the pieces in turn and collects the
error each constructor raises, so the checks live once, in the objects that own them:

* ``scale`` in ``srnet.nets.fsrcnn.SCALES``, and ``model.net.scale`` equal to it (a config-level rule);
* ``model``: the ``SRSystem`` (the network and its tail: a ``deconv`` kernel must be a multiple of
  the scale unless ``model.net.allow_checkerboard=true``; the loss; ``model.init_from``), and
  ``model.loss_border`` leaving some of ``data.patch_size`` to score;
* ``data.train[i]`` / ``data.val.<name>``: each source, built on its own so its error names its key;
* ``data``: the ``SRDataModule`` (sizes) and its ``setup("fit")``: the pre-flight check of every
  file, and training images big enough for one patch (or, with ``data.skip_bad=true``, left out
  and listed). The images are decoded here once; training reuses this datamodule;
* ``trainer.precision`` (``srnet.train.precision.resolve_precision``);
* ``ckpt_path``: exists, and holds the same architecture as ``model.net``.

Every problem found is raised together as one :class:`ConfigError`.
Check a config without training: ``python -m srnet.train.config_check [overrides ...]``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hydra
from omegaconf import DictConfig, OmegaConf

from srnet.nets.fsrcnn import SCALES, FSRCNNConfig

# Architecture fields that must match for a checkpoint to resume this config (tail_init and
# allow_checkerboard only matter when building a fresh network).
ARCH_KEYS = ("arch", "scale", "color_mode", "d", "s", "m", "tail", "tail_kernel", "skip")


class ConfigError(ValueError):
    """Raised with every problem found (``problems``: one line each)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid configuration:\n  - " + "\n  - ".join(problems))


@dataclass
class Built:
    """What a valid config builds: the run uses these objects as they are."""

    model: Any  # srnet.train.module.SRSystem
    datamodule: Any  # srnet.data.datamodule.SRDataModule, set up for fitting
    precision: str  # a Lightning precision flag
    ckpt_path: str | None  # the checkpoint to resume, resolved (``last`` -> a file)


def _message(err: BaseException) -> str:
    """The constructor's own words: Hydra wraps them in an InstantiationException."""
    while err.__cause__ is not None and type(err).__name__ == "InstantiationException":
        err = err.__cause__
    return str(err)


def _attempt(problems: list[str], key: str, make: Callable[[], Any]) -> Any:
    """``make()``, or None with its error added to ``problems`` (prefixed by ``key`` unless the
    message already starts with a config key)."""
    try:
        return make()
    except Exception as e:  # any constructor error is a config problem to report, not a crash
        msg = _message(e)
        known = key.split(".")[0]
        problems.append(msg if msg.startswith((key, f"{known}.", "scale=")) else f"{key}: {msg}")
        return None


def _sources(cfg: DictConfig, problems: list[str]) -> tuple[list, dict] | None:
    """``data.train`` / ``data.val`` built one by one, so each error names its key."""
    def one(src):
        from srnet.data.sources import as_source

        source = as_source(src if isinstance(src, str) else hydra.utils.instantiate(src))
        if not source.records():
            raise ValueError("no images")
        return source

    before = len(problems)
    given = cfg.data.get("train") or []
    single = isinstance(given, str)  # data.train=/folder: that one folder, named as typed
    train = [_attempt(problems, "data.train" if single else f"data.train[{i}]",
                      lambda s=s: one(s)) for i, s in enumerate([given] if single else given)]
    val = {n: _attempt(problems, f"data.val.{n}", lambda s=s: one(s))
           for n, s in (cfg.data.get("val") or {}).items()}
    return (train, val) if len(problems) == before else None


def _check_resume(cfg: DictConfig, model, problems: list[str]) -> str | None:
    from srnet.io.checkpoints import check_compatible, read
    from srnet.train.rundirs import resolve_ckpt_path

    path = _attempt(problems, "ckpt_path",
                    lambda: resolve_ckpt_path(cfg.get("ckpt_path"), cfg.paths.output_dir))
    if path is None or model is None:
        return path

    def compatible() -> None:
        held, _, _, _ = read(path)
        held = {**FSRCNNConfig().to_dict(), "tail_kernel": None, **held}  # older files: defaults
        want = model.net.cfg.to_dict()
        check_compatible(held, {k: want[k] for k in ARCH_KEYS}, f"ckpt_path={path}")

    _attempt(problems, "ckpt_path", compatible)
    return path


def build(cfg: DictConfig) -> Built:
    """Build the model, the datamodule (set up) and the trainer's precision of a composed config.

    Raises:
        ConfigError: listing every problem found.
    """
    from srnet.train.precision import resolve_precision

    problems: list[str] = []
    scale = cfg.get("scale")
    if scale not in SCALES:
        problems.append(f"scale={scale!r} is not supported; choose one of {list(SCALES)}")
    net_scale = OmegaConf.select(cfg, "model.net.scale")
    if scale in SCALES and net_scale != scale:
        problems.append(f"model.net.scale={net_scale} differs from scale={scale}: set only the "
                        "top-level `scale`")
    model = _attempt(problems, "model", lambda: hydra.utils.instantiate(cfg.model)) \
        if not problems else None
    border, patch = OmegaConf.select(cfg, "model.loss_border"), OmegaConf.select(cfg, "data.patch_size")
    if border is not None and (isinstance(border, bool) or not isinstance(border, int) or border < 0):
        problems.append(f"model.loss_border={border!r}: a whole number of LR pixels >= 0")
    elif model is not None and isinstance(patch, int) and 2 * (border or 0) >= patch:
        problems.append(f"model.loss_border={border} leaves nothing of data.patch_size={patch} "
                        f"to score: raise data.patch_size above {2 * border}")
    precision = _attempt(problems, "trainer.precision", lambda: resolve_precision(
        cfg.trainer.get("precision"), cfg.trainer.get("accelerator")))
    sources = _sources(cfg, problems)
    datamodule = None
    if sources is not None:
        datamodule = _attempt(problems, "data", lambda: hydra.utils.instantiate(
            cfg.data, train=sources[0], val=sources[1], _convert_="none"))
    if datamodule is not None and not problems:  # decoding every image is worth it only now
        def set_up():
            datamodule.setup("fit")  # the pre-flight check, too-small images, rescaled copies
            return datamodule

        datamodule = _attempt(problems, "data", set_up)
    ckpt_path = _check_resume(cfg, model, problems)
    if problems:
        raise ConfigError(problems)
    return Built(model, datamodule, precision, ckpt_path)


if __name__ == "__main__":
    import sys

    from hydra import compose, initialize_config_dir
    from hydra.core.hydra_config import HydraConfig

    from srnet import CONFIG_DIR

    root = Path.cwd()
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        composed = compose("train", overrides=sys.argv[1:], return_hydra_config=True)
        composed.hydra.runtime.output_dir = str(root / "logs" / "config_check")
        composed.hydra.runtime.cwd = str(root)
        HydraConfig.instance().set_config(composed)
        try:
            build(composed)
        except ConfigError as err:
            sys.exit(str(err))
    print("configuration OK")
