"""The Celery application posture's scanner and workers share: settings and the one task.

Why these settings:

- ``json`` only (tasks and results): a unit names what to collect, an outcome holds facts; neither
  needs pickle, and a worker never unpickles what a broker hands it.
- ``task_acks_late`` + ``task_reject_on_worker_lost``, prefetch 1: a task is acknowledged when its
  outcomes are stored, so a worker killed mid-unit (its connection dropped, or its pool process
  lost) leaves the message to be delivered again. Units are idempotent reads, and a redelivered
  unit overwrites the same result.
- one task per scope (account, subscription, project): a scope's units run on one worker, so its role
  is assumed once and its clients reused, exactly as in a local scan (same requests), and its API is
  never hit from many workers at once.
- the task counts its starts in Redis: a batch whose worker dies every time (a poison unit) ends as
  ``error`` outcomes after :data:`MAX_STARTS` starts instead of circling forever.
- a scan id in every task id (``posture-<scan>-<n>``), routing key and header keeps concurrent
  scans on one broker apart: each scan gathers exactly its own task ids; a stopped scan's units are
  skipped by workers (``posture:scan:<id>:cancelled``) rather than run for nobody.
"""

from __future__ import annotations

import os
import socket
import time
from typing import Any

TASK_NAME = "posture.collect_units"
DEFAULT_QUEUE = "posture.units"
#: starts of one task (each worker death or lost connection starts it again) before its units end as errors
MAX_STARTS = 5
#: retries of a unit whose provider raised outside any collector (a transient credential failure)
MAX_RETRIES = 2
#: how long results and scan markers stay in Redis when nobody collects them
RESULT_TTL_S = 24 * 3600
WORKER_LOST = "WorkerLost"
CANCELLED = "Cancelled"


def safe_url(url: str) -> str:
    """``url`` without its password, for messages and logs."""
    from kombu.utils.url import maybe_sanitize_url

    return str(maybe_sanitize_url(url))


def scan_key(scan: str, what: str) -> str:
    return f"posture:scan:{scan}:{what}"


def make_app(broker: str, backend: str, queue: str = DEFAULT_QUEUE) -> Any:
    """A Celery app on ``broker`` with results in ``backend`` (a ``redis://`` URL)."""
    from celery import Celery

    if not backend.startswith(("redis://", "rediss://", "unix://")):
        from posture.executors import ExecutorError

        raise ExecutorError(f"the result backend must be Redis (redis://host:6379/N), not {safe_url(backend)!r}: "
                            "it also holds the throttle and the scans' markers")
    app = Celery("posture", broker=broker, backend=backend, set_as_current=False)
    app.conf.update(
        task_serializer="json", result_serializer="json", accept_content=["json"], result_accept_content=["json"],
        task_acks_late=True, task_reject_on_worker_lost=True, worker_prefetch_multiplier=1,
        task_default_queue=queue, task_default_routing_key=queue, result_expires=RESULT_TTL_S,
        broker_connection_retry_on_startup=True, broker_heartbeat=10, worker_hijack_root_logger=False,
        worker_cancel_long_running_tasks_on_connection_loss=False, task_send_sent_event=False,
        # A Redis broker redelivers an unacknowledged unit after this long (RabbitMQ: when the connection drops).
        broker_transport_options={"visibility_timeout": 3600},
        result_backend_transport_options={"retry_policy": {"timeout": 5.0}},
    )
    return app


def register_task(app: Any, gate: Any = None, concurrency: int = 16) -> Any:
    """The worker's task: run one scope's units with this worker's own plugins and credentials.

    The units of a batch share a pool of ``concurrency`` threads with every other batch this worker
    runs, so a worker never has more units in flight than a local scan with that concurrency.
    """
    from concurrent.futures import ThreadPoolExecutor

    from posture.collect import failed_outcome
    from posture.executors.wire import outcome_to_dict, unit_from_dict

    host = f"{socket.gethostname()}:{os.getpid()}"
    pool = ThreadPoolExecutor(max(1, concurrency), thread_name_prefix="posture-unit")

    @app.task(name=TASK_NAME, bind=True, acks_late=True, reject_on_worker_lost=True)
    def collect_units(task: Any, scan: str, batch: list[dict[str, Any]]) -> dict[str, Any]:
        units = [unit_from_dict(d) for d in batch]
        redis = task.backend.client
        if redis.exists(scan_key(scan, "cancelled")):
            return _outcomes(failed_outcome(u, CANCELLED, "the scan stopped before this unit ran") for u in units)
        starts_key = scan_key(scan, f"starts:{task.request.id}")
        starts = redis.incr(starts_key)
        redis.expire(starts_key, RESULT_TTL_S)
        if starts > MAX_STARTS:
            why = (f"its batch was started {MAX_STARTS} times without finishing (the worker died or lost the "
                   f"broker each time); not run again (last: {host})")
            return _outcomes(failed_outcome(u, WORKER_LOST, why) for u in units)
        futures = [pool.submit(_collect_with_retries, unit, gate, host) for unit in units]
        return _outcomes(f.result() for f in futures)

    def _outcomes(outcomes: Any) -> dict[str, Any]:
        return {"outcomes": [outcome_to_dict(o) for o in outcomes]}

    return collect_units


def _collect_with_retries(unit: Any, gate: Any, host: str) -> Any:
    """One unit; a provider that raises (not a collector: those are errors already) is tried again, then
    the unit is an error naming the cause."""
    from posture.collect import failed_outcome

    for attempt in range(MAX_RETRIES + 1):
        try:
            return _collect(unit, gate)
        except Exception as exc:
            if attempt == MAX_RETRIES:
                return failed_outcome(unit, type(exc).__name__, f"{exc} (after {MAX_RETRIES + 1} attempts on "
                                      f"worker {host})")
            time.sleep(1.0 * (attempt + 1))
    raise AssertionError("unreachable")


def _collect(unit: Any, gate: Any) -> Any:
    from contextlib import nullcontext

    from posture.collect import failed_outcome
    from posture.collecting.throttling import gated
    from posture.plugins import registry

    provider = registry().providers.get(unit.provider)
    if provider is None:
        return failed_outcome(unit, "ProviderNotInstalled", f"worker {socket.gethostname()} has no {unit.provider!r} "
                              "provider (install the same plugins on every worker)")
    with gated(gate, unit.provider, unit.scope) if gate is not None else nullcontext():
        return provider.collect(unit)
