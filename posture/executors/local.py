"""The default executor: work units on a bounded thread pool in this process."""

from __future__ import annotations

from collections.abc import Iterator

from posture.executors import ProgressCallback
from posture.provider import Provider, UnitOutcome, WorkUnit


class LocalExecutor:
    """At most ``concurrency`` units at a time on threads (collection is I/O bound)."""

    name = "local"

    def __init__(self, concurrency: int = 16) -> None:
        self.concurrency = max(1, concurrency)
        self.lost: str | None = None

    def run(self, provider: Provider, units: list[WorkUnit],
            progress: ProgressCallback | None = None) -> Iterator[UnitOutcome]:
        from posture.collect import run_units

        yield from run_units(provider, units, concurrency=self.concurrency, progress=progress)
