"""The package's architecture, enforced by parsing every module's imports.

* ``srnet.nets`` and ``srnet.ops`` import nothing else of srnet, and no Lightning, Hydra or PIL;
* ``srnet.data`` never imports ``srnet.train``;
* ``srnet.infer`` and ``srnet.deploy`` (and ``srnet.io``) never import Lightning or ``srnet.train``;
* no module imports another module's ``_private`` names;
* at most 3 top-level modules in ``srnet/`` beside its sub-packages; no file over 250 lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from helpers import ROOT

PKG = ROOT / "srnet"
MODULES = sorted(PKG.rglob("*.py"))


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module imported, names taken from it) for every import statement, at any depth."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(a.name, []) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.module, [a.name for a in node.names]))
    return out


def sub_package(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "srnet" else None


FORBIDDEN = {  # sub-package -> prefixes its modules must not import
    "nets": ("srnet", "lightning", "pytorch_lightning", "hydra", "omegaconf", "PIL"),
    "ops": ("srnet", "lightning", "pytorch_lightning", "hydra", "omegaconf", "PIL"),
    "data": ("srnet.train",),
    "infer": ("srnet.train", "lightning", "pytorch_lightning"),
    "deploy": ("srnet.train", "lightning", "pytorch_lightning"),
    "io": ("srnet.train", "lightning", "pytorch_lightning"),
}


def violates(mod: str, own: str, banned: tuple[str, ...]) -> bool:
    if own in ("nets", "ops") and mod.startswith(f"srnet.{own}"):
        return False  # inside its own sub-package
    return any(mod == b or mod.startswith(b + ".") for b in banned)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_layer_rules(path: Path) -> None:
    own = sub_package(module_name(path))
    bad = [m for m, _ in imports(path) if own in FORBIDDEN and violates(m, own, FORBIDDEN[own])]
    assert not bad, f"{module_name(path)} (srnet.{own}) must not import {bad}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_no_private_names_of_other_modules(path: Path) -> None:
    me = module_name(path)
    bad = [f"{m}.{n}" for m, names in imports(path) if m.startswith("srnet") and m != me
           for n in names if n.startswith("_") and not n.startswith("__")]
    assert not bad, f"{me} imports private names {bad}"


def test_top_level_is_small_and_files_are_short() -> None:
    top = sorted(p.name for p in PKG.glob("*.py"))
    assert len(top) <= 3, f"srnet/ has {len(top)} top-level modules: {top}"
    long = {module_name(p): n for p in MODULES if (n := len(p.read_text().splitlines())) > 250}
    assert not long, f"files over 250 lines: {long}"


def test_the_rules_catch_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import lightning as L\nfrom srnet.train.module import _private\n")
    found = imports(bad)
    assert violates(found[0][0], "infer", FORBIDDEN["infer"])
    assert violates(found[1][0], "nets", FORBIDDEN["nets"])
    assert found[1][1] == ["_private"]
