"""YAML and JSON documents that remember where everything is, and refuse hostile input.

Tiers, the control catalogue, check files and waiver files are written by people, so every
problem in them is reported as *file:line: at $.json.path: what is wrong*
(:class:`DocumentError`). :func:`read_document` reads YAML with ruamel.yaml's rules (YAML 1.1,
as PyYAML used before, so ``yes`` stays a boolean; dates stay strings, so a schema, not YAML,
decides what a date is), and any JSON path maps back to a line through ruamel's node tree.

It also refuses, with one located line, what would otherwise crash or stall the scanner:
duplicate keys (naming both lines), documents nested deeper than :data:`MAX_DEPTH`, YAML aliases
that expand beyond :data:`MAX_NODES` ("billion laughs") or refer to themselves, and files
larger than :data:`MAX_BYTES`. Error texts are capped (:data:`MAX_PROBLEM_CHARS`), because a
hostile value must not turn into a megabyte of terminal output. :func:`loads_json` gives
machine-written JSON (fact files, reports) the same depth bound.

Two ways in, one result: a *plain* document (no aliases, tags, directives, duplicate or complex
keys, not too deep: every shipped file, every usual waiver file) is read in one pass from
libyaml's events (:mod:`posture.plain_yaml`; JSON through ``json`` with a duplicate-key hook),
and its node tree is composed only if an error needs a line: 100k waivers load in about 2 s
instead of 45. Anything else is read the exact way (compose, check the nodes, construct), which
is also what finds and locates every problem the fast pass declines.
"""

from __future__ import annotations

import json
import re
import reprlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

#: a tier, catalogue, check or waiver file larger than this is refused before parsing
MAX_BYTES = 5_000_000
#: deeper nesting is refused (the deepest shipped document is 8 levels; Python recursion ends near 1000)
MAX_DEPTH = 100
#: YAML nodes after alias expansion ("billion laughs" stays a few hundred bytes on disk)
MAX_NODES = 200_000
#: longest problem text an error carries
MAX_PROBLEM_CHARS = 400

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_JSON_TYPES = {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer", float: "number",
               type(None): "null"}
_MERGE_TAG = "tag:yaml.org,2002:merge"


class DocumentError(ValueError):
    """A document problem: the file, the JSON path inside it, the line (when known) and what is wrong."""

    def __init__(self, file: str | Path, json_path: str, problem: str, line: int | None = None) -> None:
        self.file = str(file)
        self.json_path = shorten(json_path, 120)
        self.line = line
        self.problem = shorten(problem)
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: at {self.json_path}: {self.problem}"

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "json_path": self.json_path, "problem": self.problem}


class NestingError(ValueError):
    """JSON nested deeper than :data:`MAX_DEPTH`; ``line`` is where the limit is crossed (when known)."""

    def __init__(self, line: int | None) -> None:
        self.line = line
        super().__init__(f"nested deeper than {MAX_DEPTH} levels")


# ------------------------------------------------------------------------------ text helpers
def shorten(text: str, limit: int = MAX_PROBLEM_CHARS) -> str:
    """``text`` cut to ``limit`` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters)"


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother, _REPR.maxlist, _REPR.maxdict = 2, 60, 60, 6, 4


def short_repr(value: Any) -> str:
    """A repr for error messages that stays short for huge or deeply nested values."""
    return _REPR.repr(value)


def type_name(value: Any) -> str:
    """The JSON name of a value's type (``object``, ``array``, ...)."""
    return _JSON_TYPES.get(type(value), type(value).__name__)


def json_path(parts: Sequence[Any]) -> str:
    """``$.controls['IAM-05'].parameters`` (the notation jsonschema uses)."""
    out = "$"
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENT.match(str(part)):
            out += f".{part}"
        else:
            out += f"[{str(part)!r}]"
    return out


# ---------------------------------------------------------------------------------- documents
_UNCOMPOSED: Any = object()


@dataclass
class Document:
    """A parsed YAML/JSON file with its node tree, so JSON paths map to lines.

    A document read by the fast path (:mod:`posture.plain_yaml`, or JSON without duplicate keys)
    keeps its text and composes the node tree on first use: only an error needs a line.
    """

    path: Path
    data: Any
    root: Any = _UNCOMPOSED  # ruamel.yaml node, or None when the file's lines could not be mapped
    error_type: type[DocumentError] = DocumentError
    text: str = field(default="", repr=False)

    def tree(self) -> Any:
        """The node tree (composed now if it was not), or None when it cannot be had."""
        if self.root is _UNCOMPOSED:
            try:
                self.root = _compose(self.text)
            except (_yaml_errors(), RecursionError):
                self.root = None
        return self.root

    def line(self, parts: Sequence[Any]) -> int | None:
        """1-based line of the deepest node on ``parts`` (a mapping key's own line)."""
        from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

        node = self.tree()
        if node is None:
            return None
        line = node.start_mark.line + 1
        for part in parts:
            if isinstance(node, MappingNode):
                for key_node, value_node in node.value:
                    if isinstance(key_node, ScalarNode) and key_node.value == str(part):
                        line = key_node.start_mark.line + 1
                        node = value_node
                        break
                else:
                    return line
            elif isinstance(node, SequenceNode) and isinstance(part, int) and part < len(node.value):
                node = node.value[part]
                line = node.start_mark.line + 1
            else:
                return line
        return line

    def error(self, parts: Sequence[Any], problem: str) -> DocumentError:
        return self.error_type(self.path, json_path(parts), problem, self.line(parts))


def read_document(path: Path, error: type[DocumentError] = DocumentError, *, max_bytes: int = MAX_BYTES
                  ) -> Document:
    """Read and parse a YAML or JSON file (``.json`` is parsed as JSON); problems raise ``error``.

    ``max_bytes``: larger files are refused unread (a waiver file of 100k waivers is 14 to 24 MB).
    """
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise error(path, "$", f"file is {size} bytes; documents are limited to {max_bytes} bytes")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(path, "$", "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(path, "$", f"cannot read file: {exc}") from None
    return parse_document(text, path, error, as_json=path.suffix == ".json", max_bytes=max_bytes)


def parse_document(text: str, path: Path, error: type[DocumentError] = DocumentError,
                   as_json: bool = False, *, max_bytes: int = MAX_BYTES) -> Document:
    """Parse ``text`` (the contents of ``path``), refusing hostile input.

    A plain document (see :mod:`posture.plain_yaml`; for JSON: no duplicate key, not too deep)
    is read in one fast pass; anything else, including every document with a problem, is read
    the exact way, which says what is wrong and where.
    """
    if len(text) > max_bytes:
        raise error(path, "$", f"document is {len(text)} characters; documents are limited to {max_bytes}")
    # The fast readers never recurse (libyaml's parser keeps its own stacks; json raises
    # RecursionError) and give up past MAX_DEPTH, so only the exact reader needs the bracket scan.
    data = _load_plain_json(text) if as_json else _load_plain_yaml(text)
    if data is not _NOT_PLAIN:
        return Document(path, data, error_type=error, text=text)
    deep = _deep_line(text, MAX_DEPTH * 10)
    if deep is not None:
        raise error(path, "$", f"nested deeper than {MAX_DEPTH} levels", deep)
    return _parse_exactly(text, path, error, as_json)


_NOT_PLAIN: Any = object()


def _load_plain_yaml(text: str) -> Any:
    from posture.plain_yaml import NotPlain, load_plain

    try:
        return load_plain(text, MAX_DEPTH)
    except (NotPlain, RecursionError):
        return _NOT_PLAIN


class _DuplicateKey(Exception):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise _DuplicateKey
    return obj


def _load_plain_json(text: str) -> Any:
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys)
    except (ValueError, RecursionError, _DuplicateKey):
        return _NOT_PLAIN
    return _NOT_PLAIN if nesting_path(data) is not None else data


def _parse_exactly(text: str, path: Path, error: type[DocumentError], as_json: bool) -> Document:
    """ruamel.yaml's node tree, checked (duplicate keys, alias expansion, depth), then the data."""
    if as_json:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise error(path, "$", f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
                        exc.lineno) from None
        except RecursionError:
            raise error(path, "$", f"nested deeper than {MAX_DEPTH} levels", _deep_line(text, MAX_DEPTH)) from None
        try:
            root = _compose(text)
        except _yaml_errors():
            root = None  # valid JSON the YAML parser does not take: no line numbers, still checked below
        doc = Document(path, data, root, error)
        if root is not None:
            _check_nodes(doc)
    else:
        try:
            root = _compose(text)
            doc = Document(path, None, root, error)
            if root is not None:
                _check_nodes(doc)
            doc.data = _construct(text)
        except RecursionError:
            raise error(path, "$", f"nested deeper than {MAX_DEPTH} levels", _deep_line(text, MAX_DEPTH)) from None
        except _yaml_errors() as exc:
            raise _yaml_error(exc, path, error) from None
    too_deep = nesting_path(doc.data)
    if too_deep is not None:
        raise doc.error(too_deep, f"nested deeper than {MAX_DEPTH} levels")
    return doc


# ------------------------------------------------------------------------------- YAML parsing
def _yaml_errors() -> type[Exception]:
    from ruamel.yaml.error import YAMLError

    return YAMLError


@lru_cache(maxsize=1)
def _constructor() -> type:
    from ruamel.yaml.constructor import SafeConstructor

    class Constructor(SafeConstructor):
        """PyYAML's reading of YAML 1.1, which posture's files were written for: dates stay the text
        written (a schema, not YAML, says what a valid date is) and ``y``/``n`` are letters."""

        def construct_yaml_bool(self, node: Any) -> Any:
            return node.value if node.value in ("y", "Y", "n", "N") else super().construct_yaml_bool(node)

        def construct_yaml_float(self, node: Any) -> Any:
            """``1e3`` is the float ruamel reads it as, without ruamel's warning on the user's terminal."""
            text = node.value.replace("_", "")
            mantissa, e, _ = text.lower().lstrip("+-").partition("e")
            if e and "." not in mantissa and ":" not in text:
                return float(text)
            return super().construct_yaml_float(node)

    Constructor.add_constructor("tag:yaml.org,2002:timestamp", SafeConstructor.construct_yaml_str)
    Constructor.add_constructor("tag:yaml.org,2002:bool", Constructor.construct_yaml_bool)
    Constructor.add_constructor("tag:yaml.org,2002:float", Constructor.construct_yaml_float)
    return Constructor


def _yaml(pure: bool) -> Any:
    from ruamel.yaml import YAML

    loader = YAML(typ="safe", pure=pure)
    loader.Constructor = _constructor()
    loader.version = (1, 1)  # the YAML rules posture's files were written for (PyYAML's)
    return loader


def _with_fallback(method: str, text: str) -> Any:
    """The libyaml-based parser (fast); the pure-Python one when it refuses (it takes URLs in flow
    lists the C parser rejects, and words syntax errors better)."""
    try:
        return getattr(_yaml(pure=False), method)(text)
    except _yaml_errors():
        return getattr(_yaml(pure=True), method)(text)


def _compose(text: str) -> Any:
    return _with_fallback("compose", text)


def _construct(text: str) -> Any:
    return _with_fallback("load", text)


def _yaml_error(exc: Exception, path: Path, error: type[DocumentError]) -> DocumentError:
    from ruamel.yaml.error import MarkedYAMLError

    if not isinstance(exc, MarkedYAMLError):
        return error(path, "$", f"invalid YAML: {exc}")
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else None
    col = f", column {mark.column + 1}" if mark else ""
    what = exc.problem or exc.context or "syntax error"
    if exc.context and exc.problem:
        cm = exc.context_mark
        started = f" started at line {cm.line + 1}, column {cm.column + 1}" if cm else ""
        what += f" ({exc.context}{started})"
    return error(path, "$", f"invalid YAML at line {line}{col}: {what}", line)


def _check_nodes(doc: Document) -> None:
    """One pass over the node graph: duplicate keys, recursive aliases, and the size after alias
    expansion (counted once per distinct node, so the pass itself stays linear)."""
    from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

    def children(node: Any, parts: list[Any]) -> list[tuple[Any, list[Any]]]:
        if isinstance(node, MappingNode):
            return [(n, [*parts, k.value]) for k, v in node.value for n in (k, v)]
        if isinstance(node, SequenceNode):
            return [(n, [*parts, i]) for i, n in enumerate(node.value)]
        return []

    size: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Any, list[Any], bool]] = [(doc.root, [], False)]
    while stack:
        node, parts, done = stack.pop()
        line = node.start_mark.line + 1
        if done:
            on_path.discard(id(node))
            size[id(node)] = 1 + sum(size[id(c)] for c, _ in children(node, parts))
            # aliases, not size: a document without aliases never expands beyond its own nodes
            if size[id(node)] > MAX_NODES and size[id(node)] > 2 * len(size):
                raise doc.error_type(doc.path, json_path(parts), f"YAML aliases expand to more than {MAX_NODES} "
                                     "values (a 'billion laughs' document?)", line)
            continue
        if id(node) in size:
            continue
        if id(node) in on_path:
            raise doc.error_type(doc.path, json_path(parts), "a YAML alias refers to a value that contains it",
                                 line)
        if isinstance(node, MappingNode):
            _refuse_duplicate_keys(doc, node, parts, ScalarNode)
        on_path.add(id(node))
        stack.append((node, parts, True))
        stack.extend((c, p, False) for c, p in children(node, parts) if id(c) not in size)


def _refuse_duplicate_keys(doc: Document, node: Any, parts: list[Any], scalar: type) -> None:
    first: dict[tuple[str, str], int] = {}
    for key, _ in node.value:
        if not isinstance(key, scalar) or str(key.tag) == _MERGE_TAG:
            continue
        line = key.start_mark.line + 1
        if (str(key.tag), key.value) in first:
            raise doc.error_type(doc.path, json_path([*parts, key.value]), f"duplicate key {short_repr(key.value)} "
                                 f"on line {line} (first on line {first[str(key.tag), key.value]})", line)
        first[str(key.tag), key.value] = line


# ------------------------------------------------------------------------------------ nesting
def nesting_path(data: Any, limit: int = MAX_DEPTH) -> list[Any] | None:
    """The path to the first value nested deeper than ``limit``, or None (iterative: never recurses)."""
    stack: list[tuple[Any, list[Any]]] = [(data, [])]
    while stack:
        value, path = stack.pop()
        if len(path) > limit:
            return path
        if isinstance(value, dict):
            stack.extend((v, [*path, k]) for k, v in value.items() if isinstance(v, (dict, list)))
        elif isinstance(value, list):
            stack.extend((v, [*path, i]) for i, v in enumerate(value) if isinstance(v, (dict, list)))
    return None


_STRUCTURE = re.compile(r"""[\[\]{}"'\n]""")


def _deep_line(text: str, limit: int) -> int | None:
    """The line where brackets in ``text`` open more than ``limit`` deep (quoted text aside), else None.

    A cheap bound run before any parser: libyaml's composer recurses in C, where a hostile depth
    would overflow the stack rather than raise.
    """
    if text.count("[") + text.count("{") <= limit and not _deep_block(text, limit):
        return None
    depth, line, quote = 0, 1, ""
    for match in _STRUCTURE.finditer(text):
        ch = match.group()
        if ch == "\n":
            line += 1
        elif quote:
            if ch == quote and (quote == "'" or not _escaped(text, match.start())):
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return line
        else:
            depth = max(depth - 1, 0)
    return _deep_block(text, limit)


def _escaped(text: str, index: int) -> bool:
    backslashes = 0
    while index > 0 and text[index - 1] == "\\":
        backslashes += 1
        index -= 1
    return backslashes % 2 == 1


_BLOCK_INDICATORS = re.compile(r"^[ \t]*(?:[-?][ \t]+)+", re.MULTILINE)


def _deep_block(text: str, limit: int) -> int | None:
    """YAML block nesting (``- - - x`` or deep indentation): each level moves the content right."""
    for match in _BLOCK_INDICATORS.finditer(text):
        if match.end() - match.start() > limit * 2:
            return text.count("\n", 0, match.start()) + 1
    return None


# ------------------------------------------------------------------------------ machine JSON
def loads_json(text: str | bytes) -> Any:
    """``json.loads`` bounded to :data:`MAX_DEPTH` levels: raises :class:`NestingError`, never
    RecursionError (fact files and reports can come from anywhere)."""
    try:
        data = json.loads(text)
    except RecursionError:
        raw = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
        raise NestingError(_deep_line(raw, MAX_DEPTH)) from None
    if isinstance(data, (dict, list)) and nesting_path(data) is not None:
        raw = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
        raise NestingError(_deep_line(raw, MAX_DEPTH))
    return data


# ------------------------------------------------------------------------------ schema errors
@lru_cache(maxsize=8)
def schema_validator(schema_path: str, formats: bool = False) -> Any:
    """A Draft 2020-12 validator for a JSON schema file (cached)."""
    import jsonschema

    schema = json.loads(Path(schema_path).read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker() if formats else None)


def explain(err: Any) -> tuple[list[Any], str]:
    """What a jsonschema error means, in words, and the path it is about."""
    parts = list(err.absolute_path)
    if err.validator == "required":
        missing = re.match(r"'([^']+)'", err.message)
        name = missing.group(1) if missing else err.message
        return parts, f"missing required field '{name}'"
    if err.validator == "type":
        expected = err.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        return parts, f"wrong type: expected {expected}, got {type_name(err.instance)} {short_repr(err.instance)}"
    if err.validator == "additionalProperties":
        allowed = sorted((err.schema.get("properties") or {}).keys())
        extra = sorted(map(str, set(err.instance) - set(allowed))) if isinstance(err.instance, dict) else []
        name = extra[0] if extra else "?"
        return parts + ([name] if extra else []), f"unknown field '{name}' (allowed: {', '.join(allowed)})"
    if err.validator == "enum":
        return parts, f"{short_repr(err.instance)} is not one of {', '.join(map(repr, err.validator_value))}"
    if err.validator == "minLength" and err.validator_value == 1:
        return parts, "must not be empty"
    return parts, shorten(err.message, 200)


def schema_errors(doc: Document, schema_path: Path, formats: bool = False) -> list[tuple[list[Any], str, Any]]:
    """Schema violations as (path, explanation, jsonschema error), first in the file first."""
    found = [(*explain(e), e) for e in schema_validator(str(schema_path), formats).iter_errors(doc.data)]
    found.sort(key=lambda pe: (doc.line(pe[0]) or 0, len(pe[0])))
    return found


def validate_schema(doc: Document, schema_path: Path, what: str, formats: bool = False) -> None:
    """Raise the first (by position in the file) schema violation as the document's error."""
    if not isinstance(doc.data, dict):
        raise doc.error([], f"a {what} file must be a mapping at the top level, got {type_name(doc.data)}")
    errors = schema_errors(doc, schema_path, formats)
    if errors:
        parts, problem, _ = errors[0]
        raise doc.error(parts, problem)
