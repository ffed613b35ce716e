"""What a cloud provider plugin implements.

A scan is a set of independent :class:`WorkUnit` s (account x region x
collector, subscription x resource type, project x API). Units are plain,
picklable descriptions, never live clients, so the same plan can run in the
local thread pool or be shipped to a distributed executor; outcomes merge by
key regardless of order.

Lifecycle, as driven by :mod:`posture.collect`:

1. ``provider.plan(fact_types, options)`` -> a :class:`Plan`: the scopes to
   scan (Organizations, subscription list, project search), work units
   covering only the requested fact types (region discovery happens here),
   the scopes that could not be planned, and the requests that cost.
2. ``provider.collect(unit)`` for every unit, concurrently, bounded ->
   :class:`UnitOutcome` (facts, errors, coverage, request count).

Everything a scan learns travels in these return values, never in the
provider object, so one registered provider can serve concurrent scans.
Providers must not import their SDK at module import time.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from posture.facts import CollectionError, Coverage, Fact


@dataclass(frozen=True)
class Option:
    """A provider command-line option added to ``posture scan``/``collect``.

    ``name`` is the long flag without dashes (``role-arn``); the value reaches
    the provider as ``options["role_arn"]``. Options with the same name from
    two providers are shared.
    """

    name: str
    help: str
    multiple: bool = False
    is_flag: bool = False
    envvar: str | None = None
    default: Any = None
    metavar: str | None = None

    @property
    def key(self) -> str:
        return self.name.replace("-", "_")


@dataclass(frozen=True)
class Scope:
    """One thing a scan covers: an AWS account, Azure subscription, GCP project."""

    provider: str
    id: str
    name: str = ""
    kind: str = ""  # "account", "subscription", "project"
    parent: str = ""  # organization / management group / folder, when known

    def to_dict(self) -> dict[str, Any]:
        return {"provider": self.provider, "id": self.id, "name": self.name or self.id, "kind": self.kind,
                "parent": self.parent}


@dataclass(frozen=True)
class WorkUnit:
    """A picklable description of one piece of collection work."""

    provider: str
    scope: str
    region: str
    collector: str
    fact_types: tuple[str, ...]
    options: tuple[tuple[str, Any], ...] = ()

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.provider, self.scope, self.region, self.collector)

    def option(self, name: str, default: Any = None) -> Any:
        return dict(self.options).get(name, default)


@dataclass
class UnitOutcome:
    """What one work unit produced."""

    unit: WorkUnit
    facts: list[Fact] = field(default_factory=list)
    errors: list[CollectionError] = field(default_factory=list)
    coverage: list[Coverage] = field(default_factory=list)
    requests: int = 0


@dataclass
class Plan:
    """What one scan of a provider will do, and what finding that out cost.

    ``errors`` are scopes (or parents of scopes) that could not be planned: a
    denied subscription, an account whose role cannot be assumed, an
    unreadable folder, as :class:`CollectionError` s for the fact types they
    would have fed. ``requests`` counts the API requests made while planning.
    """

    scopes: list[Scope]
    units: list[WorkUnit]
    errors: list[CollectionError] = field(default_factory=list)
    requests: int = 0


class RequestCounter:
    """A thread-safe count of HTTP requests (retries included), reported as ``UnitOutcome.requests``.

    Providers hook it into their SDK's transport (a botocore event, an
    azure-core policy, a wrapped credential) so benchmarks can report
    requests per resource.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.value = 0

    def add(self, n: int = 1) -> None:
        with self._lock:
            self.value += n


@runtime_checkable
class Provider(Protocol):
    """The provider interface (see module docstring)."""

    name: str
    title: str
    #: fact type -> one-line description
    fact_types: dict[str, str]
    #: extra CLI options
    options: list[Option]

    def plan(self, fact_types: set[str], options: dict[str, Any]) -> Plan:
        """Scopes and work units for ``fact_types``; raise :class:`ProviderError` when nothing can be scanned."""
        ...

    def collect(self, unit: WorkUnit) -> UnitOutcome: ...


class ProviderError(Exception):
    """A provider cannot start at all (no credentials, unknown scope): exit 2, clear message."""
