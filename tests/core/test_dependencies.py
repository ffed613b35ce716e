"""Every third-party module the core imports is a declared dependency (of the core, or of an extra such as
``oscal`` whose commands import it lazily)."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imported_top_levels(package: Path) -> set[str]:
    names: set[str] = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
    return names


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_third_party_import_of_the_core_is_declared_in_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = [*project["dependencies"], *(d for extra in project["optional-dependencies"].values()
                                                 for d in extra)]
    declared = {_normalise(re.split(r"[<>=!~\[; ]", d, maxsplit=1)[0]) for d in requirements}
    distributions = importlib.metadata.packages_distributions()
    undeclared = {}
    for module in sorted(_imported_top_levels(ROOT / "posture")):
        if module in sys.stdlib_module_names or module in ("posture", "__future__"):
            continue
        if module.startswith("posture_"):
            continue  # the optional provider plugins, imported lazily
        dists = {_normalise(d) for d in distributions.get(module, [])}
        if dists and not dists & declared:
            undeclared[module] = sorted(dists)
    assert undeclared == {}, f"imported by posture/ but declared nowhere in pyproject.toml: {undeclared}"
