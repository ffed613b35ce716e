"""Find the waivers that match a result without trying every waiver on every failure.

Matching each failure against each waiver with ``fnmatch`` cost 33 s for 20k
waivers (its pattern cache holds 32,768 entries, so beyond that every call
recompiles) and never finished for 100k. Here waivers are grouped by the
check or control they name; inside a group, exact resource ids sit in a hash
and globs are compiled once and keyed by their literal prefix, so a failure
is compared only with the few waivers that could match it. The waiver's own
``matches`` still decides (provider, scope, tags...), and file order still
picks the winner.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from fnmatch import translate
from typing import Any

_WILDCARD = re.compile(r"[*?\[]")


def glob_matcher(pattern: str) -> Callable[[str], bool]:
    """``fnmatchcase(text, pattern)`` as a function of ``text``, built once.

    An exact id compares, ``prefix*`` (most resource globs) is ``startswith``, and only other
    globs are translated and compiled: ``fnmatch.translate`` escapes character by character,
    which for 10k long resource globs took seconds.
    """
    wildcard = _WILDCARD.search(pattern)
    if wildcard is None:
        return pattern.__eq__
    if wildcard.start() == len(pattern) - 1 and pattern[-1] == "*":
        return _StartsWith(pattern[:-1])
    return re.compile(translate(pattern)).match  # type: ignore[return-value]


class _StartsWith:
    __slots__ = ("prefix",)

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def __call__(self, text: str) -> bool:
        return text.startswith(self.prefix)


class _Group:
    """The waivers naming one check (or one control, or neither)."""

    def __init__(self) -> None:
        self.exact: dict[str, list[int]] = defaultdict(list)
        #: literal-prefix length -> prefix -> [(order, glob matcher)]
        self.globs: dict[int, dict[str, list[tuple[int, Callable[[str], Any]]]]] = defaultdict(
            lambda: defaultdict(list))

    def add(self, order: int, pattern: str, matcher: Callable[[str], Any]) -> None:
        wildcard = _WILDCARD.search(pattern)
        if wildcard is None:
            self.exact[pattern].append(order)
            return
        prefix = pattern[: wildcard.start()]
        self.globs[len(prefix)][prefix].append((order, matcher))

    def candidates(self, resource_id: str, into: set[int]) -> None:
        into.update(self.exact.get(resource_id, ()))
        for length, by_prefix in self.globs.items():
            for order, matches in by_prefix.get(resource_id[:length], ()):
                if matches(resource_id):
                    into.add(order)


class WaiverIndex:
    """Waivers (in file order) indexed for :meth:`first` and :meth:`all` lookups by result."""

    def __init__(self, waivers: Sequence[Any]) -> None:
        self.waivers = list(waivers)
        self._by_check: dict[str, _Group] = defaultdict(_Group)
        self._by_control: dict[str, _Group] = defaultdict(_Group)
        self._other = _Group()
        for order, w in enumerate(self.waivers):
            group = (self._by_check[w.check] if w.check else
                     self._by_control[w.control] if w.control else self._other)
            group.add(order, w.resource, w.resource_matcher)

    def _candidates(self, result: Any) -> list[int]:
        found: set[int] = set()
        group = self._by_check.get(result.check_id)
        if group is not None:
            group.candidates(result.resource_id, found)
        for control in result.controls:
            group = self._by_control.get(control)
            if group is not None:
                group.candidates(result.resource_id, found)
        self._other.candidates(result.resource_id, found)
        return sorted(found)

    def first(self, result: Any, decide: Callable[[Any], bool] | None = None) -> Any | None:
        """The first waiver in file order that matches ``result`` (``decide(waiver)``, by default the
        waiver's own ``matches``), or None."""
        decide = decide or (lambda w: bool(w.matches(result)))
        for order in self._candidates(result):
            if decide(self.waivers[order]):
                return self.waivers[order]
        return None

    def all(self, result: Any, decide: Callable[[Any], bool] | None = None) -> Iterable[Any]:
        """Every waiver that matches ``result``, in file order."""
        decide = decide or (lambda w: bool(w.matches(result)))
        return [self.waivers[o] for o in self._candidates(result) if decide(self.waivers[o])]
