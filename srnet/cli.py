"""Console entry points: ``srnet-train`` is ``python train.py``, ``srnet-infer`` is
``python infer.py``, with the same Hydra configs (:data:`srnet.CONFIG_DIR`: shipped inside the
wheel, or the checkout's ``configs/``).

Before Hydra runs, :func:`check_argv` reads the overrides the way Hydra will: the value of a key
that holds paths (``input``, ``output``, ``ckpt_path``) is quoted for Hydra when it names an
existing file or when Hydra's grammar cannot take it (``input=фото.png``, ``input=it's.png``,
``input=a,b [1].png``), so a file name is taken as it is; an override Hydra would refuse (an
unknown key, a value it cannot parse) is a usage error with exit code 2, said in one line naming
what was typed.
"""

from __future__ import annotations

import difflib
import os
import re
import sys

from omegaconf import DictConfig

from srnet import CONFIG_DIR

EXIT_USAGE = 2
PATH_KEYS = {"infer": ("input", "output", "ckpt_path"), "train": ("ckpt_path",)}
# Hydra's flags that take a value, and flags after which its own handling is left alone.
VALUED = {"--cfg", "-c", "--package", "-p", "--info", "-i", "--experimental-rerun"}
HANDS_OFF = {"--help", "-h", "--hydra-help", "--shell-completion", "-sc", "--config-path", "-cp",
             "--config-name", "-cn", "--config-dir", "-cd", "--experimental-rerun", "--multirun",
             "-m", "--version"}


def usage_exit(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(EXIT_USAGE)


def hydra_quote(value: str) -> str:
    """``value`` as a quoted string of Hydra's override grammar that reads back as itself."""
    q = "'" if "'" not in value or '"' in value else '"'
    body = re.sub(r"(\\*)(" + q + r"|$)",  # backslashes before a quote or the end: doubled
                  lambda m: m.group(1) * 2 + ("\\" + m.group(2) if m.group(2) else ""), value)
    body = re.sub(r"(\\*)\$\{", lambda m: m.group(1) * 2 + "\\${", body)  # no interpolation
    return q + body + q


def _overrides(args: list[str]) -> list[int] | None:
    """Indices of the overrides among ``args``, or None when Hydra flags ask to be left alone."""
    out, skip = [], False
    for i, a in enumerate(args):
        if skip:
            skip = False
        elif a.split("=", 1)[0] in HANDS_OFF:
            return None
        elif a.startswith("-"):
            skip = a in VALUED
        else:
            out.append(i)
    return out


def _parse(parser, arg: str, paths: tuple[str, ...]) -> tuple[str, str | None]:
    """(the override to give Hydra, the raw path value when it was quoted for Hydra)."""
    from hydra.errors import OverrideParseException

    key, _, value = arg.partition("=")
    is_path = key.lstrip("+~") in paths and value
    if is_path and os.path.lexists(os.path.expanduser(value)):
        return f"{key}={hydra_quote(value)}", value  # an existing file: its name, literally
    try:
        parser.parse_overrides([arg])
        return arg, None
    except OverrideParseException as e:
        if not is_path:
            reason = str(e).splitlines()[0]
            usage_exit(f"{arg}: Hydra cannot parse this value ({reason}); quote it the way "
                       f"docs/inference.md says, e.g. '{key}=\"...\"'")
    return f"{key}={hydra_quote(value)}", value


def check_argv(config_name: str, args: list[str]) -> list[str]:
    """``args`` (``sys.argv[1:]``) as Hydra should get them; exits with code 2 on a usage error."""
    from hydra import compose, initialize_config_dir
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from omegaconf import OmegaConf

    where = _overrides(args)
    if where is None:
        return args
    args, parser, quoted = list(args), OverridesParser.create(), {}
    for i in where:
        args[i], raw = _parse(parser, args[i], PATH_KEYS.get(config_name, ()))
        if raw is not None:
            quoted[args[i].split("=", 1)[0]] = raw
    overrides = [args[i] for i in where]
    script = "train.py" if config_name == "train" else "infer.py"
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        try:
            cfg, error, base = compose(config_name, overrides), None, None
        except Exception as e:  # hydra.errors.*, omegaconf.errors.*: what was typed is wrong
            cfg, error = None, e
            base = compose(config_name, [])  # the settings there are, for the hint (errors only)
    if error is not None:
        e, text = error, str(error.__cause__ or error)
        key = re.search(r"full_key: (\S+)", text) or re.search(r"Could not override '([^']+)'", str(e))
        if key and "not in struct" in text:
            name = key.group(1)
            typed = next((o for o in overrides if o.split("=")[0].lstrip("+~") == name), name)
            known = [k for k, _ in _flat(OmegaConf.to_container(base))]
            near = difflib.get_close_matches(name, known, 3)
            score = {k: difflib.SequenceMatcher(None, name, k).ratio() for k in near}
            near = [k for k in near if score[k] >= score[near[0]] - 0.1]  # the clear best alone
            hint = f" (did you mean {' or '.join(near)}?)" if near else ""
            usage_exit(f"{typed}: {script} has no setting {name!r}{hint}; its settings are in "
                       f"configs/{config_name}.yaml (python {script} --cfg job shows them)")
        sweep = re.search(r"Ambiguous value for argument '(.*)'", text)
        if sweep:
            usage_exit(f"{sweep.group(1)}: commas make several values (a Hydra sweep); a list is "
                       f"key=[a,b], a value with a comma is quoted: key='a,b'")
        usage_exit(f"{' '.join(overrides)}: {text.splitlines()[0]}")
    for key, raw in quoted.items():
        if OmegaConf.select(cfg, key) != raw:  # cannot happen by construction; be sure anyway
            usage_exit(f"{key}={raw}: this name cannot be passed on the command line; list it in "
                       f"a file and pass {key}=@list.txt (docs/inference.md)")
    return args


def _flat(d: object, prefix: str = "") -> list[tuple[str, object]]:
    """A nested dict as (dotted key, value) pairs."""
    if not isinstance(d, dict) or not d:
        return [(prefix, d)]
    return [kv for k, v in d.items() for kv in _flat(v, f"{prefix}.{k}" if prefix else str(k))]


def _hydra_main(config_name: str, task) -> None:
    import hydra

    if not (CONFIG_DIR / f"{config_name}.yaml").is_file():
        sys.exit(f"srnet: {CONFIG_DIR / config_name}.yaml not found (a broken install?)")
    sys.argv[1:] = check_argv(config_name, sys.argv[1:])
    hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name=config_name)(task)()


def train_main() -> None:
    """``srnet-train``: the same as ``python train.py``."""
    from srnet.train.run import main
    from srnet.train.rundirs import register_resolvers

    register_resolvers()
    _hydra_main("train", main)


def run_infer(cfg: DictConfig) -> int:
    """``infer.py`` for a composed config: ``mode=evaluate`` scores the inputs
    (:func:`srnet.analysis.evaluation.evaluate_inputs`), ``mode=upscale`` upscales them
    (:func:`srnet.app.app.infer`). Returns the exit code."""
    if cfg.get("mode") == "evaluate":
        from srnet.analysis.evaluation import evaluate_inputs

        return evaluate_inputs(cfg)
    from srnet.app.app import infer

    return infer(cfg)


def infer_main() -> None:
    """``srnet-infer``: the same as ``python infer.py``."""
    _hydra_main("infer", lambda cfg: sys.exit(run_infer(cfg)))
