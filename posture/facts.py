"""Facts: configuration records about cloud resources, and the fact file.

A fact is what a provider observed about one resource (or one scope-wide
setting), with secret *values* already removed: facts carry names and
booleans, never keys, passwords or tokens. Building a :class:`Fact` passes its
attributes through :func:`posture.secrets.redact_attributes`, so a tag,
label, metadata or setting value that looks secret is a marker in every
output whichever plugin collected it.

The fact file is JSON Lines so that it can be written while a scan runs and
read back without loading everything at once. Each line is an object with a
``kind``:

- ``header``   first line: schema id, tool version, provider options used.
- ``fact``     one :class:`Fact`.
- ``error``    one :class:`CollectionError` (a fact type that could not be
               collected in one scope/region, with the cloud's error code).
- ``collected`` one :class:`Coverage` record: the fact type *was* collected
               in that scope/region (so an absence of facts means "no such
               resources", not "not looked at").
- ``footer``   last line: how many records of each kind precede it, so a
               reader can tell a complete file from one cut off while being
               written or copied (evaluating that would report the lost
               resources as absent).

Schema: ``posture/schemas/facts.schema.json``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from posture.documents import MAX_DEPTH, NestingError, loads_json

try:
    import orjson as _orjson
except ImportError:  # pragma: no cover - orjson is a dependency
    _orjson = None

FACTS_SCHEMA_ID = "posture.facts/v1"
#: line kinds the footer counts
RECORD_KINDS = ("scope", "collected", "fact", "error")
GLOBAL_REGION = "global"


@dataclass(frozen=True)
class Fact:
    """One configuration record.

    ``type`` is namespaced by provider (``aws.s3.bucket``); ``id`` is the
    cloud's own identifier (ARN, Azure resource id, GCP full resource name);
    ``scope`` the account / subscription / project id; ``region`` the region
    or ``global``.
    """

    provider: str
    scope: str
    region: str
    type: str
    id: str
    name: str
    attributes: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def __post_init__(self) -> None:
        # The one door every fact passes (collectors, the collection merge, fact-file readers):
        # secret-looking values in tags, labels, metadata, env and settings become a marker here.
        # Names and ids are capped here too: one 50 MB name must not be copied into every output.
        from posture.secrets import redact_attributes
        from posture.textsafe import cap

        for key in ("scope", "region", "type", "id", "name"):
            value = getattr(self, key)
            if isinstance(value, str) and len(value) > 256:
                object.__setattr__(self, key, cap(value))
        object.__setattr__(self, "attributes", redact_attributes(self.attributes))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fact:
        return cls(
            provider=data["provider"],
            scope=data["scope"],
            region=data.get("region", GLOBAL_REGION),
            type=data["type"],
            id=data["id"],
            name=data.get("name", data["id"]),
            attributes=data.get("attributes") or {},
        )


@dataclass(frozen=True)
class CollectionError:
    """A fact type that could not be collected; checks needing it become ``error``."""

    provider: str
    scope: str
    region: str
    fact_type: str
    code: str
    message: str
    #: True when the cloud says the feature is simply not there (a GCP API not
    #: enabled, a service not offered in the region): checks become
    #: ``not_applicable`` with this reason instead of ``error``.
    not_applicable: bool = False

    def __post_init__(self) -> None:
        from posture.textsafe import MAX_MESSAGE, cap

        for key, limit in (("scope", None), ("region", None), ("message", MAX_MESSAGE)):
            value = getattr(self, key)
            if isinstance(value, str) and len(value) > 256:
                object.__setattr__(self, key, cap(value, limit) if limit else cap(value))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CollectionError:
        return cls(
            **{k: data[k] for k in ("provider", "scope", "region", "fact_type", "code", "message")},
            not_applicable=bool(data.get("not_applicable", False)),
        )


@dataclass(frozen=True)
class Coverage:
    """A fact type that was collected successfully in one scope/region."""

    provider: str
    scope: str
    region: str
    fact_type: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Coverage:
        return cls(**{k: data[k] for k in ("provider", "scope", "region", "fact_type")})


@dataclass
class FactSet:
    """Everything one collection produced; what the engine evaluates."""

    facts: list[Fact] = field(default_factory=list)
    errors: list[CollectionError] = field(default_factory=list)
    coverage: list[Coverage] = field(default_factory=list)
    scopes: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)

    def extend(self, other: FactSet) -> None:
        self.facts.extend(other.facts)
        self.errors.extend(other.errors)
        self.coverage.extend(other.coverage)
        self.scopes.extend(s for s in other.scopes if s not in self.scopes)


class FactWriter:
    """Streams a fact file; usable as a context manager."""

    def __init__(self, stream: IO[str], metadata: dict[str, Any] | None = None) -> None:
        self._stream = stream
        self._records = dict.fromkeys(RECORD_KINDS, 0)
        self._write({"kind": "header", "schema": FACTS_SCHEMA_ID, **(metadata or {})})

    def _write(self, obj: dict[str, Any]) -> None:
        self._stream.write(json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str) + "\n")
        if obj["kind"] in self._records:
            self._records[obj["kind"]] += 1

    def scope(self, scope: dict[str, Any]) -> None:
        self._write({"kind": "scope", "scope": scope})

    def fact(self, fact: Fact) -> None:
        self._write({"kind": "fact", **fact.to_dict()})

    def error(self, error: CollectionError) -> None:
        self._write({"kind": "error", **error.to_dict()})

    def coverage(self, cov: Coverage) -> None:
        self._write({"kind": "collected", **cov.to_dict()})

    def footer(self, metadata: dict[str, Any]) -> None:
        self._write({"kind": "footer", **metadata, "records": dict(self._records)})
        self._stream.flush()

    def write_set(self, facts: FactSet) -> None:
        for scope in facts.scopes:
            self.scope(scope)
        for cov in facts.coverage:
            self.coverage(cov)
        for f in facts.facts:
            self.fact(f)
        for e in facts.errors:
            self.error(e)


def write_fact_file(path: Path, facts: FactSet) -> None:
    """Write atomically: a crash or full disk leaves the previous file, never half a new one."""
    from posture.atomic import atomic_open

    with atomic_open(path) as fh:
        w = FactWriter(fh, {k: v for k, v in facts.metadata.items() if k != "schema"})
        w.write_set(facts)
        w.footer({})


class FactFileError(ValueError):
    """A fact file that cannot be read; names the file and line."""


def iter_fact_lines(path: Path, part: FilePart | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """Each non-blank line's object (of the whole file, or of ``part``), parsed by orjson; a line it refuses
    goes through the bounded standard reader, whose errors name the problem."""
    start, end, first = (part.start, part.end, part.first_line) if part is not None else (0, None, 1)
    with open(path, "rb") as fh:
        fh.seek(start)
        pos = start
        for lineno, raw in enumerate(fh, start=first):
            if end is not None and pos >= end:
                return
            pos += len(raw)
            line = raw.strip()
            if not line:
                continue
            obj = _loads_line(line) if _orjson is not None else None
            if obj is None:
                obj = _loads_line_checked(path, lineno, raw)
            if not isinstance(obj, dict) or "kind" not in obj:
                raise FactFileError(f"{path}:{lineno}: expected an object with a 'kind' field")
            yield lineno, obj


def _loads_line(line: bytes) -> Any:
    """orjson's parse of a line not nested past the documents' bound (fewer brackets than it cannot be), else
    None: the caller's bounded reader decides."""
    if line.count(b"[") + line.count(b"{") > MAX_DEPTH:
        return None
    try:
        return _orjson.loads(line)
    except _orjson.JSONDecodeError:
        return None


def _loads_line_checked(path: Path, lineno: int, raw: bytes) -> Any:
    try:
        return loads_json(raw.decode("utf-8").strip())
    except UnicodeDecodeError as exc:
        raise FactFileError(f"{path}:{lineno}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except NestingError as exc:
        raise FactFileError(f"{path}:{lineno}: {exc}") from None
    except json.JSONDecodeError as exc:
        if lineno == 1:
            _explain_other_json(path)
        cut = "" if raw.endswith(b"\n") else " (the file ends here: it was cut off while being written)"
        raise FactFileError(f"{path}:{lineno}: not valid JSON: {exc.msg}{cut}") from None


def _explain_other_json(path: Path) -> None:
    """A whole-file JSON document (a report, say) handed in as a fact file gets a hint, not a parse error."""
    try:
        with open(path, encoding="utf-8") as fh:
            doc = loads_json(fh.read())
    except (OSError, ValueError):  # NestingError is a ValueError
        return
    kind = doc.get("schema") if isinstance(doc, dict) else None
    raise FactFileError(
        f"{path}: is a JSON document{f' ({kind})' if kind else ''}, not a fact file (JSON Lines); fact files "
        "come from `posture collect` or `posture scan --save-facts`"
    )


def read_fact_file(path: Path) -> FactSet:
    """Read a fact file written by ``posture collect`` (or ``scan --save-facts``)."""
    result = FactSet()
    add = {"fact": result.facts.append, "error": result.errors.append, "collected": result.coverage.append,
           "scope": result.scopes.append}
    for kind, record in iter_records(path, result.metadata):
        add[kind](record)
    return result


@dataclass(frozen=True)
class FilePart:
    """Lines of a fact file from byte ``start`` (a line's start) to ``end``; ``first_line``: the number of
    the first (so errors name the line of the whole file)."""

    start: int
    end: int
    first_line: int


@dataclass
class ReadState:
    """What reading (part of) a fact file saw, to tell a complete file from a damaged one."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RECORD_KINDS, 0))
    seen_header: bool = False
    footer: dict[str, Any] | None = None
    first: tuple[int, str] | None = None  # the first line's number and kind


def iter_records(path: Path, metadata: dict[str, Any], part: FilePart | None = None,
                 state: ReadState | None = None) -> Iterator[tuple[str, Any]]:
    """The records of a fact file one at a time, as (kind, Fact | CollectionError | Coverage | scope dict).

    The header's fields (and the footer's, as ``footer_*``) are put in ``metadata`` as they are read. The
    file is refused (:class:`FactFileError`) when the generator reaches the end of a file that is not
    complete, so a consumer must only publish what it made once the generator is exhausted. For a ``part``
    of the file, what was seen goes to ``state`` and the caller checks the parts with :func:`check_parts`.
    """
    whole = state is None
    state = ReadState() if state is None else state
    counts = state.counts
    for lineno, obj in iter_fact_lines(path, part):
        kind = obj.pop("kind")
        if state.first is None:
            state.first = (lineno, kind)
        if state.footer is not None:
            raise FactFileError(f"{path}:{lineno}: a {kind!r} line after the footer (two files joined together?)")
        if kind in counts:
            counts[kind] += 1
        try:
            if kind == "fact":
                yield kind, Fact.from_dict(obj)
            elif kind == "collected":
                yield kind, Coverage.from_dict(obj)
            elif kind == "error":
                yield kind, CollectionError.from_dict(obj)
            elif kind == "scope":
                yield kind, obj["scope"]
            elif kind == "header":
                if obj.get("schema") != FACTS_SCHEMA_ID:
                    raise FactFileError(
                        f"{path}:{lineno}: unsupported fact file schema {obj.get('schema')!r} "
                        f"(expected {FACTS_SCHEMA_ID!r})"
                    )
                state.seen_header = True
                metadata.update(obj)
            elif kind == "footer":
                state.footer = obj
                metadata.update({f"footer_{k}": v for k, v in obj.items() if k != "records"})
            else:
                raise FactFileError(f"{path}:{lineno}: unknown line kind {kind!r}")
        except KeyError as exc:
            raise FactFileError(f"{path}:{lineno}: {kind} record is missing field {exc.args[0]!r}") from None
    if whole:
        check_parts(path, [state])


def check_parts(path: Path, states: list[ReadState], *, complete: bool = True) -> None:
    """Refuse the file whose parts, read in order, saw these: lines after the footer, and when the parts are
    the ``complete`` file, no header or a footer missing or counting other records."""
    footer: dict[str, Any] | None = None
    for state in states:
        if footer is not None and state.first is not None:
            lineno, kind = state.first
            raise FactFileError(f"{path}:{lineno}: a {kind!r} line after the footer (two files joined together?)")
        footer = state.footer if state.footer is not None else footer
    if not complete:
        return
    if not any(state.seen_header for state in states):
        raise FactFileError(f"{path}: no header line; is this a posture fact file?")
    _check_complete(path, footer, {k: sum(state.counts[k] for state in states) for k in RECORD_KINDS})


def split_file(path: Path, parts: int, *, look: int = 100_000) -> list[FilePart]:
    """``path`` cut into about ``parts`` parts of similar size, each cut where a scope's records begin (so
    each part's results come in whole scopes) unless none begins within ``look`` lines."""
    size = os.path.getsize(path)
    cuts = [0]
    with open(path, "rb") as fh:
        for i in range(1, parts):
            fh.seek(max(size * i // parts, cuts[-1]))
            fh.readline()
            cut = _scope_start(fh, look)
            if cuts[-1] < cut < size:
                cuts.append(cut)
        cuts.append(size)
        lines, first_lines = 1, []
        fh.seek(0)
        for start, end in zip(cuts, cuts[1:], strict=False):
            first_lines.append(lines)
            lines += _count_lines(fh, end - start)
    return [FilePart(start, end, first) for start, end, first in zip(cuts, cuts[1:], first_lines, strict=False)]


def _scope_start(fh: IO[bytes], look: int) -> int:
    """The offset of the next fact or error line of another (provider, scope) than the one before it."""
    previous = None
    for _ in range(look):
        pos = fh.tell()
        raw = fh.readline()
        if not raw:
            return pos
        obj = _loads_line(raw.strip()) if _orjson is not None else None
        if isinstance(obj, dict) and obj.get("kind") in ("fact", "error"):
            key = (obj.get("provider"), obj.get("scope"))
            if previous is not None and key != previous:
                return pos
            previous = key
    return fh.tell()


def _count_lines(fh: IO[bytes], length: int) -> int:
    count = 0
    while length > 0:
        chunk = fh.read(min(length, 1 << 23))
        if not chunk:
            break
        count += chunk.count(b"\n")
        length -= len(chunk)
    return count


def peek_metadata(path: Path) -> dict[str, Any]:
    """The header's and the footer's fields (footer ones as ``footer_*``) without reading the records
    between them: a streaming evaluation needs the collection time before the first fact. Best effort (a
    damaged file is refused by :func:`iter_records`)."""
    metadata: dict[str, Any] = {}
    with open(path, "rb") as fh:
        first = fh.readline()
        fh.seek(0, os.SEEK_END)
        fh.seek(max(0, fh.tell() - (1 << 16)))
        lines = fh.read().rstrip().rsplit(b"\n", 1)
    for raw, prefix in ((first, ""), (lines[-1], "footer_")):
        obj = _loads_line(raw.strip()) if _orjson is not None and raw.strip() else None
        if isinstance(obj, dict) and obj.get("kind") == ("footer" if prefix else "header"):
            metadata.update({f"{prefix}{k}": v for k, v in obj.items() if k not in ("kind", "records")})
    return metadata


def _check_complete(path: Path, footer: dict[str, Any] | None, counts: dict[str, int]) -> None:
    """Refuse a truncated file: the resources cut off would otherwise be evaluated as absent."""
    if footer is None:
        raise FactFileError(f"{path}: ends without its footer line: the file is incomplete (the collection or "
                            "copy that wrote it did not finish); collect the facts again")
    declared = footer.get("records")
    if isinstance(declared, dict):
        wrong = [f"{k}: {counts[k]} of {declared[k]}" for k in RECORD_KINDS
                 if isinstance(declared.get(k), int) and declared[k] != counts[k]]
        if wrong:
            raise FactFileError(f"{path}: the footer counts other records than the file holds ({', '.join(wrong)}); "
                                "the file was edited or damaged; collect the facts again")
