"""Load plain YAML fast: libyaml's events turned straight into Python data.

The document reader (:mod:`posture.documents`) composes a ruamel.yaml node tree, checks it and
constructs the data from the text again: about 45 s for a 100k-waiver file, nearly all of it in
ruamel's pure-Python resolver and node objects. Most documents are *plain*: no anchors or
aliases, no tags, no directives, no duplicate keys, no complex keys, not deeply nested. For
those, :func:`load_plain` reads PyYAML's libyaml event stream (C) and builds dicts, lists and
scalars in one pass, resolving plain scalars with ruamel's own YAML 1.1 rules and constructing
every non-string scalar with ruamel's own constructor, so the data is the same as ruamel's.

Anything else raises :class:`NotPlain`, and the caller reads the document the slow, exact way,
which then reports what is wrong with the file and line (a duplicate key names both lines).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

_STR = "tag:yaml.org,2002:str"
#: what ruamel constructs as the text itself (posture's constructor keeps dates as written)
_AS_TEXT = frozenset({_STR, "tag:yaml.org,2002:timestamp"})
#: what ruamel's constructor builds for us; other implicit tags (merge ``<<``, ``=``) are not plain
_CONSTRUCTED = frozenset({"tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
                          "tag:yaml.org,2002:null"})


class _Every:
    def __contains__(self, _: object) -> bool:
        return True


_EVERY_CHARACTER: Any = _Every()


class NotPlain(Exception):  # noqa: N818 - a signal to take the exact path, not an error
    """The document uses something :func:`load_plain` leaves to the exact reader."""


@lru_cache(maxsize=1)
def _resolvers() -> tuple[dict[str, tuple[tuple[str, Any], ...]], tuple[tuple[str, Any], ...]]:
    """ruamel's YAML 1.1 implicit resolvers by first character (``""``: the empty scalar), and
    those for any character, in the order ``VersionedResolver.resolve`` tries them."""
    from ruamel.yaml.resolver import implicit_resolvers

    by_first: dict[Any, list[tuple[str, Any]]] = {}
    for versions, tag, regexp, first in implicit_resolvers:
        if (1, 1) in versions:
            for ch in first or [None]:
                # ruamel compiles lazily behind a proxy; a plain pattern matches faster
                by_first.setdefault(ch, []).append((tag, re.compile(regexp.pattern, regexp.flags)))
    anywhere = tuple(by_first.pop(None, []))
    return {ch: (*rs, *anywhere) for ch, rs in by_first.items()}, anywhere


@lru_cache(maxsize=1)
def _constructor() -> Any:
    from ruamel.yaml.nodes import ScalarNode

    from posture.documents import _yaml

    constructor = _yaml(pure=True).constructor

    def construct(tag: str, value: str) -> Any:
        return constructor.yaml_constructors[tag](constructor, ScalarNode(tag, value))

    return construct


def resolve_plain(value: str) -> Any:
    """A plain (unquoted, untagged) scalar as ruamel reads it under YAML 1.1 with posture's rules."""
    by_first, anywhere = _resolvers()
    for tag, regexp in by_first.get(value[:1], anywhere):
        if regexp.match(value):
            if tag in _AS_TEXT:
                return value
            if tag not in _CONSTRUCTED:
                raise NotPlain(tag)
            try:
                return _constructor()(tag, value)
            except Exception as exc:  # a warning needing a line, a value ruamel refuses: the exact path says
                raise NotPlain(tag) from exc
    return value


def load_plain(text: str, max_depth: int) -> Any:
    """The data of a plain single YAML document; :class:`NotPlain` for anything else (including
    syntax errors, and containers nested more than ``max_depth`` deep)."""
    import yaml
    from yaml.cyaml import CParser

    parser = CParser(text)
    try:
        return _build(parser.get_event, max_depth, yaml)
    except yaml.YAMLError as exc:
        raise NotPlain("libyaml refused the text") from exc
    finally:
        parser.dispose()


def _build(next_event: Any, max_depth: int, yaml: Any) -> Any:
    scalar, mapping_start, sequence_start = yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent
    mapping_end, sequence_end = yaml.MappingEndEvent, yaml.SequenceEndEvent
    by_first, anywhere = _resolvers()
    if anywhere:  # no YAML 1.1 rule applies to any first character; if one did, every scalar would go through it
        by_first = _EVERY_CHARACTER
    no_key = object()
    resolved: dict[str, Any] = {}  # dates, numbers and booleans repeat
    if not isinstance(next_event(), yaml.StreamStartEvent):
        raise NotPlain("no stream start")
    start = next_event()
    if not isinstance(start, yaml.DocumentStartEvent) or start.version or start.tags:
        raise NotPlain("empty stream or directives")
    # Anchors are ignored: alone they mean nothing, and every use of one is an alias event (refused).
    stack: list[tuple[Any, Any]] = []  # the enclosing containers, each with its pending key
    top: Any = None  # the open container (None outside the root)
    key: Any = no_key  # in a mapping: the key read, waiting for its value
    root: Any = no_key
    while True:
        event = next_event()
        kind = type(event)
        if kind is scalar:
            if event.tag is not None:
                raise NotPlain("a tag")
            value = event.value
            if event.implicit[0] and value[:1] in by_first:
                if value in resolved:
                    value = resolved[value]
                else:
                    value = resolved[value] = resolve_plain(value)
            if type(top) is dict:
                if key is no_key:
                    key = value
                    continue
                if key in top:
                    raise NotPlain("duplicate key")
                top[key] = value
                key = no_key
            elif top is not None:
                top.append(value)
            else:
                root = value
        elif kind is mapping_start or kind is sequence_start:
            if event.tag is not None:
                raise NotPlain("a tag")
            if len(stack) > max_depth:
                raise NotPlain("deep")
            new: Any = {} if kind is mapping_start else []
            if type(top) is dict:
                if key is no_key:
                    raise NotPlain("a collection as a mapping key")
                if key in top:
                    raise NotPlain("duplicate key")
                top[key] = new
            elif top is not None:
                top.append(new)
            else:
                root = new
            stack.append((top, no_key))
            top, key = new, no_key
        elif kind is mapping_end or kind is sequence_end:
            top, key = stack.pop()
        elif kind is yaml.DocumentEndEvent:
            break
        else:
            raise NotPlain(kind.__name__)  # an alias
    if root is no_key or not isinstance(next_event(), yaml.StreamEndEvent):
        raise NotPlain("not a single document")
    return root
