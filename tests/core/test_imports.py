"""The core and the plugins meet only through the core's public modules (issue 11).

Every import statement of every source file is read with ``ast`` (imports inside functions too, as
the core imports lazily): no module under ``posture/`` imports a plugin, no plugin imports another
plugin, and a plugin imports only public core modules -- ``posture`` modules with no ``_``-prefixed
part in their dotted name (docs/plugins.md).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "posture"
PLUGINS = sorted(p for p in (ROOT / "plugins").iterdir() if (p / "__init__.py").is_file())
PLUGIN_NAMES = {p.name for p in PLUGINS}
#: the walk-through plugin of docs/plugins.md follows the same rule as the built-in ones
WALKTHROUGH = ROOT / "tests" / "plugins" / "mycloud"


def imported_modules(path: Path, package: str) -> Iterator[tuple[int, str]]:
    """(line, dotted name) of everything ``path`` imports; ``from m import n`` yields ``m.n``."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: within the file's own package
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            for alias in node.names:
                yield node.lineno, f"{module}.{alias.name}" if alias.name != "*" else module


def sources(root: Path) -> Iterator[tuple[Path, str]]:
    """Each source file under ``root`` with its package's dotted name."""
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        yield path, ".".join(parts if path.name == "__init__.py" else parts[:-1]).removesuffix(".__init__")


def private(name: str) -> bool:
    """A dotted name with a ``_``-prefixed part (dunders such as ``__version__`` are public)."""
    return any(p.startswith("_") and not (p.startswith("__") and p.endswith("__")) for p in name.split("."))


def test_the_plugins_under_test_exist() -> None:
    assert {"posture_aws", "posture_azure", "posture_gcp"} <= PLUGIN_NAMES


def test_no_core_module_imports_a_plugin() -> None:
    found = [f"{path.relative_to(ROOT)}:{line}: {name}" for path, package in sources(CORE)
             for line, name in imported_modules(path, package) if name.split(".")[0] in PLUGIN_NAMES]
    assert not found, "the core reaches a plugin:\n" + "\n".join(found)


@pytest.mark.parametrize("plugin", PLUGINS, ids=lambda p: p.name)
def test_a_plugin_imports_no_other_plugin(plugin: Path) -> None:
    others = PLUGIN_NAMES - {plugin.name}
    found = [f"{path.relative_to(ROOT)}:{line}: {name}" for path, package in sources(plugin)
             for line, name in imported_modules(path, package) if name.split(".")[0] in others]
    assert not found, f"{plugin.name} imports another plugin:\n" + "\n".join(found)


@pytest.mark.parametrize("plugin", [*PLUGINS, WALKTHROUGH], ids=lambda p: p.name)
def test_a_plugin_imports_only_public_core_modules(plugin: Path) -> None:
    found = [f"{path.relative_to(ROOT)}:{line}: {name}" for path, package in sources(plugin)
             for line, name in imported_modules(path, package)
             if name.split(".")[0] == "posture" and private(name)]
    assert not found, f"{plugin.name} imports private core modules:\n" + "\n".join(found)


def test_the_rules_see_what_they_must_refuse(tmp_path: Path) -> None:
    """The reader finds lazy, relative and from-imports, and the privacy rule tells them apart."""
    pkg = tmp_path / "posture_aws"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "mod.py").write_text("def f():\n    from posture_gcp.x import y\n    import posture._private\n"
                                "from . import sibling\nfrom posture import __version__, _hidden\n")
    names = sorted(n for path, package in sources(pkg) for _, n in imported_modules(path, package))
    assert names == ["posture.__version__", "posture._hidden", "posture._private", "posture_aws.sibling",
                     "posture_gcp.x.y"]
    assert [private(n) for n in names] == [False, True, True, False, False]
