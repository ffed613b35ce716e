"""Where a scan's work units run: the executor interface, and choosing one by name.

The scan plans work units (:mod:`posture.provider`) and hands each provider's units to a
:class:`UnitExecutor`, which yields the :class:`~posture.provider.UnitOutcome` s in any order
(outcomes merge by key). ``local`` (the default) runs them on a bounded thread pool in this
process; ``celery`` ships them to ``posture worker`` processes through a broker
(:mod:`posture.executors.celery_executor`, extra ``distributed``). Nothing here imports Celery:
``posture --help`` and local scans never load it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from posture.provider import Provider, UnitOutcome, WorkUnit

#: progress(provider name, units done, units in all)
ProgressCallback = Callable[[str, int, int], None]

#: the executors ``--executor`` / the ``executor`` config key / ``POSTURE_EXECUTOR`` accept
EXECUTORS = ("local", "celery")
ENV_BROKER = "POSTURE_BROKER_URL"
ENV_BACKEND = "POSTURE_RESULT_BACKEND"
#: seconds the broker (or result backend) may stay unreachable before a scan stops waiting (default 30)
ENV_GRACE = "POSTURE_BROKER_GRACE"


@runtime_checkable
class UnitExecutor(Protocol):
    """Runs one provider's work units and yields their outcomes as they finish.

    A unit that cannot be run becomes an outcome with ``error`` records for its fact types, never
    a missing outcome: :func:`posture.collect.collect` evaluates exactly what it is given, so a
    silent absence would read as "no such resource". ``lost`` says why the executor stopped before
    every unit ran (a broker that went away); the scan then writes partial results and exits 2.
    """

    name: str
    lost: str | None

    def run(self, provider: Provider, units: list[WorkUnit],
            progress: ProgressCallback | None = None) -> Iterator[UnitOutcome]: ...


class ExecutorError(Exception):
    """An executor cannot start (unknown name, missing extra, no broker URL): exit 2, clear message."""


@dataclass(frozen=True)
class ExecutorSettings:
    """What choosing an executor needs; the URLs default to ``POSTURE_BROKER_URL`` / ``POSTURE_RESULT_BACKEND``."""

    name: str = "local"
    concurrency: int = 16
    broker: str | None = None
    backend: str | None = None
    #: the broker queue units go to (workers consume the same; default ``posture.units``)
    queue: str | None = None


def make_executor(settings: ExecutorSettings) -> UnitExecutor:
    """The executor ``settings.name`` names; Celery is imported only when asked for."""
    import os

    name = (settings.name or "local").strip().lower()
    if name == "local":
        from posture.executors.local import LocalExecutor

        return LocalExecutor(settings.concurrency)
    if name == "celery":
        broker = settings.broker or os.environ.get(ENV_BROKER)
        backend = settings.backend or os.environ.get(ENV_BACKEND)
        if not broker or not backend:
            missing = " and ".join(f"--{flag} (or {env})" for flag, env, value in
                                   (("broker", ENV_BROKER, broker), ("backend", ENV_BACKEND, backend)) if not value)
            raise ExecutorError(f"--executor celery needs {missing}: e.g. --broker amqp://guest:guest@127.0.0.1:5672// "
                                "--backend redis://127.0.0.1:6379/0")
        try:
            from posture.executors.celery_executor import CeleryExecutor
        except ImportError as exc:
            raise ExecutorError(f"--executor celery needs the `distributed` extra (pip install "
                                f"'tiered-posture[distributed]'): {exc}") from None
        grace = os.environ.get(ENV_GRACE)
        return CeleryExecutor(broker, backend, **({"queue": settings.queue} if settings.queue else {}),
                              **({"grace_s": float(grace)} if grace else {}))
    raise ExecutorError(f"unknown executor {settings.name!r} (valid: {', '.join(EXECUTORS)})")


def describe(executor: Any) -> str:
    """A short name for logs and the fact file's metadata."""
    return str(getattr(executor, "name", type(executor).__name__))


__all__ = ["EXECUTORS", "ExecutorError", "ExecutorSettings", "ProgressCallback", "UnitExecutor", "make_executor"]
