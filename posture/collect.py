"""Run providers' work units through a bounded executor and merge outcomes."""

from __future__ import annotations

import time
from collections.abc import Iterable
from concurrent.futures import Executor, ThreadPoolExecutor, as_completed
from typing import Any

from posture.executors import ProgressCallback, UnitExecutor
from posture.facts import CollectionError, FactSet
from posture.provider import Plan, Provider, ProviderError, UnitOutcome, WorkUnit

DEFAULT_CONCURRENCY = 16

INTERRUPTED = "Interrupted"
#: the error code of units an executor could not finish because it went away (a broker lost mid-scan)
EXECUTOR_LOST = "ExecutorLost"


def failed_outcome(unit: WorkUnit, code: str, message: str) -> UnitOutcome:
    """An outcome of ``error`` records for every fact type of ``unit``: a unit that did not run is never
    a silent absence."""
    return UnitOutcome(unit=unit, errors=[
        CollectionError(unit.provider, unit.scope, unit.region, ft, code, message) for ft in unit.fact_types])


def run_units(
    provider: Provider,
    units: list[WorkUnit],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    executor: Executor | None = None,
    progress: ProgressCallback | None = None,
) -> Iterable[UnitOutcome]:
    """Run units concurrently; a unit that raises becomes an ``error`` for its fact types.

    On Ctrl-C the units not yet finished are cancelled and yielded as ``Interrupted``
    errors, so what was collected so far is still evaluated and written.
    """
    own = executor is None
    pool = executor or ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="posture")
    futures = {pool.submit(provider.collect, u): u for u in units}
    yielded: set[Any] = set()
    interrupted = False
    try:
        for done, fut in enumerate(as_completed(futures), start=1):
            unit = futures[fut]
            try:
                outcome = fut.result()
            except Exception as exc:  # a collector bug must not crash the scan
                outcome = failed_outcome(unit, type(exc).__name__, str(exc))
            if progress:
                progress(provider.name, done, len(units))
            yielded.add(fut)
            yield outcome
    except KeyboardInterrupt:
        interrupted = True
        for fut, unit in futures.items():
            if fut not in yielded:
                fut.cancel()
                yield failed_outcome(unit, INTERRUPTED, "collection interrupted by the user before this unit finished")
    finally:
        if own:
            # After an interrupt, don't wait for queued units; running calls end on their own.
            pool.shutdown(wait=not interrupted, cancel_futures=interrupted)


def collect(
    providers: list[Provider],
    fact_types: set[str],
    options: dict[str, Any],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: ProgressCallback | None = None,
    executor: UnitExecutor | None = None,
) -> FactSet:
    """Collect the requested fact types from each provider.

    Providers receive only the fact types they declare. A provider that cannot
    start raises :class:`ProviderError` (a configuration problem: exit 2). Units run on
    ``executor`` (default: :class:`~posture.executors.local.LocalExecutor` with ``concurrency``
    threads); an executor that stops early (a broker gone) leaves ``metadata["executor_lost"]``
    saying why, and the units it could not finish as ``error`` records.
    """
    if executor is None:
        from posture.executors.local import LocalExecutor

        executor = LocalExecutor(concurrency)
    result = FactSet(metadata={"started_at": _now(), "requests": 0})
    failures: list[str] = []
    attempted = 0
    for provider in providers:
        wanted = {ft for ft in fact_types if ft in provider.fact_types}
        if not wanted:
            continue
        if result.metadata.get("interrupted") or result.metadata.get("executor_lost"):
            code = INTERRUPTED if result.metadata.get("interrupted") else EXECUTOR_LOST
            why = "was interrupted" if code == INTERRUPTED else f"lost its executor ({result.metadata['executor_lost']})"
            result.errors.extend(CollectionError(provider.name, "*", "*", ft, code, f"not started: the scan {why}")
                                 for ft in sorted(wanted))
            continue
        attempted += 1
        failure = _collect_provider(provider, wanted, options, result, executor, progress)
        if failure:
            failures.append(failure)
    if failures and len(failures) == attempted:
        raise ProviderError("; ".join(failures))
    result.metadata["finished_at"] = _now()
    # Deterministic order regardless of completion order.
    result.facts.sort(key=lambda f: (f.provider, f.scope, f.region, f.type, f.id))
    result.errors.sort(key=lambda e: (e.provider, e.scope, e.region, e.fact_type, e.code))
    result.coverage.sort(key=lambda c: (c.provider, c.scope, c.region, c.fact_type))
    return result


def _collect_provider(provider: Provider, wanted: set[str], options: dict[str, Any], result: FactSet,
                      executor: UnitExecutor, progress: ProgressCallback | None) -> str | None:
    """Plan -> units for one provider, merged into ``result``; returns why it could not start."""
    try:
        plan: Plan = provider.plan(wanted, options)
        if not plan.scopes:
            why = f": {plan.errors[0].message}" if plan.errors else " (check credentials and scope options)"
            raise ProviderError(f"{provider.name}: no scope to scan{why}")
    except KeyboardInterrupt:
        # Ctrl-C while planning (the first second of a scan): partial results, not a crash.
        result.errors.extend(CollectionError(provider.name, "*", "*", ft, INTERRUPTED, "not collected: the scan "
                                             "was interrupted while planning") for ft in sorted(wanted))
        result.metadata["interrupted"] = True
        return None
    except ProviderError as exc:
        # One provider that cannot start (no credentials) must not stop the others.
        result.errors.extend(
            CollectionError(provider.name, "*", "*", ft, "ProviderUnavailable", str(exc)) for ft in sorted(wanted)
        )
        return str(exc)
    result.scopes.extend(s.to_dict() for s in plan.scopes)
    result.errors.extend(plan.errors)
    result.metadata["requests"] += plan.requests
    for outcome in executor.run(provider, plan.units, progress):
        result.facts.extend(outcome.facts)
        result.errors.extend(outcome.errors)
        result.coverage.extend(outcome.coverage)
        result.metadata["requests"] += outcome.requests
        if any(e.code == INTERRUPTED for e in outcome.errors):
            result.metadata["interrupted"] = True
    if executor.lost:
        result.metadata["executor_lost"] = executor.lost
    return None


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
