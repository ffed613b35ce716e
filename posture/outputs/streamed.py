"""Outputs of a streamed evaluation, written in one pass over its spooled results.

The JSON report is written as the results are read: the document without results is laid out by the
same encoder (sorted keys: ``attainment`` ... ``requests`` come before ``results``, ``summary`` after it)
and the results, already serialised at their depth, are copied between the two halves, so the file is
byte for byte what :mod:`posture.outputs.json_output` writes. SARIF keeps its cap with a bounded heap of
the most severe results and writes the same file as :mod:`posture.outputs.sarif`. An output that needs
every result at once (HTML, OCSF, JUnit, CSV) gets them read back from the spool; the console, which lists the first 40
failures, gets those.
"""

from __future__ import annotations

import dataclasses
import heapq
from collections.abc import Iterable
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any

import orjson

from posture.atomic import atomic_open
from posture.jsonfast import dumps_pretty_bytes
from posture.outputs import console, sarif
from posture.report import STATUSES, Report, Result
from posture.result_spool import ResultSpool

STREAMED_FORMATS = ("json", "sarif")
_RESULTS_GAP = b'\n  "results": []'


class _JsonWriter:
    """The JSON report: everything but the results, with the results written into it as they come."""

    def __init__(self, report: Report, fh: IO[bytes]) -> None:
        text = dumps_pretty_bytes(report.to_dict(), sort_keys=True)
        at = text.index(_RESULTS_GAP) + len(_RESULTS_GAP) - 1  # just after the "["
        self._fh, self._tail, self._first = fh, text[at:], True
        fh.write(text[:at])

    def add(self, body: bytes) -> None:
        self._fh.write(b"\n" + body if self._first else b",\n" + body)
        self._first = False

    def close(self) -> None:
        self._fh.write(self._tail if self._first else b"\n  " + self._tail)


class SarifPicker:
    """The results SARIF lists, at most ``cap`` (0: all) of them: the most severe, earliest first, in report
    order, as :func:`posture.outputs.sarif._within_limit` keeps them; a heap of ``cap`` entries."""

    def __init__(self, cap: int, omit: set[str]) -> None:
        self.cap, self.omit_waived = cap, "waived" in omit
        self.offered = 0
        self._heap: list[tuple[int, int, bytes]] = []  # (rank, -order, body): the least kept on top

    def offer(self, status: str, rank: int, original: bytes) -> None:
        if status != "fail" and (status != "waived" or self.omit_waived):
            return
        self.offered += 1
        item = (rank, -self.offered, original)
        if self.cap <= 0 or len(self._heap) < self.cap:
            heapq.heappush(self._heap, item)
        elif item > self._heap[0]:  # more severe than the least kept (a later one of equal rank never is)
            heapq.heapreplace(self._heap, item)

    @property
    def left_out(self) -> int:
        return self.offered - len(self._heap)

    def results(self) -> list[Result]:
        return [Result.from_dict(orjson.loads(body)) for _, _, body in sorted(self._heap, key=lambda i: -i[1])]


#: outputs that read only the few results they show: SARIF (capped) and the console (its first failures)
_FEW = {"sarif", "console"}


def originals_needed(formats: Iterable[str]) -> tuple[str, ...]:
    """The statuses whose results the spool must keep as made for ``formats`` (see :func:`write_streamed`)."""
    formats = set(formats)
    if formats - set(STREAMED_FORMATS) - _FEW:
        return STATUSES
    return ("fail", "waived") if formats & _FEW else ()


class ConsolePicker:
    """The failures the console lists (its first ``MAX_FAILURE_ROWS`` in its order), from a heap that size."""

    def __init__(self) -> None:
        self._heap: list[tuple[Any, int, Result]] = []  # (negated order, -seen): the last listed on top
        self._seen = 0

    def offer(self, status: str, original: bytes) -> None:
        if status != "fail":
            return
        self._seen += 1
        result = Result.from_dict(orjson.loads(original))
        key = console.failure_order(result)
        item = (_Reversed(key), -self._seen, result)
        if len(self._heap) < console.MAX_FAILURE_ROWS:
            heapq.heappush(self._heap, item)
        elif item > self._heap[0]:
            heapq.heapreplace(self._heap, item)

    def results(self) -> list[Result]:
        return [r for _, _, r in sorted(self._heap, key=lambda i: -i[1])]


class _Reversed:
    """A key ordered backwards (a heap of the smallest keys keeps the largest on top)."""

    __slots__ = ("key",)

    def __init__(self, key: Any) -> None:
        self.key = key

    def __lt__(self, other: _Reversed) -> bool:
        return other.key < self.key

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reversed) and other.key == self.key


def write_streamed(report: Report, spool: ResultSpool, formats: Iterable[str], paths: dict[str, Path]
                   ) -> Report | None:
    """Write the JSON and SARIF of ``formats`` to ``paths`` in one pass over ``spool`` (filled with
    :func:`originals_needed`); the report for the other formats (None when there are none): with every
    result read back, or only with the failures the console lists when it is the only other one."""
    formats = set(formats)
    others = formats - set(STREAMED_FORMATS)
    everything: list[Result] | None = [] if others - _FEW else None
    console_rows = ConsolePicker() if others == {"console"} else None
    picker = SarifPicker(sarif.max_results(), sarif.omitted()) if "sarif" in formats else None
    with ExitStack() as stack:
        json_out = (_JsonWriter(report, stack.enter_context(atomic_open(paths["json"], binary=True)))
                    if "json" in formats else None)
        for status, rank, body, original in spool:
            if json_out is not None:
                json_out.add(body)
            if picker is not None:
                picker.offer(status, rank, original)
            if everything is not None:
                everything.append(Result.from_dict(orjson.loads(original)))
            if console_rows is not None:
                console_rows.offer(status, original)
        if json_out is not None:
            json_out.close()
    if picker is not None:
        capped = Report(**{**_fields(report), "results": picker.results()})
        sarif.write_text(sarif.dumps(capped, left_out=picker.left_out), paths["sarif"])
    if everything is not None:
        return Report(**{**_fields(report), "results": everything})
    if console_rows is not None:
        return dataclasses.replace(report, results=console_rows.results())  # its summary counts them all
    return None


def _fields(report: Report) -> dict[str, Any]:
    return {name: getattr(report, name) for name in Report.__dataclass_fields__}
