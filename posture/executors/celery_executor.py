"""The Celery executor: the scan sends its work units to ``posture worker`` processes and gathers outcomes.

Units go to a queue on the broker (RabbitMQ or Redis) as JSON messages naming what to collect, never
a credential (:mod:`posture.executors.wire`); workers collect them with their own plugins and
credentials and store each outcome in the Redis result backend, where the scan reads them as they
arrive. What can go wrong, and what the scan does:

- a worker dies mid-unit: the unit was not acknowledged (acks late), the broker delivers it again,
  another worker runs it; a unit whose worker dies every time ends as a ``WorkerLost`` error;
- the broker goes away: after ``grace_s`` of failed reconnections the units not yet back become
  ``BrokerUnavailable`` errors, :attr:`CeleryExecutor.lost` says why, and the scan writes what was
  collected as partial results and exits 2; workers skip the abandoned units if it comes back;
- Ctrl-C: the same, as ``Interrupted`` errors (exit 130).
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator
from typing import Any

from posture.collect import INTERRUPTED, failed_outcome
from posture.executors import ExecutorError, ProgressCallback
from posture.executors.celery_app import (
    DEFAULT_QUEUE,
    RESULT_TTL_S,
    TASK_NAME,
    make_app,
    safe_url,
    scan_key,
)
from posture.executors.wire import outcome_from_dict, unit_to_dict
from posture.provider import Provider, UnitOutcome, WorkUnit
from posture.terminal import debug

BROKER_UNAVAILABLE = "BrokerUnavailable"
BACKEND_UNAVAILABLE = "ResultBackendUnavailable"
#: how long the broker (or the result backend) may stay unreachable before the scan stops waiting
DEFAULT_GRACE_S = 30.0
POLL_S = 0.1
CHECK_EVERY_S = 1.0
MGET_CHUNK = 1000


class CeleryExecutor:
    """Units as Celery tasks on ``broker``, outcomes read from the Redis ``backend``."""

    name = "celery"

    def __init__(self, broker: str, backend: str, *, queue: str = DEFAULT_QUEUE,
                 grace_s: float = DEFAULT_GRACE_S) -> None:
        self.broker_url, self.backend_url = broker, backend
        self.app = make_app(broker, backend, queue)
        self.queue = queue
        self.grace_s = grace_s
        self.lost: str | None = None
        self.scans: list[str] = []  # the scan ids used, one per provider run (tests, logs)
        self._check()

    def _check(self) -> None:
        """Reach the broker and the backend now: a wrong URL is exit 2 before planning, not after it."""
        try:
            with self.app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, interval_start=0, timeout=10)
        except Exception as exc:
            raise ExecutorError(f"cannot reach the Celery broker {safe_url(self.broker_url)}: {_why(exc)}") from None
        try:
            self.app.backend.client.ping()
        except Exception as exc:
            raise ExecutorError(f"cannot reach the result backend {safe_url(self.backend_url)}: {_why(exc)}") from None

    # ------------------------------------------------------------------------------------ run
    def run(self, provider: Provider, units: list[WorkUnit],
            progress: ProgressCallback | None = None) -> Iterator[UnitOutcome]:
        scan = uuid.uuid4().hex[:16]
        self.scans.append(scan)
        batches = {f"posture-{scan}-{n:06d}": batch for n, batch in enumerate(_by_scope(units))}
        pending = dict(batches)
        done = 0
        try:
            for tid in self._send(scan, batches):
                for unit in pending.pop(tid):
                    yield failed_outcome(unit, BROKER_UNAVAILABLE, f"not sent: {self.lost}")
            for outcome in self._gather(pending):
                done += 1
                if progress:
                    progress(provider.name, done, len(units))
                yield outcome
        except KeyboardInterrupt:
            self._cancel(scan)
            for batch in pending.values():
                for unit in batch:
                    yield failed_outcome(unit, INTERRUPTED, "collection interrupted by the user before this unit "
                                         "finished")
            pending.clear()
        finally:
            if pending:  # stopped early (broker lost, generator closed): workers skip what is left
                self._cancel(scan)
            self._forget(scan, batches)

    def _send(self, scan: str, batches: dict[str, list[WorkUnit]]) -> list[str]:
        """Publish every batch; returns the task ids that could not be sent (the broker went away)."""
        sent = 0
        order = list(batches)
        try:
            with self.app.producer_or_acquire() as producer:
                for tid in order:
                    self.app.send_task(TASK_NAME, args=[scan, [unit_to_dict(u) for u in batches[tid]]], task_id=tid,
                                       queue=self.queue, producer=producer, headers={"posture_scan": scan},
                                       expires=RESULT_TTL_S, retry=True,
                                       retry_policy={"max_retries": 3, "interval_start": 0.5, "interval_step": 1,
                                                     "interval_max": 2})
                    sent += 1
        except Exception as exc:
            self.lost = f"the Celery broker {safe_url(self.broker_url)} went away while units were sent: {_why(exc)}"
        return order[sent:]

    def _gather(self, pending: dict[str, list[WorkUnit]]) -> Iterator[UnitOutcome]:
        """Outcomes as workers store them; stop when every unit is back or the broker/backend is lost."""
        backend = self.app.backend
        keys = {tid: backend.get_key_for_task(tid) for tid in pending}
        watch = _Watch(self)
        try:
            while pending and not self.lost:
                arrived = 0
                try:
                    for tid, meta in self._ready(list(pending), keys):
                        arrived += 1
                        batch = pending.pop(tid)
                        debug(f"celery: {batch[0].provider} {batch[0].scope}: {len(batch)} unit(s) back ({tid})")
                        yield from self._outcomes(batch, meta)
                        backend.client.delete(keys[tid])
                    watch.backend_ok()
                except _BackendDown as exc:
                    watch.backend_failed(exc.args[0])
                if not arrived:
                    watch.check()
                    time.sleep(POLL_S)
        finally:
            watch.close()
        code = BROKER_UNAVAILABLE if "broker" in (self.lost or "") else BACKEND_UNAVAILABLE
        for tid in list(pending):
            for unit in pending.pop(tid):
                yield failed_outcome(unit, code, f"not collected: {self.lost}")

    def _ready(self, tids: list[str], keys: dict[str, bytes]) -> Iterator[tuple[str, dict[str, Any]]]:
        from celery import states

        backend = self.app.backend
        for start in range(0, len(tids), MGET_CHUNK):
            chunk = tids[start:start + MGET_CHUNK]
            try:
                values = backend.client.mget([keys[t] for t in chunk])
            except Exception as exc:
                raise _BackendDown(_why(exc)) from None
            for tid, raw in zip(chunk, values, strict=True):
                if raw is None:
                    continue
                meta = backend.decode_result(raw)
                if meta.get("status") in states.READY_STATES:
                    yield tid, meta

    @staticmethod
    def _outcomes(units: list[WorkUnit], meta: dict[str, Any]) -> Iterator[UnitOutcome]:
        """The batch's outcomes, each for the unit sent (a task that failed: an error for every unit)."""
        from celery import states

        if meta["status"] == states.SUCCESS:
            returned = meta["result"]["outcomes"]
            if len(returned) == len(units):
                yield from (outcome_from_dict(data, unit) for data, unit in zip(returned, units, strict=True))
                return
            why = f"the worker returned {len(returned)} outcomes for {len(units)} units"
            yield from (failed_outcome(unit, "WorkerMismatch", why) for unit in units)
            return
        exc = meta.get("result")
        code = type(exc).__name__ if isinstance(exc, BaseException) else str(meta["status"]).title()
        yield from (failed_outcome(unit, code, f"the worker's task ended {meta['status']}: {exc}") for unit in units)

    def _cancel(self, scan: str) -> None:
        # Redis gone too: the abandoned units expire with their messages
        with contextlib.suppress(Exception):
            self.app.backend.client.set(scan_key(scan, "cancelled"), 1, ex=RESULT_TTL_S)

    def _forget(self, scan: str, ids: dict[str, list[WorkUnit]]) -> None:
        """Drop the per-unit start counters (results were deleted as read)."""
        try:
            names = [scan_key(scan, f"starts:{tid}") for tid in ids]
            for start in range(0, len(names), MGET_CHUNK):
                self.app.backend.client.delete(*names[start:start + MGET_CHUNK])
        except Exception:  # noqa: BLE001 - they expire on their own
            pass


class _BackendDown(Exception):
    pass


class _Watch:
    """Is the broker still there? A passive declare of the queue every second; reconnection tried
    for ``grace_s`` before the executor is declared lost. Also says once when no worker consumes."""

    def __init__(self, executor: CeleryExecutor) -> None:
        self.executor = executor
        self.conn: Any = None
        self.last = 0.0
        self.broker_down_since: float | None = None
        self.backend_down_since: float | None = None
        self.told_no_worker = False

    def check(self) -> None:
        now = time.monotonic()
        if now - self.last < CHECK_EVERY_S:
            return
        self.last = now
        try:
            if self.conn is None:
                self.conn = self.executor.app.connection_for_write()
                self.conn.ensure_connection(max_retries=0, timeout=5)
            _, messages, consumers = self.conn.default_channel.queue_declare(queue=self.executor.queue, passive=True)
            self.broker_down_since = None
        except Exception as exc:
            self._close()
            if self.broker_down_since is None:
                debug(f"celery: the broker {safe_url(self.executor.broker_url)} is unreachable ({_why(exc)}); "
                      f"waiting up to {self.executor.grace_s:.0f} s for it")
            self.broker_down_since = self.broker_down_since or now
            if now - self.broker_down_since >= self.executor.grace_s:
                self.executor.lost = (f"the Celery broker {safe_url(self.executor.broker_url)} went away "
                                      f"(unreachable for {self.executor.grace_s:.0f} s: {_why(exc)})")
                self._close()
            return
        if not consumers and messages and not self.told_no_worker:
            from posture.terminal import info

            self.told_no_worker = True
            info(f"posture: no `posture worker` consumes queue {self.executor.queue} on "
                 f"{safe_url(self.executor.broker_url)}; {messages} unit(s) wait until one starts")

    def backend_ok(self) -> None:
        self.backend_down_since = None

    def backend_failed(self, why: str) -> None:
        now = time.monotonic()
        self.backend_down_since = self.backend_down_since or now
        if now - self.backend_down_since >= self.executor.grace_s:
            self.executor.lost = (f"the result backend {safe_url(self.executor.backend_url)} went away "
                                  f"(unreachable for {self.executor.grace_s:.0f} s: {why})")
        time.sleep(POLL_S)

    def close(self) -> None:
        self._close()

    def _close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):  # it is already gone
                self.conn.close()
            self.conn = None


def _by_scope(units: list[WorkUnit]) -> list[list[WorkUnit]]:
    """Units grouped by (provider, scope), in plan order: one task per account/subscription/project."""
    groups: dict[tuple[str, str], list[WorkUnit]] = {}
    for unit in units:
        groups.setdefault((unit.provider, unit.scope), []).append(unit)
    return list(groups.values())


def _why(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]
