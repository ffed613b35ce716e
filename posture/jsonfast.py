"""Pretty JSON fast: orjson where it can, the standard library where it cannot.

``json.dumps(indent=2)`` falls back to the pure-Python encoder (the C one
only serves compact output), and writing a large report's JSON and SARIF was
over half of the time of ``posture evaluate``. orjson writes the same
document the same way (two-space indent, ``": "`` separators, UTF-8 as is;
only a float in exponent form prints shorter, ``1e-7`` for ``1e-07``), many
times faster, and deterministically: identical input, identical bytes.
"""

from __future__ import annotations

import json
from typing import Any

try:
    import orjson
except ImportError:  # pragma: no cover - orjson is a dependency; stay correct without it
    orjson = None


def dumps_pretty(obj: Any, *, sort_keys: bool = False) -> str:
    """``json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=...) + "\\n"``, fast."""
    return dumps_pretty_bytes(obj, sort_keys=sort_keys).decode("utf-8")


def dumps_pretty_bytes(obj: Any, *, sort_keys: bool = False) -> bytes:
    """:func:`dumps_pretty` as UTF-8, without the copy into a ``str``."""
    if orjson is not None:
        option = orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE | (orjson.OPT_SORT_KEYS if sort_keys else 0)
        try:
            return orjson.dumps(obj, option=option)
        except (TypeError, orjson.JSONEncodeError):
            pass  # a value orjson refuses (an integer past 64 bits, a non-string key): the slow path
    return (json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=sort_keys) + "\n").encode("utf-8")
