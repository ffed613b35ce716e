"""``posture worker``: collect work units sent by ``posture scan --executor celery``."""

from __future__ import annotations

import os
import socket

import click

from posture.executors import ENV_BACKEND, ENV_BROKER


@click.command()
@click.option("--broker", envvar=ENV_BROKER, required=True, metavar="URL",
              help=f"Celery broker: amqp://user:pass@host:5672// (RabbitMQ) or redis://host:6379/N [env {ENV_BROKER}].")
@click.option("--backend", envvar=ENV_BACKEND, required=True, metavar="URL",
              help=f"Redis for results and the shared throttle: redis://host:6379/N [env {ENV_BACKEND}].")
@click.option("--concurrency", type=click.IntRange(1, 256), default=16, show_default=True,
              help="Work units this worker collects at once (threads).")
@click.option("--service-concurrency", type=click.IntRange(1, 1000), default=None, metavar="N",
              envvar="POSTURE_SERVICE_CONCURRENCY",
              help="Requests in flight per (account, region, service), all workers together (default 16; give "
                   "every worker the same value).")
@click.option("--queue", default=None, metavar="NAME", help="Queue to consume (default posture.units; the scan's "
              "--queue must match).")
@click.option("--name", "node", default=None, metavar="NAME", help="Celery node name (default posture-<host>-<pid>).")
def worker(broker: str, backend: str, concurrency: int, service_concurrency: int | None, queue: str | None,
           node: str | None) -> None:
    """Collect work units for scans run with `--executor celery`, until stopped.

    A unit names a provider, an account/subscription/project, a region, a role name and a collector,
    never a credential: this worker reaches the cloud with its own credentials (its environment,
    instance role, workload identity) and its own installed plugins. Outcomes go back through the
    Redis result backend. See docs/scale.md.

    \b
    Example:
      posture worker --broker amqp://guest:guest@127.0.0.1:5672// --backend redis://127.0.0.1:6379/0
    """
    from posture.cli.common import fail
    from posture.executors import ExecutorError

    try:
        from posture.executors.celery_app import DEFAULT_QUEUE, make_app, register_task, safe_url
        from posture.executors.throttle import DEFAULT_LIMIT, RedisGate
    except ImportError as exc:
        fail(f"posture worker needs the `distributed` extra (pip install 'tiered-posture[distributed]'): {exc}")
    try:
        app = make_app(broker, backend, queue or DEFAULT_QUEUE)
    except ExecutorError as exc:
        fail(str(exc))
    from posture.plugins import registry
    from posture.terminal import info

    gate = RedisGate(app.backend.client, limit=service_concurrency or DEFAULT_LIMIT)
    register_task(app, gate, concurrency)
    providers = ", ".join(sorted(registry().providers)) or "none"
    info(f"posture worker: providers {providers}; queue {queue or DEFAULT_QUEUE} on {safe_url(broker)}; "
         f"results in {safe_url(backend)}; {concurrency} unit(s) at once, {gate.limit} request(s) per "
         "(account, region, service)")
    name = node or f"posture-{socket.gethostname()}-{os.getpid()}"
    app.worker_main(["worker", "--pool=threads", f"--concurrency={concurrency}", "--queues", queue or DEFAULT_QUEUE,
                     "--hostname", name, "--without-gossip", "--without-mingle", "--loglevel=WARNING"])
