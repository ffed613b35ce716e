"""Write files so that a reader (CI's upload step, ``posture evaluate``) never sees half of one.

The text goes to ``NAME.partial`` beside the target and is renamed over it
when complete; a crash, Ctrl-C or full disk leaves the previous file as it was.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


class WriteError(Exception):
    """An output file cannot be written (missing permission, full disk): the CLI prints it, exit 2."""


def ensure_dir(path: Path) -> Path:
    """Create ``path`` (and parents) or say clearly why not."""
    try:
        Path(path).mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise WriteError(f"cannot create directory {path}: a file of that name is in the way") from None
    except OSError as exc:
        raise WriteError(f"cannot create directory {path}: {exc.strerror or exc}") from None
    return Path(path)


def check_writable_dir(path: Path) -> Path:
    """Create ``path`` and prove a file can be written in it, before any long work (a scan) starts."""
    import tempfile

    ensure_dir(path)
    try:
        with tempfile.NamedTemporaryFile(dir=path, prefix=".posture-write-test-"):
            pass
    except OSError as exc:
        raise WriteError(f"cannot write in directory {path}: {exc.strerror or exc}") from None
    return Path(path)


@contextmanager
def atomic_open(path: Path, *, binary: bool = False) -> Iterator[IO[Any]]:
    """A stream (text, or bytes when ``binary``) that replaces ``path`` only when the ``with`` block
    completes (parents are created)."""
    path = Path(path)
    ensure_dir(path.parent)
    partial = path.with_name(path.name + ".partial")
    try:
        try:
            # closed below, before the rename
            fh = open(partial, "wb", buffering=1 << 20) if binary else open(partial, "w", encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise WriteError(f"cannot write {path}: {exc.strerror or exc}") from None
        with fh:
            yield fh
        os.replace(partial, path)
    except OSError as exc:
        raise WriteError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        partial.unlink(missing_ok=True)


def write_text_atomic(path: Path, text: str) -> None:
    with atomic_open(path) as fh:
        fh.write(text)
