"""Collectors: one per Google API and project; each a work unit.

A collector module registers itself with ``@collector(name, level="project", facts={...})``
(:mod:`posture.collecting`) and receives a :class:`GcpContext`: the toolkit's unit context plus the
unit's Google clients. Each API call feeds named fact types; ``ctx.feeding(...)`` turns a failure
of that call into a :class:`~posture.facts.CollectionError` for exactly those fact types (and
coverage on success), so one denied API never hides what the others found.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from posture.collecting import CollectorRegistry, Failure, UnitContext
from posture.provider import WorkUnit

if TYPE_CHECKING:
    from posture_gcp.clients import Clients

PROVIDER = "gcp"
registry = CollectorRegistry(__name__)
collector = registry.collector


class GcpContext(UnitContext):
    """One project x API unit, with the clients of its scan."""

    def __init__(self, unit: WorkUnit, classify: Callable[[BaseException], Failure], clients: Clients) -> None:
        super().__init__(unit, classify, workers=clients.settings.max_workers)
        self.clients = clients

    @property
    def project(self) -> str:
        return self.unit.scope


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
