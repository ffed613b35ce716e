"""What a collector sees while it runs one work unit.

A collector asks for clients, reads pages, and records facts inside
``with ctx.collecting(fact_types):`` blocks: if a call in the block fails
(denied, throttled past retries, timed out, endpoint missing), the fact types
of that block become :class:`CollectionError` s with the AWS error code and
the rest of the unit carries on.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from posture.facts import GLOBAL_REGION, CollectionError, Coverage, Fact
from posture.provider import UnitOutcome, WorkUnit
from posture_aws.errors import NOT_APPLICABLE_CODES, error_code, error_message, is_cloud_error
from posture_aws.sessions import CredentialPath, RequestCounter, SessionPool

T = TypeVar("T")
R = TypeVar("R")
PROVIDER = "aws"


@dataclass
class Sink:
    """Facts gathered by one ``collecting`` block; kept only if the block succeeds."""

    facts: list[Fact] = field(default_factory=list)

    def add(self, fact: Fact) -> None:
        self.facts.append(fact)


class UnitContext:
    def __init__(self, unit: WorkUnit, pool: SessionPool, executor: Executor, counter: RequestCounter) -> None:
        self.unit = unit
        self.account = unit.scope
        self.pool = pool
        self.executor = executor
        self.counter = counter
        self.path = CredentialPath(unit.option("profile"), tuple(unit.option("roles", ())),
                                   unit.option("external_id"))
        self.partition: str = unit.option("partition", "aws")
        self.home_region: str = unit.option("home_region", "us-east-1")
        self.regions: tuple[str, ...] = tuple(unit.option("regions", ()))
        self.region = unit.region if unit.region != GLOBAL_REGION else self.home_region
        self.facts: list[Fact] = []
        self.errors: list[CollectionError] = []
        self.coverage: list[Coverage] = []

    # -- clients and calls -------------------------------------------------------------
    def client(self, service: str, region: str | None = None) -> Any:
        return self.pool.client(self.path, service, region or self.region)

    def pages(self, client: Any, operation: str, result_key: str, **kwargs: Any) -> Iterator[Any]:
        """Every item under ``result_key`` across all pages of ``operation``."""
        if client.can_paginate(operation):
            for page in client.get_paginator(operation).paginate(**kwargs):
                yield from page.get(result_key, []) or []
        else:
            yield from getattr(client, operation)(**kwargs).get(result_key, []) or []

    def wants(self, *fact_types: str) -> bool:
        return any(ft in self.unit.fact_types for ft in fact_types)

    def arn(self, service: str, resource: str, region: str | None = None) -> str:
        reg = "" if region is None else region
        return f"arn:{self.partition}:{service}:{reg}:{self.account}:{resource}"

    def fact(self, type_: str, id_: str, name: str, attributes: dict[str, Any], region: str | None = None) -> Fact:
        return Fact(PROVIDER, self.account, region or self.unit.region, type_, id_, name, attributes)

    # -- errors and coverage ------------------------------------------------------------
    def error(self, fact_types: Iterable[str], exc: BaseException, region: str | None = None,
              resource: str = "") -> None:
        code = error_code(exc)
        message = error_message(exc) if is_cloud_error(exc) else f"{type(exc).__name__}: {exc}"
        if resource:
            message = f"{resource}: {message}"
        for ft in fact_types:
            if ft in self.unit.fact_types:
                self.errors.append(CollectionError(PROVIDER, self.account, region or self.unit.region, ft, code,
                                                   message, not_applicable=code in NOT_APPLICABLE_CODES))

    def covered(self, fact_types: Iterable[str], region: str | None = None) -> None:
        for ft in fact_types:
            if ft in self.unit.fact_types:
                self.coverage.append(Coverage(PROVIDER, self.account, region or self.unit.region, ft))

    @contextmanager
    def collecting(self, *fact_types: str, region: str | None = None) -> Iterator[Sink]:
        """Facts added to the sink count only if every call in the block succeeds."""
        sink = Sink()
        try:
            yield sink
        except Exception as exc:  # cloud errors and collector bugs alike become data
            self.error(fact_types, exc, region)
            return
        self.facts.extend(f for f in sink.facts if f.type in self.unit.fact_types)
        self.covered(fact_types, region)

    # -- bounded concurrency within a unit ----------------------------------------------
    def parallel(self, fn: Callable[[T], R], items: Iterable[T]) -> list[tuple[T, R | None, BaseException | None]]:
        """Run ``fn`` over ``items`` on the provider's bounded inner pool; keep each error with its item."""
        items = list(items)
        if len(items) <= 1:
            return [self._call(fn, item) for item in items]
        futures = [(item, self.executor.submit(contextvars.copy_context().run, self._call, fn, item))
                   for item in items]
        return [fut.result() for _, fut in futures]

    @staticmethod
    def _call(fn: Callable[[T], R], item: T) -> tuple[T, R | None, BaseException | None]:
        try:
            return item, fn(item), None
        except Exception as exc:
            return item, None, exc

    def outcome(self) -> UnitOutcome:
        return UnitOutcome(self.unit, self.facts, self.errors, self.coverage, self.counter.value)


def iso(value: Any) -> str | None:
    """Timestamps as ISO-8601 strings with a timezone."""
    if value is None:
        return None
    if hasattr(value, "isoformat"):
        if getattr(value, "tzinfo", None) is None:
            from datetime import UTC

            value = value.replace(tzinfo=UTC)
        return value.isoformat()
    return str(value)


def tag_dict(tags: Iterable[dict[str, Any]] | None, key: str = "Key", value: str = "Value") -> dict[str, str]:
    return {t[key]: t.get(value, "") for t in tags or ()}


def tag_keys(tags: Iterable[dict[str, Any]] | None, key: str = "Key") -> list[str]:
    """Tag *keys* only: tag values may hold secrets, and required-tag checks need only keys."""
    return sorted({t[key] for t in tags or ()})
