"""Collectors: one per Google API and project; each a work unit.

A collector receives a :class:`UnitContext` and fills it with facts. Each API
call feeds named fact types; ``ctx.feeding(...)`` turns a failure of that call
into a :class:`CollectionError` for exactly those fact types (and coverage on
success), so one denied API never hides what the others found.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from posture.facts import GLOBAL_REGION, CollectionError, Coverage, Fact
from posture.provider import UnitOutcome, WorkUnit
from posture_gcp.clients import Clients
from posture_gcp.errors import classify

PROVIDER = "gcp"


@dataclass
class UnitContext:
    unit: WorkUnit
    clients: Clients
    facts: list[Fact] = field(default_factory=list)
    errors: list[CollectionError] = field(default_factory=list)
    coverage: list[Coverage] = field(default_factory=list)

    @property
    def project(self) -> str:
        return self.unit.scope

    def wants(self, *fact_types: str) -> bool:
        return any(ft in self.unit.fact_types for ft in fact_types)

    def add(self, fact_type: str, id: str, name: str, region: str, attributes: dict[str, Any]) -> None:
        self.facts.append(Fact(PROVIDER, self.project, region or GLOBAL_REGION, fact_type, id, name, attributes))

    def error(self, fact_type: str, exc: BaseException, region: str = GLOBAL_REGION, what: str = "",
              required: str = "") -> None:
        """Record a failure; ``required`` (a hint) marks an API an assessment cannot do without.

        A disabled API usually means the feature is absent (``not_applicable``); for an API that only
        *observes* (Security Command Center, Policy Analyzer) it means the control cannot be assessed,
        which must show as an error carrying the hint, never as a pass or not applicable.
        """
        failure = classify(exc)
        message = f"{what}: {failure.message}" if what else failure.message
        not_applicable = failure.not_applicable and not required
        if required:
            message = f"{message} ({required})"
        self.errors.append(CollectionError(PROVIDER, self.project, region, fact_type, failure.code, message,
                                           not_applicable=not_applicable))

    @contextmanager
    def feeding(self, *fact_types: str) -> Iterator[None]:
        """Facts added inside are kept only if the block succeeds; a failure becomes errors."""
        wanted = [ft for ft in fact_types if ft in self.unit.fact_types]
        start = len(self.facts)
        try:
            yield
        except Exception as exc:  # any client failure is data, never a crash
            del self.facts[start:]
            for ft in wanted:
                self.error(ft, exc)
            return
        for ft in wanted:
            self.coverage.append(Coverage(PROVIDER, self.project, GLOBAL_REGION, ft))

    def outcome(self) -> UnitOutcome:
        return UnitOutcome(self.unit, self.facts, self.errors, self.coverage, self.clients.credentials.requests)


Collector = Callable[[UnitContext], None]


@dataclass(frozen=True)
class CollectorSpec:
    name: str
    fact_types: dict[str, str]
    run: Collector


def registry() -> dict[str, CollectorSpec]:
    """Collector name -> spec; imported lazily (the SDKs load only when collecting)."""
    from posture_gcp.collectors import (
        compute,
        compute_project,
        contacts,
        dns,
        iam,
        kms,
        logging,
        monitoring,
        resourcemanager,
        securitycenter,
        sql,
        storage,
    )

    specs = [m.SPEC for m in (resourcemanager, iam, storage, compute, sql, kms, logging, contacts, securitycenter,
                              compute_project, dns, monitoring)]
    return {s.name: s for s in specs}


def short(url_or_name: str | None) -> str:
    """Last path segment of a resource URL (``.../zones/us-central1-a`` -> ``us-central1-a``)."""
    return (url_or_name or "").rstrip("/").rsplit("/", 1)[-1]


def truthy(value: Any) -> bool:
    return str(value).strip().lower() in {"true", "1", "yes", "y", "on"}


def label_attributes(labels: dict[str, str] | None) -> dict[str, Any]:
    labels = dict(labels or {})
    return {"labels": labels, "label_keys": sorted(labels)}


def pages(clients: Clients, request_factory: Callable[[str | None], Any], items_key: str) -> Iterator[Any]:
    """Iterate a discovery list method over ``nextPageToken`` pages."""
    token: str | None = None
    while True:
        page = clients.execute(request_factory(token))
        yield from page.get(items_key, []) or []
        token = page.get("nextPageToken")
        if not token:
            return
