"""Request counting: one mechanism for every cloud.

Clients are shared by every unit of a scan, so a client cannot know which unit it is working
for; the unit that is running can. :func:`counting` makes a :class:`RequestCounter` the current
one for the running unit (a ``ContextVar``, so threads started through
:meth:`UnitContext.parallel` inherit it), and a plugin hooks :func:`count_request` into its SDK's
transport once -- a botocore ``before-send`` handler, an azure-core per-retry policy, a
google-auth ``before_request`` -- so every HTTP attempt, retries included, is counted for the unit
that caused it. Benchmarks and ``docs/<cloud>.md`` report these figures.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

from posture.provider import RequestCounter

_CURRENT: contextvars.ContextVar[RequestCounter | None] = contextvars.ContextVar("posture_request_counter",
                                                                                  default=None)


@contextmanager
def counting(counter: RequestCounter) -> Iterator[RequestCounter]:
    """Attribute the requests made in this context (and in contexts copied from it) to ``counter``.

    Why a context manager: the previous counter comes back on exit, so a plan that runs inside
    another count (a test, a benchmark) never steals its requests.
    """
    token = _CURRENT.set(counter)
    try:
        yield counter
    finally:
        _CURRENT.reset(token)


def count_request(n: int = 1) -> None:
    """Count ``n`` HTTP requests for the unit running in this context; a no-op outside any count.

    Why a no-op: a client used outside a scan (a REPL, a test fixture) must still work.
    """
    counter = _CURRENT.get()
    if counter is not None:
        counter.add(n)


__all__ = ["RequestCounter", "count_request", "counting"]
