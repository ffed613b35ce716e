"""Control coverage: which checks implement each control of a tier, per provider.

A control of a tier is *covered* on a provider when at least one registered
check of that provider lists it in ``controls``. A control the catalogue marks
``not_applicable`` for a provider (there is no root account with access keys
on Azure) is reported as such, with the reason, rather than as a gap.
Everything else is a gap: ``not yet implemented``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from posture.tiers import ResolvedTier

IMPLEMENTED = "implemented"
NOT_IMPLEMENTED = "not yet implemented"
NOT_APPLICABLE = "not applicable"


@dataclass
class CoverageMatrix:
    """Controls x providers for one tier."""

    tier: str
    providers: list[str]
    #: provider -> control -> ids of the checks implementing it (only controls with checks)
    implemented: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    #: provider -> control ids of the tier without any check (and not marked not applicable)
    gaps: dict[str, list[str]] = field(default_factory=dict)
    #: provider -> control -> why it does not apply there
    not_applicable: dict[str, dict[str, str]] = field(default_factory=dict)
    #: active control ids of the tier, sorted
    controls: list[str] = field(default_factory=list)
    #: control -> tier id that introduced it
    introduced_by: dict[str, str] = field(default_factory=dict)

    def status(self, provider: str, control: str) -> str:
        if self.implemented.get(provider, {}).get(control):
            return IMPLEMENTED
        if control in self.not_applicable.get(provider, {}):
            return NOT_APPLICABLE
        return NOT_IMPLEMENTED

    @property
    def complete(self) -> bool:
        return not any(self.gaps.values())

    def gap_lines(self) -> list[str]:
        """``aws: IAM-04`` lines, one per gap, for messages."""
        return [f"{p}: {c}" for p in self.providers for c in self.gaps.get(p, [])]

    def to_dict(self) -> dict[str, Any]:
        return {
            "tier": self.tier,
            "providers": list(self.providers),
            "controls": [
                {
                    "id": cid,
                    "introduced_by": self.introduced_by.get(cid, ""),
                    "providers": {
                        p: {
                            "status": self.status(p, cid),
                            "checks": self.implemented.get(p, {}).get(cid, []),
                            **({"reason": self.not_applicable[p][cid]}
                               if cid in self.not_applicable.get(p, {}) else {}),
                        }
                        for p in self.providers
                    },
                }
                for cid in self.controls
            ],
            "gaps": {p: list(self.gaps.get(p, [])) for p in self.providers},
            "complete": self.complete,
        }


def compute_coverage(tier: ResolvedTier, checks: Mapping[str, Any], providers: Iterable[str]) -> CoverageMatrix:
    """Map each active control of ``tier`` to the checks implementing it on each provider.

    ``checks`` is ``{check id: Check}`` (``posture.plugins.registry().checks``);
    only ``.provider`` and ``.controls`` are read.
    """
    provider_list = sorted(set(providers))
    active = [c for c in tier.active_controls()]
    matrix = CoverageMatrix(tier=tier.id, providers=provider_list, controls=[c.id for c in active],
                            introduced_by={c.id: c.introduced_by for c in active})
    wanted = set(matrix.controls)
    for p in provider_list:
        matrix.implemented[p] = {}
        matrix.gaps[p] = []
        matrix.not_applicable[p] = {}
    for check_id, check in sorted(checks.items()):
        if check.provider not in matrix.implemented:
            continue
        for cid in check.controls:
            if cid in wanted:
                matrix.implemented[check.provider].setdefault(cid, []).append(check_id)
    for rc in active:
        for p in provider_list:
            if matrix.implemented[p].get(rc.id):
                continue
            if p in rc.spec.not_applicable:
                matrix.not_applicable[p][rc.id] = rc.spec.not_applicable[p]
            else:
                matrix.gaps[p].append(rc.id)
    return matrix
