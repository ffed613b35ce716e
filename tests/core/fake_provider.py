"""An in-memory provider used by the core tests.

It behaves like a real provider (plan with scopes, collect, coverage, errors) but
reads its resources from a dict, so engine and output behaviour can be proven
without any cloud SDK.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from posture.checks import load_check_file
from posture.facts import CollectionError, Coverage, Fact
from posture.hookspecs import hookimpl
from posture.provider import Option, Plan, Scope, UnitOutcome, WorkUnit

CHECKS = Path(__file__).parent / "fake_checks.yaml"

#: scope -> fact type -> list of (id, name, attributes) or an error code string
WORLD: dict[str, dict[str, Any]] = {}


class FakeProvider:
    name = "fake"
    title = "Fake cloud"
    fact_types = {
        "fake.iam.user": "users",
        "fake.storage.bucket": "buckets",
        "fake.iam.key": "access keys",
        "fake.logging.group": "log groups",
    }
    options = [Option("fake-scope", "Fake scope to scan", multiple=True)]

    def __init__(self) -> None:
        self.collected: list[tuple[str, ...]] = []

    def plan(self, fact_types: set[str], options: dict[str, Any]) -> Plan:
        scopes = [Scope("fake", s, f"Fake {s}", "account") for s in options.get("fake_scope") or sorted(WORLD)]
        units = [WorkUnit("fake", s.id, "global", ft, (ft,)) for s in scopes for ft in sorted(fact_types)]
        return Plan(scopes, units)

    def collect(self, unit: WorkUnit) -> UnitOutcome:
        self.collected.append(unit.fact_types)
        out = UnitOutcome(unit, requests=1)
        for ft in unit.fact_types:
            data = WORLD.get(unit.scope, {}).get(ft, [])
            if isinstance(data, str):
                out.errors.append(CollectionError("fake", unit.scope, unit.region, ft, data, "denied by test"))
                continue
            out.coverage.append(Coverage("fake", unit.scope, unit.region, ft))
            for rid, name, attrs in data:
                out.facts.append(Fact("fake", unit.scope, unit.region, ft, rid, name, attrs))
        return out


PROVIDER = FakeProvider()


@hookimpl
def register_providers(register: Any) -> None:
    register(PROVIDER)


@hookimpl
def register_checks(register: Any) -> None:
    register(*load_check_file(CHECKS))
