"""The condition language of declarative checks: policies as data.

In the spirit of Cloud Custodian's value filters, a condition is a small
mapping a security engineer can read and change without reading Python::

    {key: encryption.enabled, op: eq, value: true}
    {key: access_key_1_last_rotated, op: le, value: {param: max_access_key_age_days}, value_type: age}
    {all: [...]}  {any: [...]}  {not: {...}}
    {no_item: ingress_rules, where: {all: [{key: cidr, op: in, value: ["0.0.0.0/0", "::/0"], value_type: cidr},
                                           {key: ports, op: intersects, value: {param: admin_ports}}]}}

``key`` is a JMESPath expression over the fact's attributes (plain dotted
paths are valid JMESPath). ``value`` may be ``{param: NAME}``: the tier
parameter NAME. Operators:

========== =================================================================
eq, ne     equality (after ``value_type`` conversion)
lt le gt ge ordering; false when either side is missing
in, not_in the attribute is (not) one of the listed values
contains, not_contains  the attribute (a list or string) contains the value
intersects, disjoint    the attribute list shares (no) element with the value list
subset     every element of the attribute list is in the value list
present, absent         the attribute exists and is not null / is missing or null
empty, not_empty        the attribute is null or an empty list/map/string / is not
regex      the attribute (a string) matches the regular expression
========== =================================================================

``value_type`` converts the attribute before comparing:

- ``age``: an ISO-8601 timestamp becomes its age in whole days (now - t);
  compare with a number of days.
- ``cidr``: both sides become ``ipaddress`` networks (``0.0.0.0/0`` == ``0/0``).
- ``version``: dotted versions compare numerically (``1.10`` > ``1.9``).
- ``integer``, ``string``, ``lower`` (case-insensitive string).

List quantifiers evaluate ``where`` for each element of the list at ``key``:
``any_item``, ``every_item`` (true for an empty list), ``no_item``.

Evaluation records every key it read and the value found (the *evidence*).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import jmespath

OPERATORS = {
    "eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "contains", "not_contains", "intersects",
    "disjoint", "subset", "present", "absent", "empty", "not_empty", "regex",
}
UNARY_OPERATORS = {"present", "absent", "empty", "not_empty"}
VALUE_TYPES = {"age", "cidr", "version", "integer", "string", "lower"}
QUANTIFIERS = {"any_item", "every_item", "no_item"}


class ConditionError(ValueError):
    """A condition that is malformed or refers to an unknown tier parameter."""


_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


class _DottedPath:
    """A key of plain names (``a.b.c``) searched as JMESPath does (a missing name or a value that is not a
    mapping gives None), without its interpreter: every check reads keys on every fact."""

    def __init__(self, expr: str) -> None:
        self._names = expr.split(".")

    def search(self, data: Any) -> Any:
        for name in self._names:
            try:
                data = data.get(name)
            except AttributeError:
                return None
            if data is None:
                return None
        return data


@lru_cache(maxsize=2048)
def _compile(expr: str) -> Any:
    if _DOTTED.fullmatch(expr):
        return _DottedPath(expr)
    try:
        return jmespath.compile(expr)
    except jmespath.exceptions.JMESPathError as exc:
        raise ConditionError(f"invalid key {expr!r}: {exc}") from None


def lookup(data: Mapping[str, Any], key: str) -> Any:
    return _compile(key).search(data)


def validate(cond: Any, path: str = "condition") -> None:
    """Raise :class:`ConditionError` naming the path of the first problem."""
    if not isinstance(cond, Mapping):
        raise ConditionError(f"{path}: expected a mapping, got {type(cond).__name__}")
    if "all" in cond or "any" in cond:
        kw = "all" if "all" in cond else "any"
        items = cond[kw]
        if not isinstance(items, list) or not items:
            raise ConditionError(f"{path}.{kw}: expected a non-empty list")
        for i, sub in enumerate(items):
            validate(sub, f"{path}.{kw}[{i}]")
        return
    if "not" in cond:
        validate(cond["not"], f"{path}.not")
        return
    quant = QUANTIFIERS.intersection(cond)
    if quant:
        q = quant.pop()
        _compile(str(cond[q]))
        if "where" not in cond:
            raise ConditionError(f"{path}: {q} needs a 'where' condition")
        validate(cond["where"], f"{path}.where")
        return
    if "key" not in cond:
        raise ConditionError(f"{path}: expected one of key/all/any/not/any_item/every_item/no_item")
    _compile(str(cond["key"]))
    op = cond.get("op", "eq")
    if op not in OPERATORS:
        raise ConditionError(f"{path}.op: unknown operator {op!r} (known: {', '.join(sorted(OPERATORS))})")
    if op not in UNARY_OPERATORS and "value" not in cond:
        raise ConditionError(f"{path}: operator {op!r} needs a 'value'")
    vt = cond.get("value_type")
    if vt is not None and vt not in VALUE_TYPES:
        raise ConditionError(f"{path}.value_type: unknown value_type {vt!r} (known: {', '.join(sorted(VALUE_TYPES))})")


def parameters_used(cond: Any) -> set[str]:
    """Names of the tier parameters a condition refers to."""
    found: set[str] = set()
    if isinstance(cond, Mapping):
        if set(cond) == {"param"}:
            found.add(str(cond["param"]))
        for v in cond.values():
            found |= parameters_used(v)
    elif isinstance(cond, list):
        for v in cond:
            found |= parameters_used(v)
    return found


def _resolve(value: Any, params: Mapping[str, Any]) -> Any:
    if isinstance(value, Mapping) and set(value) == {"param"}:
        name = value["param"]
        if name not in params:
            raise ConditionError(f"tier parameter {name!r} is not set")
        return params[name]
    return value


def _days_since(value: Any, now: datetime) -> Any:
    if value is None:
        return None
    if isinstance(value, datetime):
        dt = value
    else:
        text = str(value).strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return (now - dt).days


def _version(value: Any) -> Any:
    if value is None:
        return None
    parts = re.findall(r"\d+", str(value))
    return tuple(int(p) for p in parts) if parts else None


def _cidr(value: Any) -> Any:
    if value is None:
        return None
    try:
        return ipaddress.ip_network(str(value).strip(), strict=False)
    except ValueError:
        return str(value)


def _convert(value: Any, value_type: str | None, now: datetime) -> Any:
    if value_type is None or value is None:
        return value
    if isinstance(value, list) and value_type != "age":
        return [_convert(v, value_type, now) for v in value]
    if value_type == "age":
        return _days_since(value, now)
    if value_type == "cidr":
        return _cidr(value)
    if value_type == "version":
        return _version(value)
    if value_type == "integer":
        try:
            return int(value)
        except (TypeError, ValueError):
            return None
    if value_type == "string":
        return str(value)
    if value_type == "lower":
        return str(value).lower()
    return value


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list | tuple | set):
        return list(value)
    return [value]


def _compare(op: str, left: Any, right: Any) -> bool:
    if op == "present":
        return left is not None
    if op == "absent":
        return left is None
    if op == "empty":
        return left is None or (hasattr(left, "__len__") and len(left) == 0)
    if op == "not_empty":
        return not _compare("empty", left, right)
    if op == "eq":
        return left == right
    if op == "ne":
        return left != right
    if op in {"lt", "le", "gt", "ge"}:
        if left is None or right is None:
            return False
        try:
            return {"lt": left < right, "le": left <= right, "gt": left > right, "ge": left >= right}[op]
        except TypeError:
            return False
    if op == "in":
        return left in _as_list(right)
    if op == "not_in":
        return left not in _as_list(right)
    if op == "contains":
        if left is None:
            return False
        return right in left if isinstance(left, list | tuple | str | dict) else False
    if op == "not_contains":
        return not _compare("contains", left, right)
    if op == "intersects":
        return bool(set(map(_hashable, _as_list(left))) & set(map(_hashable, _as_list(right))))
    if op == "disjoint":
        return not _compare("intersects", left, right)
    if op == "subset":
        return set(map(_hashable, _as_list(left))) <= set(map(_hashable, _as_list(right)))
    if op == "regex":
        return left is not None and re.search(str(right), str(left)) is not None
    raise ConditionError(f"unknown operator {op!r}")


def _hashable(v: Any) -> Any:
    if isinstance(v, dict):
        return tuple(sorted(v.items()))
    if isinstance(v, list):
        return tuple(v)
    return v


class Evaluator:
    """Evaluates one condition tree over one attribute mapping, recording evidence."""

    def __init__(self, params: Mapping[str, Any], now: datetime | None = None) -> None:
        self.params = params
        self.now = now or datetime.now(UTC)

    def evaluate(self, cond: Mapping[str, Any], data: Mapping[str, Any],
                 evidence: dict[str, Any], prefix: str = "") -> bool:
        if "all" in cond:
            return all(self.evaluate(c, data, evidence, prefix) for c in cond["all"])
        if "any" in cond:
            return any(self.evaluate(c, data, evidence, prefix) for c in cond["any"])
        if "not" in cond:
            return not self.evaluate(cond["not"], data, evidence, prefix)
        for q in QUANTIFIERS:
            if q in cond:
                key = str(cond[q])
                items = lookup(data, key)
                evidence[prefix + key] = _summarise(items)
                items = _as_list(items)
                matches = [
                    self.evaluate(cond["where"], item if isinstance(item, Mapping) else {"value": item}, {}, "")
                    for item in items
                ]
                if q == "any_item":
                    return any(matches)
                if q == "every_item":
                    return all(matches)
                return not any(matches)
        key = str(cond["key"])
        raw = lookup(data, key)
        evidence[prefix + key] = raw
        vt = cond.get("value_type")
        left = _convert(raw, vt, self.now)
        right = _convert(_resolve(cond.get("value"), self.params), vt if vt != "age" else None, self.now)
        return _compare(cond.get("op", "eq"), left, right)


def _summarise(items: Any) -> Any:
    """Keep evidence small: long lists are cut to their first 20 elements."""
    if isinstance(items, list) and len(items) > 20:
        return items[:20] + [f"... {len(items) - 20} more"]
    return items
