"""Results kept on disk in sorted runs and read back in report order, in bounded memory.

A streaming evaluation produces results fact by fact, but every output lists them in report order
(provider, scope, region, check, resource). The spool buffers the results of one scope, sorts them and
appends them to a temporary file as a *run*. A fact file written by posture is in scope order, so its runs
follow one another and are read back in one sequential pass; any other order (a hand-made file, a scope
larger than the buffer) is read back through a k-way merge of the runs. A few results known only at the
end (excluded controls, fact types never collected) are merged in as they fall.

Each record is the result's JSON as the report writes it, with its status and severity beside it, so
writing the JSON report is a copy and SARIF picks its results without parsing the others.
"""

from __future__ import annotations

import heapq
import itertools
import os
import shutil
import struct
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from posture.report import STATUSES

_HEAD = struct.Struct("<IIIBB")  # key length, body length, original length, status, rank
_STATUS_CODE = {s: i for i, s in enumerate(STATUSES)}
#: the buffer is written out as a run once it holds this many results, even within one scope
MAX_BUFFERED = 200_000
_READ_CHUNK = 1 << 16

#: (sort key, sequence, status, severity rank, JSON body, original)
Record = tuple[tuple[str, ...], int, str, int, bytes, bytes]


@dataclass(frozen=True)
class SpoolPart:
    """A spool filled in another process, handed over to be read with the others (see :meth:`adopt`)."""

    path: str
    runs: list[tuple[int, int]]
    ordered: bool
    first: tuple[tuple[str, ...], int] | None
    last: tuple[tuple[str, ...], int] | None
    count: int
    next_seq: int


class ResultSpool:
    """Add results in any order; iterate them in report order (ties in the order they were added).

    ``first_seq`` numbers the results (a spool filled by a worker process starts after those of the parts
    before its own, so ties between parts keep the file's order).
    """

    def __init__(self, directory: str | None = None, *, first_seq: int = 0, handed_over: bool = False) -> None:
        # closed by close(); a spool to hand over keeps its file for the process that adopts it
        self._file = (tempfile.NamedTemporaryFile(prefix="posture-results-", dir=directory, delete=False)  # noqa: SIM115
                      if handed_over else tempfile.TemporaryFile(prefix="posture-results-", dir=directory))  # noqa: SIM115
        self._files: list[Any] = [self._file]
        self._adopted: list[str] = []
        self._directory: str | None = None
        self._runs: list[tuple[int, int, int]] = []  # (file, offset, length)
        self._buffer: list[Record] = []
        self._late: list[Record] = []
        self._first: tuple[tuple[str, ...], int] | None = None
        self._last: tuple[tuple[str, ...], int] | None = None
        self._ordered = True
        self._seq = first_seq
        self.count = 0

    def add(self, key: tuple[str, ...], status: str, rank: int, body: bytes, original: bytes = b"") -> None:
        """A result: its sort key, status, severity rank (0-255, kept for the reader), its JSON and, when the
        reader needs it, its original form (``body`` sorts keys; SARIF keeps the evidence's order)."""
        self._buffer.append((key, self._seq, status, rank, body, original))
        self._seq += 1
        self.count += 1
        if len(self._buffer) >= MAX_BUFFERED:
            self.flush()

    def add_late(self, key: tuple[str, ...], status: str, rank: int, body: bytes, original: bytes = b"") -> None:
        """A result produced after the stream (few: they are held in memory and merged in)."""
        self._late.append((key, self._seq, status, rank, body, original))
        self._seq += 1
        self.count += 1

    def flush(self) -> None:
        """End a run: the results added since the last flush, sorted, appended to the file."""
        if not self._buffer:
            return
        self._buffer.sort(key=_order)
        self._follow(_order(self._buffer[0]), _order(self._buffer[-1]))
        offset = self._file.seek(0, os.SEEK_END)
        parts = []
        for key, seq, status, rank, body, original in self._buffer:
            key_bytes = orjson.dumps([*key, seq])
            parts += (_HEAD.pack(len(key_bytes), len(body), len(original), _STATUS_CODE[status], rank),
                      key_bytes, body, original)
        self._file.write(b"".join(parts))
        self._runs.append((0, offset, self._file.tell() - offset))
        self._buffer = []

    def _follow(self, first: tuple[tuple[str, ...], int], last: tuple[tuple[str, ...], int]) -> None:
        """Runs from ``first`` to ``last`` come next: still in order if they begin after the last one ended."""
        if self._last is not None and first < self._last:
            self._ordered = False
        if self._first is None:
            self._first = first
        self._last = last

    def hand_over(self) -> SpoolPart:
        """Close the spool for writing; what another process needs to :meth:`adopt` it."""
        if self._late:
            raise ValueError("a spool with late results cannot be handed over")
        self.flush()
        self._file.close()
        return SpoolPart(self._file.name, [(off, n) for _, off, n in self._runs], self._ordered, self._first,
                         self._last, self.count, self._seq)

    def adopt(self, part: SpoolPart) -> None:
        """Read ``part`` (made by another process) after what this spool holds; its file is this spool's now."""
        self.flush()
        self._adopted.append(part.path)
        self._files.append(open(part.path, "rb"))  # noqa: SIM115 - closed by close()
        index = len(self._files) - 1
        self._runs.extend((index, off, n) for off, n in part.runs)
        if part.first is not None and part.last is not None:
            self._ordered = self._ordered and part.ordered
            self._follow(part.first, part.last)
        self.count += part.count
        self._seq = max(self._seq, part.next_seq)

    def __iter__(self) -> Iterator[tuple[str, int, bytes, bytes]]:
        """(status, rank, JSON body, original) of every result, in report order."""
        self.flush()
        self._file.flush()
        late = sorted(self._late, key=_order)
        fds = [f.fileno() for f in self._files]
        if self._ordered:
            stream: Iterator[Record] = itertools.chain.from_iterable(
                _read(fds[i], off, n, keys=bool(late)) for i, off, n in self._runs)
        else:
            stream = heapq.merge(*(_read(fds[i], off, n) for i, off, n in self._runs), key=_order)
        for _key, _seq, status, rank, body, original in _merge_few(stream, late):
            yield status, rank, body, original

    def part_directory(self) -> str:
        """A directory for the spools of worker processes, removed with this spool (whatever they left)."""
        if self._directory is None:
            self._directory = tempfile.mkdtemp(prefix="posture-parts-")
        return self._directory

    def close(self) -> None:
        for f in self._files:
            f.close()
        for path in self._adopted:
            Path(path).unlink(missing_ok=True)
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)

    def __enter__(self) -> ResultSpool:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _order(record: Record) -> tuple[tuple[str, ...], int]:
    return record[0], record[1]


def _merge_few(stream: Iterator[Record], few: list[Record]) -> Iterator[Record]:
    """``stream`` with the sorted ``few`` merged in: one comparison per record while any are left."""
    i = 0
    for record in stream:
        while i < len(few) and _order(few[i]) < _order(record):
            yield few[i]
            i += 1
        yield record
    yield from few[i:]


def _read(fd: int, offset: int, length: int, keys: bool = True) -> Iterator[Record]:
    """The records of ``length`` bytes from ``offset`` (``os.pread``: many runs share one descriptor); their
    sort keys only when ``keys`` (a merge needs them, a sequential read does not)."""
    end = offset + length
    buf, pos = b"", 0
    while True:
        need = _HEAD.size
        if len(buf) - pos >= need:
            key_len, body_len, original_len, status, rank = _HEAD.unpack_from(buf, pos)
            need += key_len + body_len + original_len
        if len(buf) - pos < need:
            if offset >= end:
                return
            chunk = os.pread(fd, min(max(_READ_CHUNK, need), end - offset), offset)
            if not chunk:
                raise OSError(f"result spool cut short at byte {offset}")
            buf, pos = buf[pos:] + chunk, 0
            offset += len(chunk)
            continue
        start = pos + _HEAD.size
        if keys:
            key = orjson.loads(buf[start:start + key_len])
            order, seq = tuple(key[:-1]), key[-1]
        else:
            order, seq = (), 0
        at = start + key_len + body_len
        pos = at + original_len
        yield order, seq, STATUSES[status], rank, buf[start + key_len:at], buf[at:pos]
