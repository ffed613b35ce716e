"""OSCAL documents through compliance-trestle's models (the ``oscal`` extra).

Each builder returns the document as an OSCAL JSON dict; :func:`to_model`
validates it with trestle's pydantic models (so a file posture writes is one
trestle reads) and :func:`write_document` serialises it through trestle.

Identifiers are stable: every UUID is a version-5 UUID of what the object is
(the catalogue control, the tier, the check result's fingerprint...), so the
same input gives the same file. The only varying value is
``metadata.last-modified`` of the catalog, profile and component definition,
which is the time of writing unless ``SOURCE_DATE_EPOCH`` is set (the
reproducible-builds convention); assessment results take it from the report
(its ``finished_at``), so they are reproducible as they are.
"""

from __future__ import annotations

import os
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

#: namespace for posture's own OSCAL properties
NS = "https://posture.dev/ns/oscal"
_UUID_NS = uuid.uuid5(uuid.NAMESPACE_URL, "https://posture.dev/oscal")
INSTALL_HINT = "OSCAL output needs compliance-trestle: pip install 'tiered-posture[oscal]'"


class OscalUnavailable(RuntimeError):
    """compliance-trestle is not installed."""


def require_trestle() -> None:
    try:
        import trestle.oscal  # noqa: F401
    except ImportError as exc:
        raise OscalUnavailable(f"{INSTALL_HINT} ({exc})") from None


def oscal_version() -> str:
    require_trestle()
    from trestle.oscal import OSCAL_VERSION

    return OSCAL_VERSION


def stable_uuid(*parts: Any) -> str:
    """A version-5 UUID of ``parts``: the same object always gets the same id."""
    return str(uuid.uuid5(_UUID_NS, "\x00".join(str(p) for p in parts)))


def document_time() -> str:
    """``SOURCE_DATE_EPOCH`` when set (reproducible builds), else now."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = datetime.fromtimestamp(int(epoch), UTC) if epoch and epoch.isdigit() else datetime.now(UTC)
    return moment.isoformat(timespec="seconds")


def one_line(text: Any) -> str:
    """OSCAL property values and titles are single lines without outer spaces."""
    return re.sub(r"\s+", " ", str(text)).strip()


def prop(name: str, value: Any, *, ns: bool = True, cls: str | None = None, remarks: str | None = None
         ) -> dict[str, Any] | None:
    text = one_line(value)
    if not text:
        return None
    out: dict[str, Any] = {"name": name, "value": text}
    if ns:
        out["ns"] = NS
    if cls:
        out["class"] = cls
    if remarks:
        out["remarks"] = remarks
    return out


def props(*items: dict[str, Any] | None) -> list[dict[str, Any]] | None:
    """The non-empty properties, or None (OSCAL lists may not be empty)."""
    kept = [p for p in items if p]
    return kept or None


def clean(value: Any) -> Any:
    """Drop None values and empty lists (trestle's models forbid empty arrays)."""
    if isinstance(value, dict):
        out = {k: clean(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not None and v != []}
    if isinstance(value, list):
        return [clean(v) for v in value]
    return value


def value_strings(value: Any) -> list[str]:
    items = value if isinstance(value, list | tuple) else [value]
    return [s for s in (one_line(v).lower() if isinstance(v, bool) else one_line(v) for v in items) if s]


MODELS = {
    "catalog": ("trestle.oscal.catalog", "Catalog"),
    "profile": ("trestle.oscal.profile", "Profile"),
    "component-definition": ("trestle.oscal.component", "ComponentDefinition"),
    "assessment-results": ("trestle.oscal.assessment_results", "AssessmentResults"),
}


def to_model(kind: str, document: dict[str, Any]) -> Any:
    """Validate ``document`` (the object under the ``kind`` root key) with trestle's model."""
    import importlib

    require_trestle()
    module, name = MODELS[kind]
    model = getattr(importlib.import_module(module), name)
    return model.model_validate(clean(document))


def write_document(kind: str, document: dict[str, Any], path: Path) -> Any:
    """Validate through trestle and write pretty JSON atomically; returns the model."""
    from posture.atomic import write_text_atomic

    model = to_model(kind, document)
    write_text_atomic(path, model.oscal_serialize_json(pretty=True) + "\n")
    return model


def metadata(title: str, version: Any, last_modified: str, **extra: Any) -> dict[str, Any]:
    return {"title": one_line(title), "last-modified": last_modified, "version": one_line(version) or "1",
            "oscal-version": oscal_version(), **extra}
