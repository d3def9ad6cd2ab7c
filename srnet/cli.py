"""Console entry points: ``srnet-train`` is ``python train.py``, ``srnet-infer`` is
``python infer.py``, with the same Hydra configs (:data:`srnet.CONFIG_DIR`: shipped inside the
wheel, or the checkout's ``configs/``). :func:`parse_kv` reads the ``key=value`` overrides of the
commands in ``scripts/`` (Hydra's override syntax, without Hydra's run directories).
"""

from __future__ import annotations

import sys

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ConfigAttributeError, ConfigKeyError

from srnet import CONFIG_DIR


def _hydra_main(config_name: str, task) -> None:
    import hydra

    if not (CONFIG_DIR / f"{config_name}.yaml").is_file():
        sys.exit(f"srnet: {CONFIG_DIR / config_name}.yaml not found (a broken install?)")
    hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name=config_name)(task)()


def train_main() -> None:
    """``srnet-train``: the same as ``python train.py``."""
    from srnet.train.run import main
    from srnet.train.rundirs import register_resolvers

    register_resolvers()
    _hydra_main("train", main)


def infer_main() -> None:
    """``srnet-infer``: the same as ``python infer.py``."""

    from srnet.infer.app import infer

    def task(cfg: DictConfig) -> None:
        sys.exit(infer(cfg))

    _hydra_main("infer", task)


def parse_kv(prog: str, defaults: dict, argv: list[str]) -> dict:
    """Merge ``argv`` (``["key=value", ...]``, Hydra's override grammar: ``a.b=1``,
    ``xs=[1,2]``, ``d={k:v}``, quoted strings) over ``defaults``; exit with a message naming the
    offending argument and the allowed keys on anything else."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    cfg = OmegaConf.create(defaults)
    OmegaConf.set_struct(cfg, True)
    bad = [a for a in argv if "=" not in a]
    if bad:
        raise SystemExit(f"{prog}: arguments are key=value, got {bad}; keys: {list(cfg)}")
    try:
        overrides = OverridesParser.create().parse_overrides(argv)
    except HydraException as e:
        raise SystemExit(f"{prog}: {e}") from None
    for o in overrides:
        try:
            OmegaConf.update(cfg, o.key_or_group, o.value(), merge=False)
        except (ConfigKeyError, ConfigAttributeError):
            raise SystemExit(f"{prog}: unknown key {o.key_or_group!r}; allowed keys: "
                             f"{list(cfg)}") from None
    return OmegaConf.to_container(cfg)
