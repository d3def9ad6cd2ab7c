"""The ``key=value`` arguments of the commands in ``scripts/``: Hydra's override grammar
(``a.b=1``, ``xs=[1,2]``, ``d={k:v}``, quoted strings) without Hydra's run directories.

Scripts import it as ``from kvargs import parse_kv`` (``scripts/`` is on ``sys.path`` when one of
them runs); the srnet package itself never parses a command line.
"""

from __future__ import annotations

from omegaconf import OmegaConf
from omegaconf.errors import ConfigAttributeError, ConfigKeyError


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
