"""Request throttling shared by every process collecting one organisation: the plugin side.

Clouds limit API calls per account (subscription, project), region and service. One process
scanning one account stays under them by its own bounded concurrency; many workers scanning an
organisation together would not, since each would bring its own. A worker therefore runs each unit
under a :class:`Gate` (:func:`gated`), and a plugin's transport hook asks it for a slot before
every HTTP attempt (:func:`acquire_slot`) and gives it back when the answer arrives
(:func:`release_slot`), like :func:`posture.collecting.count_request`. Without a gate (a local
scan) both are no-ops. :mod:`posture.executors.throttle` is the Redis gate shared by workers.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol


class Gate(Protocol):
    """At most a limited number of concurrent holders per key, across every process using it."""

    def acquire(self, key: str) -> Any:
        """Wait for a slot of ``key``; returns the token to release it with."""
        ...

    def release(self, key: str, token: Any) -> None: ...


#: the running unit's gate and key prefix (``provider:scope``)
_GATE: contextvars.ContextVar[tuple[Gate, str] | None] = contextvars.ContextVar("posture_gate", default=None)
#: slots held by this thread, innermost last (an SDK's nested call, such as a credential refresh, nests)
_held = threading.local()  # [gate, key, token] lists


@contextmanager
def gated(gate: Gate, provider: str, scope: str) -> Iterator[None]:
    """Requests made in this context (and contexts copied from it) take slots of ``gate`` for ``scope``.

    Slots a failed transport never gave back are released on exit.
    """
    token = _GATE.set((gate, f"{provider}:{scope}"))
    depth = len(_stack())
    try:
        yield
    finally:
        _GATE.reset(token)
        stack = _stack()
        while len(stack) > depth:
            release_slot()


def _stack() -> list[list[Any]]:
    if not hasattr(_held, "stack"):
        _held.stack = []
    return _held.stack


def acquire_slot(service: str, region: str) -> None:
    """Before an HTTP attempt to ``service`` in ``region``: wait for a slot (no-op outside a gate)."""
    current = _GATE.get()
    if current is None:
        return
    gate, prefix = current
    held = [gate, f"{prefix}:{region}:{service}", None]
    _stack().append(held)  # first, so the release that follows a failed acquire pops this, not an outer slot
    held[2] = gate.acquire(held[1])


def release_slot() -> None:
    """When the attempt's answer (or failure) arrived: give the innermost slot back."""
    stack = _stack()
    if stack:
        gate, key, slot = stack.pop()
        if slot is not None:
            gate.release(key, slot)


__all__ = ["Gate", "acquire_slot", "gated", "release_slot"]
