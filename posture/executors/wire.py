"""Work units and their outcomes as JSON-safe dicts: what crosses a broker.

A unit names what to collect (provider, scope, region, collector, fact types) and how to reach it
(a profile or role *name*, an endpoint, a credential *factory name*), never a credential: the
worker obtains credentials from its own environment. Outcomes carry facts, which hold no secret
(:class:`posture.facts.Fact` redacts them when built). JSON turns tuples into lists; decoding turns
them back, so a unit that made the round trip equals the one sent.
"""

from __future__ import annotations

from typing import Any

from posture.facts import CollectionError, Coverage, Fact
from posture.provider import UnitOutcome, WorkUnit


def _frozen(value: Any) -> Any:
    """Lists (JSON's tuples) back to tuples, recursively: unit options are hashable."""
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value


def unit_to_dict(unit: WorkUnit) -> dict[str, Any]:
    return {"provider": unit.provider, "scope": unit.scope, "region": unit.region, "collector": unit.collector,
            "fact_types": list(unit.fact_types), "options": [[k, v] for k, v in unit.options]}


def unit_from_dict(data: dict[str, Any]) -> WorkUnit:
    return WorkUnit(data["provider"], data["scope"], data["region"], data["collector"], tuple(data["fact_types"]),
                    tuple((k, _frozen(v)) for k, v in data.get("options", ())))


def outcome_to_dict(outcome: UnitOutcome) -> dict[str, Any]:
    return {"unit": unit_to_dict(outcome.unit), "facts": [f.to_dict() for f in outcome.facts],
            "errors": [e.to_dict() for e in outcome.errors], "coverage": [c.to_dict() for c in outcome.coverage],
            "requests": outcome.requests}


def outcome_from_dict(data: dict[str, Any], unit: WorkUnit | None = None) -> UnitOutcome:
    """The outcome ``data`` describes, for ``unit`` (the one sent) when given."""
    return UnitOutcome(unit or unit_from_dict(data["unit"]), [Fact.from_dict(f) for f in data.get("facts", ())],
                       [CollectionError.from_dict(e) for e in data.get("errors", ())],
                       [Coverage.from_dict(c) for c in data.get("coverage", ())], int(data.get("requests", 0)))
