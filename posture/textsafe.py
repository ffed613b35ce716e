"""Text from clouds and input files made safe to show and to copy.

Resource names, ids and tags are chosen by whoever controls the account: a
name can carry terminal escape sequences (colours, an OSC sequence that sets
the window title or writes to the clipboard) or be 50 MB long. Two rules:

- :func:`printable` escapes control characters (C0, DEL, C1) as ``\\xNN``
  before anything reaches a terminal or a log;
- :func:`cap` bounds identifiers and names at :data:`MAX_IDENTIFIER`
  characters with a marked truncation that keeps them distinct (a hash of
  the whole value), so one huge name is not copied into every output.
"""

from __future__ import annotations

import hashlib
import re
import sys
from typing import IO, Any

#: longest resource id / name / scope / region kept (characters); the cloud limits are far below
#: (an ARN 2,048, an Azure resource id about 1,200), so only a hostile or broken value is cut
MAX_IDENTIFIER = 4096
#: longest error message kept from a cloud or a collector
MAX_MESSAGE = 4096
#: width of tables written to a file or a pipe (CI logs): wide enough that no id is cut or folded
NON_TERMINAL_WIDTH = 10_000

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL_ANY = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: Any, *, keep_newlines: bool = False) -> str:
    """``text`` with control characters shown as ``\\x1b`` instead of being interpreted by the terminal."""
    pattern = _CONTROL if keep_newlines else _CONTROL_ANY
    return pattern.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))


def cap(text: str, limit: int = MAX_IDENTIFIER) -> str:
    """``text`` cut to about ``limit`` characters with a marker naming how much was cut and a digest."""
    if len(text) <= limit:
        return text
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    marker = f"...[truncated: {len(text)} characters, sha256 {digest}]"
    return text[:max(0, limit - len(marker))] + marker


def console(*, stderr: bool = False, file: IO[str] | None = None) -> Any:
    """A rich console for the current stdout/stderr: a terminal's own width, else :data:`NON_TERMINAL_WIDTH`.

    Outside a terminal (CI logs, pipes) rich would fold or cut table cells at 80
    columns, splitting check ids and timestamps; there the width is practically unbounded.
    """
    from rich.console import Console

    stream = file or (sys.stderr if stderr else sys.stdout)
    con = Console(file=stream)
    if not con.is_terminal:
        con = Console(file=stream, width=NON_TERMINAL_WIDTH, no_color=True, soft_wrap=True)
    return con
