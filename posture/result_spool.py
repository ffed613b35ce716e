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
import os
import struct
import tempfile
from collections.abc import Iterator
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


class ResultSpool:
    """Add results in any order; iterate them in report order (ties in the order they were added)."""

    def __init__(self, directory: str | None = None) -> None:
        self._file = tempfile.TemporaryFile(prefix="posture-results-", dir=directory)  # noqa: SIM115 - closed by close()
        self._runs: list[tuple[int, int]] = []  # (offset, length)
        self._buffer: list[Record] = []
        self._late: list[Record] = []
        self._last: tuple[tuple[str, ...], int] | None = None
        self._ordered = True
        self._seq = 0
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
        first, last = self._buffer[0], self._buffer[-1]
        if self._last is not None and _order(first) < self._last:
            self._ordered = False
        self._last = _order(last)
        offset = self._file.seek(0, os.SEEK_END)
        parts = []
        for key, seq, status, rank, body, original in self._buffer:
            key_bytes = orjson.dumps([*key, seq])
            parts += (_HEAD.pack(len(key_bytes), len(body), len(original), _STATUS_CODE[status], rank),
                      key_bytes, body, original)
        self._file.write(b"".join(parts))
        self._runs.append((offset, self._file.tell() - offset))
        self._buffer = []

    def __iter__(self) -> Iterator[tuple[str, int, bytes, bytes]]:
        """(status, rank, JSON body, original) of every result, in report order."""
        self.flush()
        self._file.flush()
        if self._ordered:
            stream: Iterator[Record] = _read(self._file.fileno(), 0, sum(n for _, n in self._runs), keys=bool(self._late))
        else:
            stream = heapq.merge(*(_read(self._file.fileno(), off, n) for off, n in self._runs), key=_order)
        late = sorted(self._late, key=_order)
        for _key, _seq, status, rank, body, original in _merge_few(stream, late):
            yield status, rank, body, original

    def close(self) -> None:
        self._file.close()

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
