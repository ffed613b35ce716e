"""What the Celery tests run against: the real RabbitMQ and Redis, a moto organisation in its own
process, `posture worker` subprocesses, and a TCP proxy that can take the broker away."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import pytest

RABBITMQ = ("127.0.0.1", 5672)
REDIS = ("127.0.0.1", 6379)
BROKER = "amqp://guest:guest@127.0.0.1:{port}//"
BACKEND = "redis://127.0.0.1:6379/7"

ORG_SERVER = r"""
import json, os, sys
import boto3
from posture_aws.testing.mock import assumed_session, mock_env, moto_server, patched_env
members = int(sys.argv[1])
# no AWS-managed policies: loading them into every account is most of moto's start-up
with moto_server() as endpoint, patched_env({**mock_env(endpoint, "us-east-1"), "MOTO_IAM_LOAD_MANAGED_POLICIES": ""}):
    orgs = boto3.client("organizations")
    orgs.create_organization(FeatureSet="ALL")
    ids = [orgs.create_account(Email=f"m{n}@example.com", AccountName=f"member-{n}")["CreateAccountStatus"]["AccountId"]
           for n in range(members)]
    boto3.client("s3").create_bucket(Bucket="unencrypted-logs")  # a resource besides the accounts' own settings
    # moto answers an account's first GenerateCredentialReport STARTED, every later one COMPLETE: asked once
    # here, every scan of the tests makes the same requests whichever runs first
    boto3.client("iam").generate_credential_report()
    for account in ids:
        assumed_session(account, "us-east-1").client("iam").generate_credential_report()
    print(json.dumps({"endpoint": endpoint, "members": ids}), flush=True)
    sys.stdin.read()
"""


def require_services() -> None:
    """Skip, naming what is missing, when RabbitMQ or Redis is not on this machine."""
    for name, (host, port) in (("RabbitMQ", RABBITMQ), ("Redis", REDIS)):
        try:
            socket.create_connection((host, port), timeout=2).close()
        except OSError as exc:
            pytest.skip(f"{name} is not reachable on {host}:{port} ({exc}): the Celery tests need the real broker "
                        "and result backend")
    pytest.importorskip("celery", reason="the Celery tests need the `distributed` extra")


def aws_env(endpoint: str) -> dict[str, str]:
    """A child's environment: moto's endpoint, test credentials, the AWS plugin only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update({"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
                "POSTURE_PLUGINS": "aws,json"})
    env.pop("AWS_SESSION_TOKEN", None)
    return env


@contextmanager
def moto_organization(members: int) -> Iterator[dict[str, Any]]:
    """A seeded management account and ``members`` member accounts in a moto server of its own process
    (moto's state is per process: the suite's other moto servers are untouched)."""
    proc = subprocess.Popen([sys.executable, "-c", ORG_SERVER, str(members)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)  # stdin: the server runs until it is closed
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        if not line:
            raise RuntimeError(f"the moto organisation server did not start (exit {proc.wait(10)})")
        yield json.loads(line)
    finally:
        proc.kill()  # moto's state dies with it; nothing to shut down cleanly
        proc.wait()


class Worker:
    """A `posture worker` subprocess (its own process group, so a SIGKILL takes its children too)."""

    def __init__(self, broker: str, queue: str, endpoint: str, concurrency: int = 4, **env: str) -> None:
        self.name = f"test-{uuid.uuid4().hex[:8]}"
        cmd = [sys.executable, "-c", "from posture.cli import main; main()", "worker", "--broker", broker,
               "--backend", BACKEND, "--queue", queue, "--concurrency", str(concurrency), "--name", self.name]
        self.proc = subprocess.Popen(cmd, env={**aws_env(endpoint), **env}, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True, start_new_session=True)
        self.broker = broker

    def wait_ready(self, timeout: float = 60) -> Worker:
        """Until the worker answers a ping on the broker."""
        from posture.executors.celery_app import make_app

        app = make_app(self.broker, BACKEND)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited {self.proc.returncode}: {self.proc.stderr.read()[-2000:]}")
            if app.control.ping(destination=[f"celery@{self.name}"], timeout=0.5):
                return self
        raise RuntimeError(f"worker {self.name} did not answer a ping in {timeout} s")

    def kill(self) -> None:
        """SIGKILL, as an OOM killer or a lost node would: no chance to acknowledge or give anything back."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        """SIGTERM (Celery's warm shutdown), then SIGKILL: each test's queue is its own, nothing is left waiting."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                self.kill()


@contextmanager
def workers(count: int, broker: str, queue: str, endpoint: str, **env: str) -> Iterator[list[Worker]]:
    started = [Worker(broker, queue, endpoint, **env) for _ in range(count)]
    try:
        yield [w.wait_ready() for w in started]
    finally:
        for w in started:
            w.stop()


class TcpProxy:
    """A loopback TCP proxy to ``upstream``; :meth:`close` takes the service away from everyone using it
    (the listening socket and every open connection), as a broker host that goes down would."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.closed = False
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            if self.closed:
                client.close()
                return
            try:
                upstream = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.closed = True
        with suppress(OSError):  # wakes the thread blocked in accept(): close() alone leaves the port listening
            self.server.shutdown(socket.SHUT_RDWR)
        self.server.close()
        with self._lock:
            for s in self.sockets:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                    s.close()
                except OSError:
                    pass
