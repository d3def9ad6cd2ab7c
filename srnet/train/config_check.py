"""Start-up validation of a composed training config: every mistake found before any work starts.

``srnet.train.run.train`` calls :func:`check_config` first; it raises one :class:`ConfigError`
listing every problem, each naming the config key and the allowed values:

* ``scale`` in ``srnet.nets.SCALES``; ``model.net.scale`` equal to it;
* the architecture builds, and a ``deconv`` tail's kernel is a multiple of the scale unless
  ``model.net.allow_checkerboard=true``;
* ``data.patch_size`` / ``data.batch_size`` positive, ``data.patches_per_epoch`` at least one batch
  (never an empty epoch);
* every ``data.train`` / ``data.val`` source exists, and training images can hold one patch (plus
  its context margin). Too-small images stop the run with their list, or, with
  ``data.skip_bad=true``, are left out by the datamodule with the list printed (:func:`drop_small`);
* ``trainer.precision`` is valid on this device (``srnet.train.precision.resolve_precision``);
* ``ckpt_path`` (and ``model.init_from``) exist; a resumed checkpoint holds the same architecture
  and scale as the config (``srnet.io.checkpoints.check_compatible``).

Check a config without training: ``python -m srnet.train.config_check [overrides ...]``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import hydra
from omegaconf import DictConfig, OmegaConf

from srnet.data.preflight import crop_side, too_small
from srnet.nets import SCALES, FSRCNNConfig

log = logging.getLogger("srnet")
# Architecture fields that must match for a checkpoint to resume this config (tail_init and
# allow_checkerboard only matter when building a fresh network).
ARCH_KEYS = ("arch", "scale", "color_mode", "d", "s", "m", "tail", "tail_kernel", "skip")


class ConfigError(ValueError):
    """Raised with every problem found (``problems``: one line each)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid configuration:\n  - " + "\n  - ".join(problems))


def _sources(cfg: DictConfig) -> tuple[list, list[str]]:
    """Instantiate ``data.train`` / ``data.val`` and list their records; problems name the key."""
    from srnet.data.sources import as_source

    problems, train = [], []
    entries = [(f"data.train[{i}]", src) for i, src in enumerate(cfg.data.get("train") or [])]
    entries += [(f"data.val.{name}", src) for name, src in (cfg.data.get("val") or {}).items()]
    if not cfg.data.get("train"):
        problems.append("data.train is empty: give at least one training source (a folder path "
                        "or a source with _target_)")
    if not cfg.data.get("val"):
        problems.append("data.val is empty: give at least one validation set")
    for key, src in entries:
        try:
            obj = src if isinstance(src, str) else hydra.utils.instantiate(src)  # str: a folder
            records = as_source(obj).records()
        except Exception as e:  # missing folder, no images, unknown _target_, bad arguments
            problems.append(f"{key}: {e}")
            continue
        if not records:
            problems.append(f"{key}: no images")
        if key.startswith("data.train"):
            train += records
    return train, problems


def _check_data(cfg: DictConfig, scale: int | None) -> list[str]:
    data, problems = cfg.data, []
    for key in ("patch_size", "batch_size", "patches_per_epoch"):
        value = data.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            problems.append(f"data.{key}={value!r}: must be a positive integer")
    if not problems and data.patches_per_epoch < data.batch_size:
        problems.append(f"data.patches_per_epoch={data.patches_per_epoch} is less than one batch "
                        f"(data.batch_size={data.batch_size}): an epoch would have no step")
    train, found = _sources(cfg)
    problems += found
    if scale is not None and train and isinstance(data.get("patch_size"), int) \
            and data.patch_size >= 1:
        small, need = too_small(train, scale, data.patch_size), crop_side(scale, data.patch_size)
        if len(small) == len(train):
            problems.append(f"data.patch_size={data.patch_size}: no training image is at least "
                            f"{need}x{need} pixels at x{scale} (patch plus context); lower it")
        elif small and not data.get("skip_bad", False):
            problems.append(
                f"data.patch_size={data.patch_size} at x{scale} needs training images of at least "
                f"{need}x{need} pixels; {len(small)} are smaller (lower data.patch_size, or set "
                f"data.skip_bad=true to leave them out): " + "; ".join(small[:20])
                + (" ..." if len(small) > 20 else ""))
    return problems


def _check_checkpoints(cfg: DictConfig, net: FSRCNNConfig | None) -> list[str]:
    from srnet.io.checkpoints import check_compatible, read
    from srnet.train.rundirs import resolve_ckpt_path

    problems = []
    init_from = cfg.model.get("init_from")
    if init_from and not Path(str(init_from)).expanduser().is_file():
        problems.append(f"model.init_from={init_from}: no such file")
    try:
        path = resolve_ckpt_path(cfg.get("ckpt_path"), cfg.paths.output_dir)
    except FileNotFoundError as e:
        return [*problems, str(e)]
    if path is None:
        return problems
    try:
        held, _, _, _ = read(path)
        held = {**FSRCNNConfig().to_dict(), "tail_kernel": None, **held}  # older files: defaults
        if net is not None:
            want = net.to_dict()
            check_compatible(held, {k: want[k] for k in ARCH_KEYS}, f"ckpt_path={path}")
    except ValueError as e:  # CheckpointError: unreadable, not srnet's, or another architecture
        problems.append(str(e))
    return problems


def check_config(cfg: DictConfig) -> None:
    """Validate a composed training config (see the module docstring).

    Raises:
        ConfigError: listing every problem found.
    """
    problems: list[str] = []
    scale = cfg.get("scale")
    if scale not in SCALES:
        problems.append(f"scale={scale!r} is not supported; choose one of {list(SCALES)}")
        scale = None
    net = None
    net_dict = OmegaConf.to_container(cfg.model.net, resolve=True)
    if scale is not None and net_dict.get("scale") != scale:
        problems.append(f"model.net.scale={net_dict.get('scale')} differs from scale={scale}: set "
                        "only the top-level `scale`")
    elif scale is not None:
        k = net_dict.get("tail_kernel")
        if net_dict.get("tail", "deconv") == "deconv" and k is not None and int(k) % scale \
                and not net_dict.get("allow_checkerboard"):
            problems.append(
                f"model.net.tail_kernel={k} is not a multiple of scale={scale}: the transposed "
                f"convolution would print a checkerboard; allowed: multiples of {scale} "
                f"(null picks {FSRCNNConfig(scale=scale).tail_kernel}), or set "
                f"model.net.allow_checkerboard=true to build it anyway")
        else:
            try:
                net = FSRCNNConfig(**net_dict)
            except (TypeError, ValueError) as e:
                problems.append(f"model.net: {e}")
    try:
        from srnet.train.precision import resolve_precision

        resolve_precision(cfg.trainer.get("precision"), cfg.trainer.get("accelerator"))
    except ValueError as e:
        problems.append(str(e))
    problems += _check_data(cfg, scale)
    problems += _check_checkpoints(cfg, net)
    if problems:
        raise ConfigError(problems)


if __name__ == "__main__":
    import sys

    from hydra import compose, initialize_config_dir
    from hydra.core.hydra_config import HydraConfig

    root = Path(__file__).resolve().parents[2]
    with initialize_config_dir(str(root / "configs"), version_base="1.3"):
        composed = compose("train", overrides=sys.argv[1:], return_hydra_config=True)
        composed.hydra.runtime.output_dir = str(root / "logs" / "config_check")
        composed.hydra.runtime.cwd = str(root)
        HydraConfig.instance().set_config(composed)
        try:
            check_config(composed)
        except ConfigError as err:
            sys.exit(str(err))
    print("configuration OK")
