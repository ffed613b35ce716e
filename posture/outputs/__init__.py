"""Output formats. Each is a plugin registered through ``register_outputs``.

Every document posture writes is rendered here, by the output plugins: the reports of ``scan``,
``evaluate``, ``demo`` and ``report``, the comparison of ``compare`` and the history page of
``report --history``; the commands only choose which output writes what. An output is any object
with:

- ``name``: the value given to ``--format`` (``json``, ``sarif``, ``console``)
- ``suffix``: the file name suffix (``.json``), or ``None`` for terminal outputs
- ``write(report, path, console)``: write ``report`` to ``path`` (``None`` for
  terminal outputs) using the rich ``console`` for anything printed
- optionally ``write_comparison(comparison, path, console)`` (``posture compare``: the
  ``posture.compare/v1`` dict; ``path`` ``None`` means standard output or the terminal) and
  ``write_history(history, path, console)`` (``posture report --history``: a
  :class:`posture.trends.History`); an output without one does not offer that document.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from posture.atomic import write_text_atomic


def write_text(text: str, path: Path | None) -> None:
    """Write a rendered report to ``path`` (atomically), or to standard output when there is none."""
    if path is None:
        sys.stdout.write(text)
    else:
        write_text_atomic(Path(path), text)


@dataclass(frozen=True)
class Output:
    name: str
    suffix: str | None
    write: Callable[[Any, Path | None, Any], None]
    description: str = ""
    write_comparison: Callable[[dict[str, Any], Path | None, Any], None] | None = None
    write_history: Callable[[Any, Path | None, Any], None] | None = None
