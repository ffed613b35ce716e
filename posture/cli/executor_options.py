"""``--executor``, ``--broker``, ``--backend``, ``--queue``: where ``posture scan``/``collect`` run work units."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from posture.executors import ENV_BACKEND, ENV_BROKER, EXECUTORS


def executor_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--queue", default=None, metavar="NAME", hidden=False,
                        help="[celery] Broker queue for the units (default posture.units; workers' --queue must "
                             "match).")(func)
    func = click.option("--backend", envvar=ENV_BACKEND, default=None, metavar="URL",
                        help=f"[celery] Redis result backend, redis://host:6379/N [env {ENV_BACKEND}].")(func)
    func = click.option("--broker", envvar=ENV_BROKER, default=None, metavar="URL",
                        help=f"[celery] Broker, amqp://user:pass@host:5672// or redis://... [env {ENV_BROKER}].")(func)
    return click.option("--executor", type=click.Choice(EXECUTORS, case_sensitive=False), default="local",
                        envvar="POSTURE_EXECUTOR", show_default=True,
                        help="Where work units run: local threads, or `posture worker` processes through "
                             "Celery (docs/scale.md).")(func)


def executor_or_exit(kwargs: dict[str, Any], concurrency: int) -> Any:
    """The executor the (popped) options name; a missing URL or unreachable broker is exit 2 before planning."""
    from posture.cli.common import fail
    from posture.executors import ExecutorError, ExecutorSettings, make_executor

    settings = ExecutorSettings(kwargs.pop("executor", None) or "local", concurrency, kwargs.pop("broker", None),
                                kwargs.pop("backend", None), kwargs.pop("queue", None))
    try:
        return make_executor(settings)
    except ExecutorError as exc:
        fail(str(exc))
