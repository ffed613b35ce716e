"""What a collector sees while it runs one work unit.

A collector asks the context for its clients (a plugin's subclass adds them), reads, and records
facts with :meth:`UnitContext.add`. Failures are data: a call that fails inside
``with ctx.feeding(fact_type, ...)`` drops what the block added and records one
:class:`~posture.facts.CollectionError` per fact type it feeds, with the cloud's error code from
the plugin's classifier; the rest of the unit carries on. A block that succeeds records
:class:`~posture.facts.Coverage` (the fact type *was* read, so no fact means no resource).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from posture.facts import CollectionError, Coverage, Fact
from posture.provider import UnitOutcome, WorkUnit

T = TypeVar("T")
R = TypeVar("R")

#: the innermost open ``feeding`` block of this context: (its unit context, the facts it holds)
_BLOCK: contextvars.ContextVar[tuple[UnitContext, list[Fact]] | None] = contextvars.ContextVar(
    "posture_feeding_block", default=None)


@dataclass(frozen=True)
class Failure:
    """A failed call as a cloud reports it; what a plugin's classifier returns.

    ``code`` is the cloud's own error code (``AccessDenied``, ``AuthorizationFailed``,
    ``PERMISSION_DENIED``), so a user can search the cloud's documentation for it; ``message`` is
    short and never holds a token or key. ``not_applicable`` says the error means "this feature or
    region is not there" (an API not enabled, a region not opted in) rather than "could not look":
    checks needing the fact type are then ``not_applicable`` instead of ``error``.
    """

    code: str
    message: str
    not_applicable: bool = False


#: a plugin's classifier: any exception its SDK (or a collector bug) raises -> a :class:`Failure`
Classifier = Callable[[BaseException], Failure]


class Failed:
    """What :meth:`UnitContext.attempt` returns for a call that raised; the error is already recorded.

    Why a marker rather than ``None``: ``None`` is a legitimate answer of many calls (no policy
    set), and the caller often still needs the failure's code (kept in a fact attribute).
    """

    def __init__(self, exc: BaseException, failure: Failure) -> None:
        self.exc = exc
        self.failure = failure

    @property
    def code(self) -> str:
        return self.failure.code


class UnitContext:
    """Collection state of one work unit; plugins subclass it to add their clients.

    ``classify`` is the plugin's classifier; ``executor`` an optional shared pool for
    :meth:`parallel` (else each call makes a pool of at most ``workers`` threads).
    """

    #: Why: some clouds' collectors read one fact type through many per-resource calls and report
    #: only its first failure (one error line per fact type, not one per resource).
    one_error_per_fact_type: ClassVar[bool] = False
    #: Why: collectors written without ``feeding`` blocks (``attempt`` calls only) are complete for
    #: every asked fact type that recorded no error; with this set, :meth:`outcome` says so.
    cover_unfailed: ClassVar[bool] = False

    def __init__(self, unit: WorkUnit, classify: Classifier, *, executor: Executor | None = None,
                 workers: int = 8) -> None:
        self.unit = unit
        self.scope = unit.scope
        self.classify = classify
        self.executor = executor
        self.workers = workers
        self.facts: list[Fact] = []
        self.errors: list[CollectionError] = []
        self.coverage: list[Coverage] = []

    # -- what the unit is for ------------------------------------------------------------
    def wants(self, *fact_types: str) -> bool:
        """True when the unit was asked for any of ``fact_types`` (skip calls nobody needs)."""
        return any(ft in self.unit.fact_types for ft in fact_types)

    # -- facts ---------------------------------------------------------------------------
    def add(self, fact_type: str, id: str, name: str, region: str | None, attributes: dict[str, Any]) -> None:
        """Record a fact (ignored when the unit was not asked for ``fact_type``).

        Inside a ``feeding`` block the fact is kept only if the block succeeds. ``region``
        defaults to the unit's region.
        """
        if fact_type not in self.unit.fact_types:
            return
        fact = Fact(self.unit.provider, self.scope, region or self.unit.region, fact_type, id, name, attributes)
        block = _BLOCK.get()
        (block[1] if block is not None and block[0] is self else self.facts).append(fact)

    # -- failures and coverage -----------------------------------------------------------
    def fail(self, fact_types: Iterable[str], exc: BaseException, *, region: str | None = None, where: str = "",
             hint: str = "") -> Failure:
        """Record ``exc`` as an error for each asked fact type in ``fact_types``; returns its :class:`Failure`.

        ``where`` names the resource the call was about (prefixed to the message). ``hint`` marks
        a call an assessment cannot do without (an observing API such as a security center): it is
        appended to the message and the error never counts as ``not_applicable``, because a
        disabled observer means "could not assess", not "feature absent".
        """
        failure = self.classify(exc)
        message = f"{where}: {failure.message}" if where else failure.message
        if hint:
            message = f"{message} ({hint})"
        failed = {e.fact_type for e in self.errors} if self.one_error_per_fact_type else set()
        for ft in dict.fromkeys(fact_types):
            if ft in self.unit.fact_types and ft not in failed:
                self.errors.append(CollectionError(self.unit.provider, self.scope, region or self.unit.region, ft,
                                                   failure.code, message,
                                                   not_applicable=failure.not_applicable and not hint))
        return failure

    def covered(self, fact_types: Iterable[str], region: str | None = None) -> None:
        """Record that each asked fact type in ``fact_types`` was read completely (in ``region``)."""
        for ft in fact_types:
            if ft in self.unit.fact_types:
                self.coverage.append(Coverage(self.unit.provider, self.scope, region or self.unit.region, ft))

    @contextmanager
    def feeding(self, *fact_types: str, region: str | None = None) -> Iterator[None]:
        """Calls in the block feed ``fact_types``: all succeed -> facts kept and coverage; any fails ->
        the block's facts dropped and one error per fact type (the unit goes on)."""
        parent = _BLOCK.get()
        held: list[Fact] = []
        token = _BLOCK.set((self, held))
        try:
            yield
        except Exception as exc:  # cloud errors and collector bugs alike become data
            _BLOCK.reset(token)
            self.fail(fact_types, exc, region=region)
            return
        _BLOCK.reset(token)
        (parent[1] if parent is not None and parent[0] is self else self.facts).extend(held)
        self.covered(fact_types, region)

    def attempt(self, fact_types: Iterable[str], call: Callable[[], T], where: str = "") -> T | Failed:
        """Run one call; its failure is recorded for ``fact_types`` and returned as :class:`Failed`.

        For reads whose failure must not end the block (one resource of many): the caller keeps the
        others. Pass no fact types to learn of a failure without recording an error (an optional
        read whose code goes into a fact attribute). Lazy pagers are read to the end inside the
        attempt (:meth:`settle`), so a failing second page is caught here too.
        """
        try:
            return self.settle(call())
        except Exception as exc:  # every SDK/transport error is reported, never raised
            return Failed(exc, self.fail(fact_types, exc, where=where))

    def settle(self, result: T) -> T:
        """Hook: read a lazy result to the end (a plugin whose SDK returns pagers overrides it)."""
        return result

    # -- bounded concurrency within a unit -------------------------------------------------
    def parallel(self, fn: Callable[[T], R], items: Iterable[T]) -> list[tuple[T, R | None, BaseException | None]]:
        """``fn`` over ``items`` concurrently (bounded); each result or error kept with its item, in order.

        Worker threads run in a copy of this context, so their requests count for this unit and
        their facts go into the enclosing ``feeding`` block.
        """
        items = list(items)
        if len(items) <= 1:
            return [_call(fn, item) for item in items]
        if self.executor is not None:
            futures = [self.executor.submit(contextvars.copy_context().run, _call, fn, item) for item in items]
            return [fut.result() for fut in futures]
        with ThreadPoolExecutor(max_workers=min(self.workers, len(items))) as pool:
            futures = [pool.submit(contextvars.copy_context().run, _call, fn, item) for item in items]
            return [fut.result() for fut in futures]

    def fan_out(self, fn: Callable[[T], R], items: Iterable[T]) -> list[tuple[T, R]]:
        """Like :meth:`parallel`, as (item, result) pairs; the first error (in item order) is raised.

        For per-resource calls whose failure ends the block (or that record their own errors).
        """
        pairs = []
        for item, result, exc in self.parallel(fn, items):
            if exc is not None:
                raise exc
            pairs.append((item, result))
        return pairs  # type: ignore[return-value]

    # -- the result ------------------------------------------------------------------------
    def pending(self) -> list[str]:
        """Asked fact types with neither coverage nor an error yet (what a crash leaves unaccounted)."""
        done = {c.fact_type for c in self.coverage} | {e.fact_type for e in self.errors}
        return [ft for ft in self.unit.fact_types if ft not in done]

    def outcome(self, requests: int) -> UnitOutcome:
        """What the unit produced, with the ``requests`` it made."""
        coverage = list(self.coverage)
        if self.cover_unfailed:
            failed = {e.fact_type for e in self.errors}
            coverage += [Coverage(self.unit.provider, self.scope, self.unit.region, ft)
                         for ft in sorted(set(self.unit.fact_types) - failed)]
        return UnitOutcome(self.unit, self.facts, self.errors, coverage, requests)


def _call(fn: Callable[[T], R], item: T) -> tuple[T, R | None, BaseException | None]:
    try:
        return item, fn(item), None
    except Exception as exc:
        return item, None, exc
