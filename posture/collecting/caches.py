"""A small thread-safe LRU cache: per-scan state and SDK clients, never unbounded.

Why bounded: a long-lived process (a scheduler running scans for many tenants, the test
suite) would otherwise keep every client, connection pool and token it ever made.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class BoundedCache(Generic[V]):
    """At most ``limit`` values, least recently used evicted first.

    Correctness never depends on a hit: an evicted value is simply made again. ``make`` runs under
    the cache's (re-entrant) lock, so two threads asking for one key get one value -- SDK sessions
    are not always safe to build twice concurrently -- and ``make`` may itself use the cache.
    """

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"a BoundedCache needs a limit of at least 1, not {limit}")
        self.limit = limit
        self._lock = threading.RLock()
        self._values: OrderedDict[Hashable, V] = OrderedDict()

    def get(self, key: Hashable, make: Callable[[], V]) -> V:
        """The value for ``key``, made with ``make()`` on a miss."""
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
            value = self._values[key] = make()
            while len(self._values) > self.limit:
                self._values.popitem(last=False)
            return value

    def clear(self) -> None:
        """Forget everything (tests switching endpoints or credentials)."""
        with self._lock:
            self._values.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._values)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._values
