"""The ``POSTURE_*`` environment variables: one table of what each accepts, checked before any work.

A mistyped value (``POSTURE_SARIF_OMIT=absent,waved``, ``POSTURE_SARIF_MAX_RESULTS=abc``) used to be
ignored, so a CI upload silently kept the alerts it meant to close. The CLI now validates every
variable below when a command starts (exit 2 naming the valid values), and the modules that read
them use the same parsers, so a library caller gets the same error.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any


class EnvironmentValueError(ValueError):
    """A POSTURE_* variable holds a value posture does not accept; the message names the valid values."""


def _choices(allowed: tuple[str, ...]) -> Callable[[str, str], set[str]]:
    def parse(name: str, raw: str) -> set[str]:
        values = {p.strip().lower() for p in raw.split(",") if p.strip()}
        wrong = sorted(values - set(allowed))
        if wrong:
            raise EnvironmentValueError(f"{name}={raw!r}: unknown value(s) {', '.join(map(repr, wrong))}; valid: "
                                        f"a comma-separated list of {', '.join(allowed)}")
        return values
    return parse


def _choice(allowed: tuple[str, ...]) -> Callable[[str, str], str]:
    def parse(name: str, raw: str) -> str:
        if raw.strip().lower() not in allowed:
            raise EnvironmentValueError(f"{name}={raw!r}: valid: one of {', '.join(allowed)}")
        return raw.strip().lower()
    return parse


def _count(name: str, raw: str) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        value = -1
    if value < 0:
        raise EnvironmentValueError(f"{name}={raw!r}: not a whole number; valid: 0 (no limit) or a positive "
                                    "whole number")
    return value


def _url(name: str, raw: str) -> str:
    if not raw.startswith(("https://", "http://")) or len(raw) <= len("https://"):
        raise EnvironmentValueError(f"{name}={raw!r}: not a URL; valid: an https:// URL")
    return raw


def _file(name: str, raw: str) -> str:
    if not Path(raw).is_file():
        raise EnvironmentValueError(f"{name}={raw!r}: no such file; valid: the path of a PEM CA bundle")
    return raw


def _dirs(name: str, raw: str) -> list[str]:
    missing = [d for d in raw.split(os.pathsep) if d and not Path(d).is_dir()]
    if missing:
        raise EnvironmentValueError(f"{name}: {', '.join(map(repr, missing))} is not a directory; valid: "
                                    f"directories of tier files separated by {os.pathsep!r}")
    return [d for d in raw.split(os.pathsep) if d]


def _plugins(name: str, raw: str) -> set[str]:
    import importlib.metadata

    from posture.plugins import ENTRY_POINT_GROUP

    wanted = {p.strip() for p in raw.split(",") if p.strip()}
    known = {ep.name for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}
    wrong = sorted(wanted - known - {"none"})  # "none": no entry-point plugin (in-process ones only)
    if wrong:
        raise EnvironmentValueError(f"{name}={raw!r}: no installed plugin named {', '.join(map(repr, wrong))}; "
                                    f"valid: none, or a comma-separated list of {', '.join(sorted(known))}")
    return wanted


#: variable -> parser (raises :class:`EnvironmentValueError`); documented in README.md, *Environment*.
#: POSTURE_STORE and POSTURE_TIER are checked where they are used (the store URL, the tier file).
VARIABLES: dict[str, Callable[[str, str], Any]] = {
    "POSTURE_SARIF_OMIT": _choices(("absent", "waived")),
    "POSTURE_SARIF_MAX_RESULTS": _count,
    "POSTURE_EVALUATE_WORKERS": _count,
    "POSTURE_PLUGINS": _plugins,
    "POSTURE_TIERS_PATH": _dirs,
    "POSTURE_AZURE_ARM_ENDPOINT": _url,
    "POSTURE_AZURE_CA_BUNDLE": _file,
    "POSTURE_AZURE_KEYVAULT_AUDIENCE": _url,
    "POSTURE_AZURE_CLOUD": _choice(("public", "usgov", "china")),
    "POSTURE_GCP_API_ENDPOINT": _url,
    "POSTURE_AZURE_READ_TIMEOUT": lambda n, r: _seconds(n, r),
    "POSTURE_GCP_READ_TIMEOUT": lambda n, r: _seconds(n, r),
    "POSTURE_EXECUTOR": _choice(("local", "celery")),
    "POSTURE_BROKER_GRACE": lambda n, r: _seconds(n, r),
    "POSTURE_SERVICE_CONCURRENCY": lambda n, r: _positive_count(n, r),
}


def _positive_count(name: str, raw: str) -> int:
    if not raw.strip().isdigit() or int(raw) < 1:
        raise EnvironmentValueError(f"{name}={raw!r}: valid: a whole number of at least 1")
    return int(raw)


def _seconds(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise EnvironmentValueError(f"{name}={raw!r}: valid: a number of seconds greater than 0")
    return value


def value(name: str, environ: Mapping[str, str] | None = None) -> Any:
    """The parsed value of ``name``, or None when unset or empty (raises on an invalid value)."""
    raw = (os.environ if environ is None else environ).get(name)
    if raw is None or not raw.strip():
        return None
    return VARIABLES[name](name, raw)


def validate_environment(environ: Mapping[str, str] | None = None) -> None:
    """Raise for the first POSTURE_* variable whose value is not accepted."""
    env = os.environ if environ is None else environ
    for name in sorted(VARIABLES):
        if name in env:
            value(name, env)
