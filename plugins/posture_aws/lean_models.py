"""botocore's JSON data files read into plain dicts, without the API reference prose.

Why: botocore parses every model into ``OrderedDict`` (plain dicts keep insertion order too, at about
half the memory) and keeps each operation's, shape's and member's ``documentation`` HTML, which only
feeds ``help()`` docstrings. For the services a tier-3 scan uses that is about 30 of 57 MB of parsed
models (``benchmarks/aws_scan.py`` peak RSS). Requests, parsing and results are unchanged: nothing in
botocore reads those texts or needs ``OrderedDict`` methods; service-level documentation and
``clientContextParams`` (whose documentation botocore does read) are kept.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

from botocore.loaders import JSONFileLoader


def _drop_reference_docs(model: dict[str, Any]) -> None:
    """Remove the documentation of operations, shapes and shape members from a ``service-2`` model."""
    for operation in model["operations"].values():
        operation.pop("documentation", None)
    for shape in model["shapes"].values():
        shape.pop("documentation", None)
        for member in shape.get("members", {}).values():
            member.pop("documentation", None)


class LeanJSONFileLoader(JSONFileLoader):
    """A ``JSONFileLoader`` that parses into plain dicts and drops service models' reference docs."""

    def _load_file(self, full_path: str, open_method: Callable[..., Any]) -> Any:
        if not os.path.isfile(full_path):
            return None
        with open_method(full_path, "rb") as fp:
            data = json.loads(fp.read().decode("utf-8"))
        if isinstance(data, dict) and isinstance(data.get("operations"), dict) and isinstance(data.get("shapes"), dict):
            _drop_reference_docs(data)
        return data
