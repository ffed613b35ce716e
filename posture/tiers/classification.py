"""Data-classification levels (``tiers/classification.yaml``) and the tier each one needs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from posture.tiers.model import TierError, did_you_mean, read_document
from posture.tiers.search import standard_tiers_dir


@dataclass(frozen=True)
class ClassificationLevel:
    id: str
    title: str
    tier: str
    description: str
    aliases: tuple[str, ...] = ()


def _norm(level: str) -> str:
    return re.sub(r"[\s_]+", "-", level.strip().lower())


def load_classification(path: Path | None = None) -> list[ClassificationLevel]:
    """``tiers/classification.yaml``: data-classification levels -> tiers."""
    path = Path(path or standard_tiers_dir() / "classification.yaml")
    doc = read_document(path)
    data = doc.data
    if not isinstance(data, dict) or not isinstance(data.get("levels"), list):
        raise doc.error(["levels"], "expected a list 'levels' of {id, title, tier, description}")
    levels = []
    for i, item in enumerate(data["levels"]):
        for key in ("id", "title", "tier", "description"):
            if not isinstance(item, dict) or not isinstance(item.get(key), str):
                raise doc.error(["levels", i, key], f"missing required field '{key}' (a string)")
        levels.append(ClassificationLevel(id=item["id"], title=item["title"], tier=item["tier"],
                                          description=item["description"].strip(),
                                          aliases=tuple(item.get("aliases") or ())))
    return levels


def classification_level(level: str) -> ClassificationLevel:
    """The classification level named ``level`` (case, spaces and aliases tolerated)."""
    levels = load_classification()
    wanted = _norm(level)
    for lvl in levels:
        if wanted == _norm(lvl.id) or wanted in {_norm(a) for a in lvl.aliases}:
            return lvl
    names = [lvl.id for lvl in levels]
    raise TierError(standard_tiers_dir() / "classification.yaml", "$.levels",
                    f"unknown classification level '{level}' (known: {', '.join(names)})"
                    + did_you_mean(wanted, names))


def tier_for_classification(level: str) -> str:
    """The standard tier id for a data-classification level (``confidential`` -> ``tier-2``)."""
    return classification_level(level).tier
