"""Terminal conventions: colour, verbosity and where messages go.

Machine output (``--json``, report files) goes to standard output or files; everything meant for a
person watching (progress, "wrote ...", warnings, debug detail) goes to standard error, so
``posture checks list --json | jq`` and ``posture scan ... > log`` both stay clean. ``NO_COLOR`` (any
value, https://no-color.org) or ``--no-color`` turns colour off; ``--quiet`` keeps only warnings and
errors; ``--verbose`` adds debug detail.
"""

from __future__ import annotations

import logging
import os
import sys

import click

LOGGER = logging.getLogger("posture")
_state = {"quiet": False, "verbose": False}


def configure(no_color: bool = False, quiet: bool = False, verbose: bool = False) -> None:
    """Apply the global flags once, before any command runs."""
    if quiet and verbose:
        raise click.UsageError("--quiet and --verbose contradict each other; choose one")
    if no_color:
        os.environ["NO_COLOR"] = "1"  # rich and click read it: every console created later is plain
    _state.update(quiet=quiet, verbose=verbose)
    for handler in list(LOGGER.handlers):
        if getattr(handler, "_posture", False):
            LOGGER.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._posture = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter("posture: %(levelname)s: %(message)s" if verbose else "posture: %(message)s"))
    LOGGER.addHandler(handler)
    LOGGER.setLevel(logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO)
    LOGGER.propagate = False


def quiet() -> bool:
    return _state["quiet"]


def info(message: str) -> None:
    """A progress/status line for a person: standard error, silenced by ``--quiet``."""
    if not _state["quiet"]:
        click.echo(message, err=True)


def debug(message: str) -> None:
    if _state["verbose"]:
        click.echo(f"posture: debug: {message}", err=True)
