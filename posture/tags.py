"""The tags (AWS, Azure) or labels (GCP) a fact carries, in one shape for every cloud.

Facts carry what their collector chose to keep: AWS keeps tag *keys* only (``tag_keys``: values may
hold anything, secrets included), Azure keeps ``tags`` and GCP ``labels`` with their values. A key
without a known value maps to ``None``.
"""

from __future__ import annotations

from typing import Any


def fact_tags(attributes: dict[str, Any]) -> dict[str, str | None]:
    tags: dict[str, str | None] = {}
    for keys in ("tag_keys", "label_keys"):
        for key in attributes.get(keys) or ():
            tags.setdefault(str(key), None)
    for mapping in ("tags", "labels"):
        value = attributes.get(mapping)
        if isinstance(value, dict):
            tags.update({str(k): (None if v is None else str(v)) for k, v in value.items()})
    return tags
