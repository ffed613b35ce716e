"""Write files so that a reader (CI's upload step, ``posture evaluate``) never sees half of one.

The text goes to ``NAME.partial`` beside the target and is renamed over it
when complete; a crash, Ctrl-C or full disk leaves the previous file as it was.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


@contextmanager
def atomic_open(path: Path) -> Iterator[IO[str]]:
    """A text stream that replaces ``path`` only when the ``with`` block completes."""
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    try:
        with open(partial, "w", encoding="utf-8") as fh:
            yield fh
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def write_text_atomic(path: Path, text: str) -> None:
    with atomic_open(path) as fh:
        fh.write(text)
