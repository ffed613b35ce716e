"""Where tiers are found: the standard tiers, then ``POSTURE_TIERS_PATH`` directories."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import posture

TIERS_PATH_ENV = "POSTURE_TIERS_PATH"
TIER_SUFFIXES = (".yaml", ".yml", ".json")
#: files of a tiers directory that are not tiers
NON_TIER_FILES = {"controls", "classification"}


def standard_tiers_dir() -> Path:
    """The standard tiers: the repository's ``tiers/`` (editable / development install), else the copy a
    wheel installs as data files under ``<prefix>/share/posture/tiers``."""
    repo = Path(posture.__file__).resolve().parent.parent / "tiers"
    if (repo / "controls.yaml").is_file():
        return repo
    installed = Path(sys.prefix) / "share" / "posture" / "tiers"
    return installed if (installed / "controls.yaml").is_file() else repo


def tier_search_path() -> list[Path]:
    """Directories searched for a tier id: the standard tiers first, then ``POSTURE_TIERS_PATH``.

    Standard tiers come first so an extra directory can never shadow ``tier-1``.
    """
    dirs = [standard_tiers_dir()]
    for raw in os.environ.get(TIERS_PATH_ENV, "").split(os.pathsep):
        if raw.strip():
            dirs.append(Path(raw.strip()).expanduser())
    return dirs


def is_tier_file(path: Path) -> bool:
    return (path.is_file() and path.suffix in TIER_SUFFIXES and path.stem not in NON_TIER_FILES
            and not path.name.endswith(".schema.json"))


def tier_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if is_tier_file(p))


def looks_like_path(name: str) -> bool:
    return "/" in name or os.sep in name or name.endswith(TIER_SUFFIXES) or name.startswith(".")


def find_tier(name: str) -> Path | None:
    """The file of tier id ``name`` on the search path (``<dir>/<name>.yaml``), or None."""
    for directory in tier_search_path():
        for suffix in TIER_SUFFIXES:
            candidate = directory / f"{name}{suffix}"
            if candidate.is_file():
                return candidate.resolve()
    return None


def standard_tier_ids() -> list[str]:
    return [p.stem for p in tier_files(standard_tiers_dir())]
