"""Option values every cloud parses the same way."""

from __future__ import annotations

from typing import Any

from posture.provider import ProviderError


def positive_seconds(value: Any, *, default: float, option: str, provider: str) -> float:
    """``value`` (a flag or environment value) as seconds; empty -> ``default``.

    Why here: a timeout that is not a positive number is a configuration error (exit 2) naming the
    option, never a traceback in the middle of a scan -- and every cloud has such an option.
    """
    if value in (None, ""):
        return default
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = 0.0
    if not seconds > 0:
        raise ProviderError(f"{provider}: {option} {value!r}: valid: a number of seconds greater than 0")
    return seconds
