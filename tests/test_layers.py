"""The package's layers only point down (issue 24): each wing imports only the wings below it, the library never
imports the CLI, and no two modules import each other in a circle.

Every import is counted, the lazy ones inside functions too: a lazy import that climbs a layer is the same
dependency, only deferred.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "fakecheck"

# What each wing may import (besides itself).  The order is the architecture: audio and evaluation at the bottom,
# the model on audio, analysis on the model, evidence and training beside each other on analysis, the CLI on top.
ALLOWED: dict[str, set[str]] = {
    "audio": set(),
    "evaluation": set(),
    "model": {"audio"},
    "analysis": {"audio", "model"},
    "evidence": {"audio", "model", "analysis", "evaluation", "top"},  # top: fakecheck.version
    "training": {"audio", "model", "analysis", "evaluation"},
    "cli": {"audio", "model", "analysis", "evaluation", "evidence", "training", "top"},
    "top": {"analysis", "evidence", "cli"},  # __init__.py (the lazy public API), __main__.py, version.py
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def wing(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and (PACKAGE / parts[1]).is_dir() else "top"


def imported_modules(path: Path) -> set[str]:
    """The fakecheck modules (or packages) `path` imports, relative imports resolved."""
    here = module_name(path).split(".")
    return imported_modules_of_text(path.read_text(encoding="utf-8"), here if path.name == "__init__.py" else here[:-1])


def imported_modules_of_text(text: str, package: list[str]) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "fakecheck")
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            if base.split(".")[0] != "fakecheck":
                continue
            for alias in node.names:  # `from fakecheck.model import checkpoint` names a module
                sub = f"{base}.{alias.name}"
                where = ROOT / sub.replace(".", "/")
                is_module = where.with_suffix(".py").is_file() or where.is_dir()
                found.add(sub if is_module else base)
    return found


def graph() -> dict[str, set[str]]:
    return {module_name(p): imported_modules(p) for p in sorted(PACKAGE.rglob("*.py"))}


def upward(g: dict[str, set[str]]) -> list[str]:
    return sorted(f"{m} -> {t}" for m, targets in g.items() for t in targets
                  if wing(t) != wing(m) and wing(t) not in ALLOWED[wing(m)])


def test_each_wing_imports_only_the_wings_below_it():
    wrong = upward(graph())
    assert not wrong, "imports that run back up a layer:\n" + "\n".join(wrong)


def test_the_library_never_imports_the_cli():
    lib = sorted(f"{m} -> {t}" for m, targets in graph().items() for t in targets
                 if wing(m) not in ("cli", "top") and wing(t) == "cli")
    assert not lib


def test_no_circle_between_modules():
    g = graph()
    # a package's __init__ that re-exports its modules is the package's face, not a dependency of them
    edges = {m: {t for t in ts if t in g and not (t != m and m.startswith(t + "."))} for m, ts in g.items()}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for t in sorted(edges[m]):
            if state.get(t) == 1:
                return stack[stack.index(t):] + [t]
            if t not in state and (found := visit(t)):
                return found
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(edges):
        if m not in state and (circle := visit(m)):
            pytest.fail("import circle: " + " -> ".join(circle))


def test_the_checker_sees_an_upward_import(tmp_path):
    """The rule can fail: a module of the audio wing that imports the CLI, lazily, is reported."""
    bad = PACKAGE / "audio" / "decode.py"
    g = graph()
    g[module_name(bad)] = g[module_name(bad)] | {"fakecheck.cli.exits"}
    assert upward(g) == ["fakecheck.audio.decode -> fakecheck.cli.exits"]
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from fakecheck.cli import exits\n", encoding="utf-8")
    assert "fakecheck.cli.exits" in imported_modules_of_text(probe.read_text(encoding="utf-8"), ["fakecheck", "audio"])


def test_every_wing_says_what_it_may_import():
    for folder in sorted(p for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").is_file()):
        doc = ast.get_docstring(ast.parse((folder / "__init__.py").read_text(encoding="utf-8"))) or ""
        assert "Imports:" in doc, f"{folder.name}/__init__.py does not say what it may import"


def test_the_readme_api_imports_from_fakecheck_itself():
    """Issue 24: every name the README's API section shows still imports from `fakecheck`."""
    import importlib

    fakecheck = importlib.import_module("fakecheck")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    api = readme[readme.index("## Python API"): readme.index("## Shell completion")]
    for line in api.splitlines():
        if line.startswith("from fakecheck import "):
            for name in line.split(" import ")[1].split("#")[0].split(","):
                assert getattr(fakecheck, name.strip()) is not None, name
    assert fakecheck.Detector.__module__ == "fakecheck.analysis.detector"
