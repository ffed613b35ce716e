"""Tier equivalence: how much of a NIST SP 800-53B baseline a tier checks automatically, per cloud.

Each catalogue control lists the NIST SP 800-53 rev5 controls it addresses
(``references.nist_800_53``, e.g. ``IA-2(1)``). The official 800-53B baselines
(OSCAL profiles vendored in ``posture/data/nist-800-53b/``) list the controls
and enhancements each impact level selects (``ia-2.1``). A baseline control is
*covered on a cloud* when an active control of the tier references it and at
least one registered check of that cloud implements that tier control; it is
*covered* when that holds on at least one cloud. Everything else in the
baseline is left to manual (or other) assessment. Matching is exact: a
reference to ``IA-2`` does not cover the enhancement ``IA-2(1)`` or the other
way round.

This is a statement of coverage, not a certification: a covered 800-53 control
has *some* automated evidence in posture, not every part of its assessment
objective.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from posture.tiers import ResolvedTier

BASELINE_DIR = Path(__file__).parent / "data" / "nist-800-53b"
BASELINES = {
    "nist-800-53b-low": "NIST_SP-800-53_rev5_LOW-baseline_profile-min.json",
    "nist-800-53b-moderate": "NIST_SP-800-53_rev5_MODERATE-baseline_profile-min.json",
    "nist-800-53b-high": "NIST_SP-800-53_rev5_HIGH-baseline_profile-min.json",
}
_REFERENCE = re.compile(r"^([A-Za-z]{2})-(\d+)(?:\((\d+)\))?$")


@dataclass(frozen=True)
class Baseline:
    """One official baseline: its name, title, version and control ids (OSCAL form, ``ac-2.1``)."""

    name: str
    title: str
    version: str
    controls: tuple[str, ...]
    source: str


def oscal_control_id(reference: str) -> str | None:
    """``IA-2(1)`` -> ``ia-2.1``, ``SC-7`` -> ``sc-7`` (the ids NIST's OSCAL catalog and baselines use)."""
    m = _REFERENCE.match(reference.strip())
    if not m:
        return None
    family, number, enhancement = m.groups()
    return f"{family.lower()}-{int(number)}" + (f".{int(enhancement)}" if enhancement else "")


def display_id(control_id: str) -> str:
    """``ia-2.1`` -> ``IA-2(1)``: the way SP 800-53 prints it."""
    base, _, enhancement = control_id.partition(".")
    return base.upper() + (f"({enhancement})" if enhancement else "")


@cache
def load_baseline(name: str) -> Baseline:
    """Read a vendored baseline profile; ``ValueError`` names the known baselines."""
    if name not in BASELINES:
        raise ValueError(f"unknown baseline {name!r}; known: {', '.join(BASELINES)}")
    path = BASELINE_DIR / BASELINES[name]
    profile = json.loads(path.read_text(encoding="utf-8"))["profile"]
    ids: list[str] = []
    for imp in profile["imports"]:
        for sel in imp.get("include-controls", []):
            ids.extend(sel.get("with-ids", []))
    return Baseline(name=name, title=profile["metadata"]["title"], version=profile["metadata"]["version"],
                    controls=tuple(dict.fromkeys(ids)), source=path.name)


def _sort_key(control_id: str) -> tuple[str, int, int]:
    base, _, enhancement = control_id.partition(".")
    family, _, number = base.partition("-")
    return (family, int(number or 0), int(enhancement or 0))


def equivalence(tier: ResolvedTier, baseline: Baseline, checks: Mapping[str, Any],
                providers: Iterable[str]) -> dict[str, Any]:
    """The coverage of ``baseline`` by ``tier``: covered per provider, manual, and tier controls beyond it.

    ``checks`` is ``{check id: Check}`` (only ``.provider`` and ``.controls`` are read).
    """
    provider_list = sorted(set(providers))
    implemented: dict[str, set[str]] = {p: set() for p in provider_list}  # provider -> tier controls with checks
    for check in checks.values():
        if check.provider in implemented:
            implemented[check.provider].update(check.controls)
    in_baseline = set(baseline.controls)
    # baseline control -> the active tier controls referencing it
    referenced_by: dict[str, list[str]] = {}
    beyond: list[dict[str, Any]] = []
    for rc in tier.active_controls():
        refs = [r for r in (oscal_control_id(x) for x in rc.spec.references.get("nist_800_53", [])) if r]
        inside = [r for r in refs if r in in_baseline]
        for r in inside:
            referenced_by.setdefault(r, []).append(rc.id)
        if not inside:
            beyond.append({"control": rc.id, "title": rc.spec.title,
                           "nist_800_53": [display_id(r) for r in refs]})

    def entry(cid: str, via: list[str]) -> dict[str, Any]:
        return {"id": cid, "label": display_id(cid), "tier_controls": sorted(via)}

    by_provider: dict[str, list[dict[str, Any]]] = {p: [] for p in provider_list}
    covered, uncovered = [], []
    for cid in sorted(baseline.controls, key=_sort_key):
        tier_controls = referenced_by.get(cid, [])
        automated_any: set[str] = set()
        on: list[str] = []
        for p in provider_list:
            via = [c for c in tier_controls if c in implemented[p]]
            if via:
                by_provider[p].append(entry(cid, via))
                automated_any.update(via)
                on.append(p)
        if automated_any:
            covered.append({**entry(cid, sorted(automated_any)), "providers": on})
        else:
            reason = ("referenced by " + ", ".join(sorted(tier_controls)) + " but no check implements it"
                      if tier_controls else "no control of the tier addresses it")
            uncovered.append({"id": cid, "label": display_id(cid), "reason": reason})
    return {
        "tier": tier.id,
        "baseline": {"name": baseline.name, "title": baseline.title, "version": baseline.version,
                     "source": baseline.source, "controls": len(baseline.controls)},
        "providers": provider_list,
        "summary": {
            "baseline_controls": len(baseline.controls),
            "covered": len(covered),
            "uncovered": len(uncovered),
            "covered_by_provider": {p: len(by_provider[p]) for p in provider_list},
            "covered_on_every_provider": sum(len(c["providers"]) == len(provider_list) for c in covered),
            "tier_controls": len(tier.active_controls()),
            "tier_controls_beyond_baseline": len(beyond),
        },
        "covered": covered,
        "uncovered": uncovered,
        "covered_by_provider": by_provider,
        "beyond_baseline": beyond,
        "note": "Coverage statement, not a certification: a covered control has automated evidence for part "
                "of its assessment objective on that cloud; the rest of the baseline needs manual assessment.",
    }
