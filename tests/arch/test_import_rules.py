"""The package's architecture (docs/layout.md), enforced by parsing every module's imports.

Every import statement counts, at any depth: module level, inside functions, and under
``TYPE_CHECKING``.

* ``srnet.nets`` and ``srnet.ops`` import nothing else of srnet, and no Lightning, Hydra or PIL;
* ``srnet.data`` never imports ``srnet.train``;
* ``srnet.train`` reaches none of the inference API (``srnet.infer``), the application
  (``srnet.app``), ``srnet.deploy`` or ``srnet.cli``, not even through other modules;
* the inference API and the application reach nothing of ``srnet.data`` or ``srnet.train``, and
  no Lightning;
* ``srnet.deploy`` and ``srnet.io`` never import Lightning or ``srnet.train``;
* no module under ``srnet/`` imports ``srnet.cli`` (the console scripts sit on top);
* no import circles between modules; no module imports another module's ``_private`` names;
* package ``__init__`` files re-export nothing (one import path per name; ``srnet/__init__.py``'s
  lazy ``load_model`` / ``load_net`` / ``save_weights`` are the exception), no ``noqa: F401``;
* at most 3 top-level modules in ``srnet/``, at most 8 modules in ``srnet.infer`` and in
  ``srnet.app``; no file over 250 lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from helpers import ROOT

PKG = ROOT / "srnet"
MODULES = sorted(PKG.rglob("*.py"))
LIGHTNING = ("lightning", "pytorch_lightning")


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = path.relative_to(root).with_suffix("").parts
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


def graph(paths: list[Path], root: Path = ROOT) -> dict[str, set[str]]:
    """srnet module -> the srnet modules it imports (``from srnet.x import y`` counts y when y
    is a module)."""
    names = {module_name(p, root) for p in paths}
    out: dict[str, set[str]] = {}
    for p in paths:
        edges = set()
        for mod, taken in imports(p):
            if not (mod == "srnet" or mod.startswith("srnet.")):
                continue
            subs = [f"{mod}.{n}" for n in taken if f"{mod}.{n}" in names]
            edges.update(subs or [mod])
        out[module_name(p, root)] = edges - {module_name(p, root)}
    return out


def reach(g: dict[str, set[str]], start: str) -> set[str]:
    """Every module ``start`` imports, directly or through others (packages' inits included).

    ``srnet/__init__.py`` imports its API only when ``load_model`` & co. are first used
    (``__getattr__``), so ``from srnet import CONFIG_DIR`` does not go on from there."""
    seen, todo = set(), [start]
    while todo:
        here = todo.pop()
        for nxt in g.get(here, ()) if here != "srnet" or here == start else ():
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def under(mod: str, prefixes: tuple[str, ...]) -> bool:
    return any(mod == p or mod.startswith(p + ".") for p in prefixes)


def sub_package(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "srnet" else None


FORBIDDEN = {  # sub-package -> prefixes its modules must not import directly
    "nets": ("srnet", *LIGHTNING, "hydra", "omegaconf", "PIL"),
    "ops": ("srnet", *LIGHTNING, "hydra", "omegaconf", "PIL"),
    "data": ("srnet.train",),
    "infer": ("srnet.train", "srnet.data", "srnet.app", *LIGHTNING),
    "app": ("srnet.train", "srnet.data", *LIGHTNING),
    "deploy": ("srnet.train", *LIGHTNING),
    "io": ("srnet.train", *LIGHTNING),
}
UNREACHABLE = {  # sub-package -> what none of its modules may reach through any chain
    "train": ("srnet.infer", "srnet.app", "srnet.deploy", "srnet.cli"),
    "infer": ("srnet.data", "srnet.train", "srnet.app", "srnet.cli"),
    "app": ("srnet.data", "srnet.train", "srnet.cli"),
}


def violates(mod: str, own: str, banned: tuple[str, ...]) -> bool:
    if own in ("nets", "ops") and mod.startswith(f"srnet.{own}"):
        return False  # inside its own sub-package
    return under(mod, banned)


def circles(g: dict[str, set[str]]) -> list[list[str]]:
    """The import circles of ``g`` (strongly connected groups of more than one module)."""
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]

    def visit(v: str) -> None:
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in g.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


GRAPH = graph(MODULES)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_layer_rules(path: Path) -> None:
    me = module_name(path)
    own = sub_package(me)
    bad = [m for m, _ in imports(path) if own in FORBIDDEN and violates(m, own, FORBIDDEN[own])]
    assert not bad, f"{me} (srnet.{own}) must not import {bad}"
    cli = [m for m, _ in imports(path) if under(m, ("srnet.cli",))]
    assert me == "srnet.cli" or not cli, f"{me} imports the command line {cli}"
    far = sorted(m for m in reach(GRAPH, me) if own in UNREACHABLE and under(m, UNREACHABLE[own]))
    assert not far, f"{me} (srnet.{own}) reaches {far} through its imports"


def test_no_import_circles() -> None:
    assert not circles(GRAPH), f"import circles: {circles(GRAPH)}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_no_private_names_of_other_modules(path: Path) -> None:
    me = module_name(path)
    bad = [f"{m}.{n}" for m, names in imports(path) if m.startswith("srnet") and m != me
           for n in names if n.startswith("_") and not n.startswith("__")]
    assert not bad, f"{me} imports private names {bad}"


def test_one_import_path_per_name() -> None:
    facades = [module_name(p) for p in PKG.rglob("__init__.py")
               if p.parent != PKG and imports(p)]
    assert not facades, f"package inits that re-export: {facades}"
    noqa = [module_name(p) for p in MODULES if p != PKG / "__init__.py" and "noqa: F401" in
            p.read_text()]
    assert not noqa, f"re-exports (noqa: F401) in {noqa}"


def test_top_level_is_small_and_files_are_short() -> None:
    top = sorted(p.name for p in PKG.glob("*.py"))
    assert len(top) <= 3, f"srnet/ has {len(top)} top-level modules: {top}"
    for pkg in ("infer", "app"):
        mods = sorted(p.name for p in (PKG / pkg).glob("*.py") if p.name != "__init__.py")
        assert len(mods) <= 8, f"srnet.{pkg} has {len(mods)} modules: {mods}"
    long = {module_name(p): n for p in MODULES if (n := len(p.read_text().splitlines())) > 250}
    assert not long, f"files over 250 lines: {long}"


def fake_package(root: Path, files: dict[str, str]) -> dict[str, set[str]]:
    """A throw-away srnet tree of ``files`` (relative path -> source), as an import graph."""
    for rel, src in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(src)
    return graph(sorted((root / "srnet").rglob("*.py")), root)


def test_the_rules_catch_the_old_violations(tmp_path: Path) -> None:
    """The three imports that crossed the plan before the rules saw them, and a hidden circle."""
    g = fake_package(tmp_path, {
        "srnet/train/module.py": "def f():\n    from srnet.infer.upscaler import to_net_space\n",
        "srnet/infer/upscaler.py": "import srnet.deploy.engine\n",
        "srnet/deploy/engine.py": "",
        "srnet/infer/evaluate.py": "from srnet.data.sources import DIV2K\n",
        "srnet/benchmarks/train_speed.py": "from srnet.cli import parse_kv\n",
        "srnet/app/app.py": "from srnet.app.stills import f\n",
        "srnet/app/stills.py": ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                "    from srnet.app.app import InferJob\n"),
    })
    assert "srnet.deploy.engine" in reach(g, "srnet.train.module")  # through the API
    assert violates("srnet.data.sources", "infer", FORBIDDEN["infer"])
    assert imports(tmp_path / "srnet/benchmarks/train_speed.py")[0][0] == "srnet.cli"
    assert circles(g) == [["srnet.app.app", "srnet.app.stills"]]
    bad = tmp_path / "bad.py"
    bad.write_text("import lightning as L\nfrom srnet.train.module import _private\n")
    found = imports(bad)
    assert violates(found[0][0], "infer", FORBIDDEN["infer"])
    assert violates(found[1][0], "nets", FORBIDDEN["nets"]) and found[1][1] == ["_private"]
