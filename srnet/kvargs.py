"""``key=value`` command-line arguments for the scripts in ``scripts/`` (Hydra's override style,
without Hydra's run directories): merged over a dict of defaults, unknown keys refused by name."""

from __future__ import annotations

from omegaconf import OmegaConf
from omegaconf.errors import ConfigKeyError


def parse_kv(prog: str, defaults: dict, argv: list[str]) -> dict:
    """Merge ``argv`` (``["key=value", ...]``) over ``defaults``; exit with a message naming the
    offending argument and the allowed keys on anything else."""
    cfg = OmegaConf.create(defaults)
    OmegaConf.set_struct(cfg, True)
    bad = [a for a in argv if "=" not in a]
    if bad:
        raise SystemExit(f"{prog}: arguments are key=value, got {bad}; keys: {list(cfg)}")
    try:
        return OmegaConf.to_container(OmegaConf.merge(cfg, OmegaConf.from_dotlist(argv)))
    except ConfigKeyError as e:
        raise SystemExit(f"{prog}: unknown key in {argv}; allowed keys: {list(cfg)}") from e
