"""The base of a cloud provider: plan scope x collector work units, run one unit.

A plugin subclasses :class:`CloudProvider` and supplies scope discovery (:meth:`discover`), its
unit context with clients (:meth:`context`), its error classifier (:meth:`classify`) and a
:class:`~posture.collecting.CollectorRegistry`. The base turns that into the
:class:`posture.provider.Provider` interface the core drives.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from posture.collecting.caches import BoundedCache
from posture.collecting.context import Failure, UnitContext
from posture.collecting.counting import RequestCounter, counting
from posture.collecting.registry import CollectorRegistry, CollectorSpec
from posture.facts import GLOBAL_REGION, CollectionError
from posture.provider import Option, Plan, Scope, UnitOutcome, WorkUnit

S = TypeVar("S")


@dataclass(frozen=True)
class Target:
    """A scope ready to be collected: its regions (for region-level collectors) and the unit options
    every unit of it carries (credential path, endpoints...: picklable values only)."""

    scope: Scope
    regions: tuple[str, ...] = ()
    options: tuple[tuple[str, Any], ...] = ()


@dataclass
class Discovery:
    """What scope discovery found.

    ``scopes`` are reported as scanned; ``targets`` are those that can be collected (a scope whose
    regions could not be listed is a scope with an error, not a target); ``errors`` name what could
    not be discovered, for the fact types it would have fed.
    """

    scopes: list[Scope]
    targets: list[Target]
    errors: list[CollectionError] = field(default_factory=list)


class _FactTypes:
    """``Provider.fact_types`` read from the collector registry, on the class as on an instance
    (the core and tests read ``SomeProvider.fact_types`` without making a provider)."""

    def __get__(self, obj: object, owner: type[CloudProvider]) -> dict[str, str]:
        return owner.collectors.fact_types()


class CloudProvider:
    """A :class:`posture.provider.Provider` built from discovery, clients, a classifier and collectors."""

    name: ClassVar[str]
    title: ClassVar[str]
    options: ClassVar[list[Option]] = []
    #: the plugin's collectors
    collectors: ClassVar[CollectorRegistry]
    #: the level of a once-per-scope collector (``account``, ``subscription``, ``project``)
    scope_level: ClassVar[str]
    #: the level of a once-per-region collector
    region_level: ClassVar[str] = "region"
    #: how many scans' state (sessions, clients, shared answers) stay cached
    cached_scans: ClassVar[int] = 8

    fact_types = _FactTypes()  # type: ignore[assignment]

    def __init__(self) -> None:
        self._scans: BoundedCache[Any] = BoundedCache(self.cached_scans)

    # -- what a plugin supplies ----------------------------------------------------------------
    def discover(self, fact_types: set[str], options: dict[str, Any], scan: str) -> Discovery:
        """The scopes to scan; raise :class:`~posture.provider.ProviderError` when nothing can be.

        Requests made here are counted as the plan's. ``scan`` identifies this scan in
        :meth:`scan_state`.
        """
        raise NotImplementedError

    def context(self, unit: WorkUnit) -> UnitContext:
        """The context (with clients) one unit's collector runs with."""
        raise NotImplementedError

    def classify(self, exc: BaseException) -> Failure:
        """The cloud's error code and message for ``exc`` (any exception, collector bugs included)."""
        raise NotImplementedError

    # -- what the base provides ------------------------------------------------------------------
    #: fact type -> description, from the registered collectors (no SDK is imported)

    def scan_state(self, scan: str, make: Callable[[], S]) -> S:
        """Per-scan state (sessions, clients, answers shared by units), made on first use.

        The few most recent scans stay cached; a unit whose scan was evicted, or that runs in
        another process, simply gets a new one. Correctness never depends on a hit.
        """
        return self._scans.get(scan, make)

    def plan(self, fact_types: set[str], options: dict[str, Any]) -> Plan:
        """Discover scopes, then one unit per (target, collector producing ``fact_types``[, region])."""
        scan = uuid.uuid4().hex
        counter = RequestCounter()
        with counting(counter):
            found = self.discover(fact_types, options, scan)
        return Plan(found.scopes, self.units(found.targets, fact_types, scan), found.errors, counter.value)

    def units(self, targets: list[Target], fact_types: set[str], scan: str) -> list[WorkUnit]:
        """Scope-level collectors once per target, region-level ones per region of it."""
        chosen = [(spec, tuple(sorted(fact_types.intersection(spec.fact_types))))
                  for spec in self.collectors.specs().values()]
        chosen = [(spec, wanted) for spec, wanted in chosen if wanted]
        units = []
        for target in targets:
            options = (("scan", scan), *target.options)
            for spec, wanted in chosen:
                for region in self._unit_regions(spec, target):
                    units.append(WorkUnit(self.name, target.scope.id, region, spec.name, wanted, options))
        return units

    def _unit_regions(self, spec: CollectorSpec, target: Target) -> tuple[str, ...]:
        if spec.level == self.region_level:
            return target.regions
        if spec.level == self.scope_level:
            return (GLOBAL_REGION,)
        raise ValueError(f"{self.name}: collector {spec.name!r} has level {spec.level!r}; "
                         f"use {self.scope_level!r} or {self.region_level!r}")

    def collect(self, unit: WorkUnit) -> UnitOutcome:
        """Run one unit: its requests counted, a collector bug an error for what it left unaccounted."""
        counter = RequestCounter()
        with counting(counter):
            ctx = self.context(unit)
            try:
                self.collectors.spec(unit.collector).target(ctx)
            except Exception as exc:  # a collector bug still yields data for what it reached
                ctx.fail(ctx.pending(), exc)
        return ctx.outcome(counter.value)


def scope_errors(scope: str, fact_types: set[str], failure: Failure, provider: str,
                 region: str = GLOBAL_REGION, prefix: str = "") -> list[CollectionError]:
    """One error per fact type for a scope that could not be planned (denied, role not assumable)."""
    return [CollectionError(provider, scope, region, ft, failure.code, f"{prefix}{failure.message}")
            for ft in sorted(fact_types)]
