"""The tier model: catalogue controls and their parameters, resolved tiers, and what a valid
parameter value is. Shared by the catalogue, resolution, diff and classification modules."""

from __future__ import annotations

import copy
import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from posture import documents
from posture.documents import Document, DocumentError, type_name

CATALOGUE_DEFAULT = "catalogue default"
PARAMETER_TYPES = ("integer", "string", "ports", "string_list")
TIGHTER = ("lower", "higher", "superset")


class TierError(DocumentError):
    """A tier, catalogue or classification file problem: where it is and what is wrong."""


def read_document(path: Path) -> Document:
    """A tier, catalogue or classification file; every problem is a located :class:`TierError`."""
    return documents.read_document(path, TierError)


def validate_schema(doc: Document, schema_path: Path, what: str) -> None:
    """Raise the first (by position in the file) schema violation, with a hint for justifications."""
    if not isinstance(doc.data, dict):
        raise doc.error([], f"a {what} file must be a mapping at the top level, got {type_name(doc.data)}")
    errors = documents.schema_errors(doc, schema_path)
    if not errors:
        return
    parts, problem, _ = errors[0]
    if problem == "missing required field 'justification'":
        problem += (": an excluded control needs a written justification" if parts[:1] == ["exclude"]
                    else ": an override needs a written justification")
    raise doc.error(parts, problem)


@dataclass(frozen=True)
class ParameterSpec:
    """A tier parameter of a control, with its type, default and tightening direction."""

    name: str
    type: str
    default: Any
    tighter: str
    description: str
    value_type: str | None = None


@dataclass(frozen=True)
class ControlSpec:
    """One cloud-agnostic control of the catalogue."""

    id: str
    title: str
    domain: str
    severity: str
    rationale: str
    baseline: tuple[str, ...]
    references: dict[str, list[str]]
    parameters: dict[str, ParameterSpec]
    description: str = ""
    #: provider -> why the control has no counterpart there (coverage shows n/a, not a gap)
    not_applicable: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Catalogue:
    """The control catalogue (``tiers/controls.yaml``)."""

    controls: dict[str, ControlSpec]
    baseline: dict[str, str]
    domains: dict[str, str]
    path: Path | None = None
    name: str = ""
    version: str = ""

    def parameter(self, name: str) -> tuple[ControlSpec, ParameterSpec] | None:
        for spec in self.controls.values():
            if name in spec.parameters:
                return spec, spec.parameters[name]
        return None


@dataclass
class ResolvedControl:
    """A control as a resolved tier applies it: parameters and where each came from."""

    id: str
    spec: ControlSpec
    parameters: dict[str, Any]
    #: parameter -> tier id that set it, or "catalogue default"
    sources: dict[str, str]
    introduced_by: str
    excluded: bool = False
    justification: str = ""
    #: tier id that excluded the control (when excluded)
    excluded_by: str = ""
    #: parameter -> justification of a tier that loosened it with ``override``
    overrides: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.spec.title,
            "domain": self.spec.domain,
            "severity": self.spec.severity,
            "introduced_by": self.introduced_by,
            "excluded": self.excluded,
            "excluded_by": self.excluded_by,
            "justification": self.justification,
            "parameters": {
                name: {"value": value, "source": self.sources.get(name, CATALOGUE_DEFAULT),
                       **({"override": self.overrides[name]} if name in self.overrides else {})}
                for name, value in sorted(self.parameters.items())
            },
        }


@dataclass
class ResolvedTier:
    """A tier with its ``extends`` chain resolved: every control it applies, with parameters."""

    id: str
    title: str
    description: str
    path: Path
    #: tier ids, root first, self last
    chain: list[str]
    #: every control, including excluded ones (``excluded=True``)
    controls: dict[str, ResolvedControl]
    classifications: list[str]
    #: resolved ancestors root first, ending with self
    levels: list[ResolvedTier] = field(default_factory=list, repr=False, compare=False)
    catalogue: Catalogue | None = field(default=None, repr=False, compare=False)

    def parameters_for(self, control_id: str) -> dict[str, Any]:
        """Parameter values for a control; catalogue defaults for a control the tier does not select."""
        if control_id in self.controls:
            return copy.deepcopy(self.controls[control_id].parameters)
        if self.catalogue is not None and control_id in self.catalogue.controls:
            return {n: copy.deepcopy(p.default) for n, p in self.catalogue.controls[control_id].parameters.items()}
        raise KeyError(control_id)

    def active_controls(self) -> list[ResolvedControl]:
        """Controls the tier applies (not excluded), sorted by id."""
        return [c for _, c in sorted(self.controls.items()) if not c.excluded]

    def excluded_controls(self) -> list[ResolvedControl]:
        return [c for _, c in sorted(self.controls.items()) if c.excluded]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "path": str(self.path),
            "chain": list(self.chain),
            "classifications": list(self.classifications),
            "controls": [c.to_dict() for _, c in sorted(self.controls.items())],
        }



def _version_tuple(value: str) -> tuple[int, ...]:
    return tuple(int(x) for x in value.split("."))


def check_value(spec: ParameterSpec, value: Any) -> str | None:
    """Why ``value`` is not a valid value of parameter ``spec``, or None."""
    got = f"got {type_name(value)} {value!r}"
    if spec.type == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            return f"parameter '{spec.name}' must be an integer, {got}"
        if value < 0:
            return f"parameter '{spec.name}' must not be negative, got {value}"
    elif spec.type == "string":
        if not isinstance(value, str):
            return f"parameter '{spec.name}' must be a string, {got}"
        if spec.value_type == "version" and not re.fullmatch(r"\d+(\.\d+)*", value):
            return f"parameter '{spec.name}' must be a dotted version such as \"1.2\", got {value!r}"
    elif spec.type == "ports":
        if not isinstance(value, list) or not all(
                isinstance(p, int) and not isinstance(p, bool) and 0 < p < 65536 for p in value):
            return f"parameter '{spec.name}' must be a list of TCP ports (integers 1-65535), {got}"
    elif spec.type == "string_list" and (
            not isinstance(value, list) or not all(isinstance(s, str) and s for s in value)):
        return f"parameter '{spec.name}' must be a list of non-empty strings, {got}"
    return None


def is_tighter_or_equal(spec: ParameterSpec, new: Any, old: Any) -> bool:
    """True when ``new`` demands at least as much as ``old`` (the catalogue's ``tighter``)."""
    if spec.tighter == "superset":
        return set(new) >= set(old)
    if spec.value_type == "version":
        a, b = _version_tuple(str(new)), _version_tuple(str(old))
    else:
        a, b = new, old
    if spec.tighter == "lower":
        return a <= b
    return a >= b


def format_value(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


def did_you_mean(word: Any, options: Any) -> str:
    # YAML turns keys like 123, true or 2024-01-01 into non-strings: compare their text
    close = difflib.get_close_matches(str(word), [str(o) for o in options], n=1, cutoff=0.75)
    return f"; did you mean {close[0]}?" if close else ""
