"""The per (account, region, service) limit shared by workers: a Redis lease semaphore, and the slots a unit takes."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from typing import Any

import pytest

from posture.collecting.throttling import acquire_slot, gated, release_slot

REDIS_URL = "redis://127.0.0.1:6379/7"


@pytest.fixture
def redis_client() -> Any:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=2).close()
    except OSError as exc:
        pytest.skip(f"Redis is not reachable on 127.0.0.1:6379 ({exc}): the shared throttle lives there")
    redis = pytest.importorskip("redis", reason="the shared throttle needs the `distributed` extra")
    return redis.Redis.from_url(REDIS_URL)


def test_no_more_holders_than_the_limit_across_gates_sharing_one_redis(redis_client: Any) -> None:
    from posture.executors.throttle import RedisGate

    gates = [RedisGate(redis_client, limit=3), RedisGate(redis_client, limit=3)]  # two "workers"
    key = f"aws:111122223333:eu-west-1:ec2:{uuid.uuid4().hex}"
    inside, most, lock = 0, 0, threading.Lock()

    def call(gate: RedisGate) -> None:
        nonlocal inside, most
        token = gate.acquire(key)
        with lock:
            inside += 1
            most = max(most, inside)
        time.sleep(0.02)
        with lock:
            inside -= 1
        gate.release(key, token)

    threads = [threading.Thread(target=call, args=(gates[n % 2],)) for n in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert most == 3
    assert gates[0].holders(key) == 0
    assert gates[0].waits + gates[1].waits > 0


def test_a_slot_whose_holder_died_is_free_again_when_its_lease_ends(redis_client: Any) -> None:
    from posture.executors.throttle import RedisGate

    gate = RedisGate(redis_client, limit=1, lease_s=0.3)
    key = f"aws:111122223333:us-east-1:iam:{uuid.uuid4().hex}"
    gate.acquire(key)  # never released: its worker was killed
    started = time.monotonic()
    gate.release(key, gate.acquire(key))
    assert 0.1 < time.monotonic() - started < 5


class Recording:
    """A gate that records what is held."""

    def __init__(self) -> None:
        self.held: list[str] = []
        self.log: list[tuple[str, str]] = []

    def acquire(self, key: str) -> str:
        self.held.append(key)
        self.log.append(("acquire", key))
        return key

    def release(self, key: str, token: Any) -> None:
        self.held.remove(key)
        self.log.append(("release", key))


def test_slots_are_keyed_by_provider_scope_region_and_service_and_a_dropped_one_is_released() -> None:
    gate = Recording()
    acquire_slot("ec2", "eu-west-1")  # outside a unit: no gate, nothing taken
    with gated(gate, "aws", "111122223333"):
        acquire_slot("ec2", "eu-west-1")
        assert gate.held == ["aws:111122223333:eu-west-1:ec2"]
        release_slot()
        acquire_slot("iam", "us-east-1")  # a transport that failed before giving its slot back
    assert gate.held == []
    assert gate.log[-1] == ("release", "aws:111122223333:us-east-1:iam")


def test_a_gate_that_fails_to_acquire_releases_nothing_it_did_not_take() -> None:
    class Broken(Recording):
        def acquire(self, key: str) -> str:
            raise ConnectionError("redis went away")

    gate = Broken()
    with gated(gate, "aws", "111122223333"):
        with pytest.raises(ConnectionError):
            acquire_slot("s3", "us-east-1")
        release_slot()  # what the SDK's response hook does after the failed attempt
    assert gate.log == []
