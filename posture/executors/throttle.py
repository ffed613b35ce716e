"""A counting semaphore in Redis with leases: the per (account, region, service) limit all workers share.

Each key is a sorted set of holders scored by when their lease ends. Acquiring is one Lua script,
atomic in Redis: drop expired holders, then join if fewer than ``limit`` remain. A worker killed while
holding a slot cannot give it back; its lease ends after ``lease_s`` and the slot is free again, so a
crash costs throughput for a while, never a deadlock. Time is Redis's own clock (``TIME``), so workers'
clocks need not agree.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from typing import Any

#: concurrent requests per (account, region, service), all workers together: a single-account scan's
#: inner fan-out (16 threads) is the most it puts on one service of one account
DEFAULT_LIMIT = 16
#: longer than one HTTP attempt can take (AWS: 10 s connect + 30 s read)
DEFAULT_LEASE_S = 120.0
KEY_PREFIX = "posture:throttle:"

_ACQUIRE = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now_ms + tonumber(ARGV[3]), ARGV[1])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
  return 1
end
return 0
"""


class RedisGate:
    """A :class:`posture.collecting.throttling.Gate`: at most ``limit`` holders per key across processes."""

    def __init__(self, client: Any, limit: int = DEFAULT_LIMIT, lease_s: float = DEFAULT_LEASE_S,
                 max_wait_s: float = 0.05) -> None:
        if limit < 1:
            raise ValueError(f"a throttle limit must be at least 1, not {limit}")
        self.client = client
        self.limit = limit
        self.lease_ms = int(lease_s * 1000)
        self.max_wait_s = max_wait_s
        self._acquire = client.register_script(_ACQUIRE)
        #: how many acquisitions had to wait, and for how long in all (seconds): the benchmark reports it
        self.waits = 0
        self.waited_s = 0.0
        self._lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> RedisGate:
        import redis

        return cls(redis.Redis.from_url(url), **kwargs)

    def acquire(self, key: str) -> str:
        token = uuid.uuid4().hex
        full = KEY_PREFIX + key
        pause, started = 0.002, None
        while not self._acquire(keys=[full], args=[token, self.limit, self.lease_ms]):
            started = started or time.monotonic()
            time.sleep(pause * (0.5 + random.random()))  # jitter: waiting workers don't retry in step
            pause = min(pause * 2, self.max_wait_s)
        if started is not None:
            with self._lock:
                self.waits += 1
                self.waited_s += time.monotonic() - started
        return token

    def release(self, key: str, token: Any) -> None:
        self.client.zrem(KEY_PREFIX + key, token)

    def holders(self, key: str) -> int:
        """Unexpired holders of ``key`` (tests and diagnostics)."""
        full = KEY_PREFIX + key
        seconds, micros = self.client.time()
        self.client.zremrangebyscore(full, "-inf", seconds * 1000 + micros // 1000)
        return int(self.client.zcard(full))
