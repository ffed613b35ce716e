"""Tiers: load, validate and resolve tier files against the control catalogue.

A tier (``tiers/tier-2.yaml``) selects controls of the catalogue
(``tiers/controls.yaml``) and sets their parameters. It may ``extends:``
another tier: it inherits every control, may only *tighten* inherited
parameters (the catalogue says which direction is tighter) unless the control
carries ``override: {justification: ...}``, and may exclude inherited
controls with a written justification. Organisation tiers extend a standard
tier the same way.

Every problem raises :class:`TierError` naming the file, the JSON path inside
it, the line (YAML files) and what is wrong, so ``posture tiers validate``
can point at the exact spot. The file format is documented in
``docs/tiers.md`` and ``posture/schemas/tier.schema.json``.
"""

from __future__ import annotations

import copy
import difflib
import json
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

import posture

SCHEMA_DIR = Path(__file__).parent / "schemas"
TIERS_PATH_ENV = "POSTURE_TIERS_PATH"
CATALOGUE_DEFAULT = "catalogue default"
TIER_SUFFIXES = (".yaml", ".yml", ".json")
#: files of a tiers directory that are not tiers
NON_TIER_FILES = {"controls", "classification"}
PARAMETER_TYPES = ("integer", "string", "ports", "string_list")
TIGHTER = ("lower", "higher", "superset")


# --------------------------------------------------------------------------- errors
class TierError(Exception):
    """A tier, catalogue or classification file problem: where it is and what is wrong."""

    def __init__(self, file: str | Path, json_path: str, problem: str, line: int | None = None) -> None:
        self.file = str(file)
        self.json_path = json_path
        self.line = line
        self.problem = problem
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: at {self.json_path}: {self.problem}"

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "json_path": self.json_path, "problem": self.problem}


# ------------------------------------------------------------------- data classes
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


# ------------------------------------------------------------------ search path
def standard_tiers_dir() -> Path:
    """The standard tiers: the repository's ``tiers/`` (editable / development install), else the copy a
    wheel installs as data files under ``<prefix>/share/posture/tiers``."""
    repo = Path(posture.__file__).resolve().parent.parent / "tiers"
    if (repo / "controls.yaml").is_file():
        return repo
    installed = Path(sys.prefix) / "share" / "posture" / "tiers"
    return installed if (installed / "controls.yaml").is_file() else repo


def tier_search_path() -> list[Path]:
    """Directories searched for a tier id: the standard tiers first, then ``POSTURE_TIERS_PATH``.

    Standard tiers come first so an extra directory can never shadow ``tier-1``.
    """
    dirs = [standard_tiers_dir()]
    for raw in os.environ.get(TIERS_PATH_ENV, "").split(os.pathsep):
        if raw.strip():
            dirs.append(Path(raw.strip()).expanduser())
    return dirs


def _is_tier_file(path: Path) -> bool:
    return (path.is_file() and path.suffix in TIER_SUFFIXES and path.stem not in NON_TIER_FILES
            and not path.name.endswith(".schema.json"))


def _tier_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if _is_tier_file(p))


def _looks_like_path(name: str) -> bool:
    return "/" in name or os.sep in name or name.endswith(TIER_SUFFIXES) or name.startswith(".")


def find_tier(name: str) -> Path | None:
    """The file of tier id ``name`` on the search path (``<dir>/<name>.yaml``), or None."""
    for directory in tier_search_path():
        for suffix in TIER_SUFFIXES:
            candidate = directory / f"{name}{suffix}"
            if candidate.is_file():
                return candidate.resolve()
    return None


def standard_tier_ids() -> list[str]:
    return [p.stem for p in _tier_files(standard_tiers_dir())]


# --------------------------------------------------------------- documents + lines
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: libyaml when available: parsing the chain of tier files is then ~5x faster
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def json_path(parts: tuple[Any, ...] | list[Any]) -> str:
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


@dataclass
class Document:
    """A parsed YAML/JSON file with its node tree, so JSON paths map to lines."""

    path: Path
    data: Any
    root: yaml.Node | None

    def line(self, parts: tuple[Any, ...] | list[Any]) -> int | None:
        """1-based line of the deepest node on ``parts`` (a mapping key's own line)."""
        node = self.root
        if node is None:
            return None
        line = node.start_mark.line + 1
        for part in parts:
            if isinstance(node, yaml.MappingNode):
                for key_node, value_node in node.value:
                    if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(part):
                        line = key_node.start_mark.line + 1
                        node = value_node
                        break
                else:
                    return line
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                node = node.value[part]
                line = node.start_mark.line + 1
            else:
                return line
        return line

    def error(self, parts: tuple[Any, ...] | list[Any], problem: str) -> TierError:
        return TierError(self.path, json_path(parts), problem, self.line(parts))


def read_document(path: Path) -> Document:
    """Parse a YAML or JSON file; syntax errors become TierError with line and column."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TierError(path, "$", "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TierError(path, "$", f"cannot read file: {exc}") from None
    if path.suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise TierError(path, "$", f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
                            exc.lineno) from None
        try:
            root = yaml.compose(text, Loader=_LOADER)
        except yaml.YAMLError:
            root = None
        return Document(path, data, root)
    try:
        try:
            root = yaml.compose(text, Loader=_LOADER)
            data = yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader
        except yaml.YAMLError:
            # the pure-Python parser words syntax errors better (with the context mark): reparse
            root = yaml.compose(text, Loader=yaml.SafeLoader)
            data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        col = f", column {mark.column + 1}" if mark else ""
        what = exc.problem or exc.context or "syntax error"
        if exc.context and exc.problem:
            cm = exc.context_mark
            started = f" started at line {cm.line + 1}, column {cm.column + 1}" if cm else ""
            what += f" ({exc.context}{started})"
        raise TierError(path, "$", f"invalid YAML at line {line}{col}: {what}", line) from None
    except yaml.YAMLError as exc:
        raise TierError(path, "$", f"invalid YAML: {exc}") from None
    return Document(path, data, root)


# ------------------------------------------------------------------ schema errors
@lru_cache(maxsize=4)
def _validator(schema_path: str) -> Any:
    import jsonschema

    schema = json.loads(Path(schema_path).read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


_JSON_TYPES = {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer", float: "number",
               type(None): "null"}


def _type_name(value: Any) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _explain(err: Any) -> tuple[list[Any], str]:
    """A readable message for a jsonschema error, and the path it is about."""
    parts = list(err.absolute_path)
    if err.validator == "required":
        missing = re.match(r"'([^']+)'", err.message)
        name = missing.group(1) if missing else err.message
        hint = ""
        if name == "justification" and parts[:1] == ["exclude"]:
            hint = ": an excluded control needs a written justification"
        elif name == "justification":
            hint = ": an override needs a written justification"
        return parts, f"missing required field '{name}'{hint}"
    if err.validator == "type":
        expected = err.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        return parts, f"wrong type: expected {expected}, got {_type_name(err.instance)} {err.instance!r}"
    if err.validator == "additionalProperties":
        allowed = sorted((err.schema.get("properties") or {}).keys())
        extra = sorted(set(err.instance) - set(allowed)) if isinstance(err.instance, dict) else []
        name = extra[0] if extra else "?"
        return parts + ([name] if extra else []), f"unknown field '{name}' (allowed: {', '.join(allowed)})"
    if err.validator == "enum":
        return parts, f"{err.instance!r} is not one of {', '.join(map(repr, err.validator_value))}"
    if err.validator == "minLength" and err.validator_value == 1:
        return parts, "must not be empty"
    return parts, err.message


def validate_schema(doc: Document, schema_path: Path, what: str) -> None:
    """Raise the first (by position in the file) schema violation as a TierError."""
    if not isinstance(doc.data, dict):
        raise doc.error([], f"a {what} file must be a mapping at the top level, got {_type_name(doc.data)}")
    errors = list(_validator(str(schema_path)).iter_errors(doc.data))
    if not errors:
        return
    explained = [_explain(e) for e in errors]
    explained.sort(key=lambda pe: (doc.line(pe[0]) or 0, len(pe[0])))
    parts, problem = explained[0]
    raise doc.error(parts, problem)


# -------------------------------------------------------------- parameter values
def _version_tuple(value: str) -> tuple[int, ...]:
    return tuple(int(x) for x in value.split("."))


def check_value(spec: ParameterSpec, value: Any) -> str | None:
    """Why ``value`` is not a valid value of parameter ``spec``, or None."""
    got = f"got {_type_name(value)} {value!r}"
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


def _did_you_mean(word: Any, options: Any) -> str:
    # YAML turns keys like 123, true or 2024-01-01 into non-strings: compare their text
    close = difflib.get_close_matches(str(word), [str(o) for o in options], n=1, cutoff=0.75)
    return f"; did you mean {close[0]}?" if close else ""


# ---------------------------------------------------------------------- catalogue
_catalogue_cache: dict[tuple[str, int], Catalogue] = {}


def default_catalogue_path() -> Path:
    return standard_tiers_dir() / "controls.yaml"


def load_catalogue(path: Path | None = None) -> Catalogue:
    """Load and validate the control catalogue (cached per file and modification time)."""
    path = Path(path or default_catalogue_path()).resolve()
    try:
        key = (str(path), path.stat().st_mtime_ns)
    except FileNotFoundError:
        raise TierError(path, "$", "control catalogue not found") from None
    cached = _catalogue_cache.get(key)
    if cached is not None:
        return cached
    cat = _parse_catalogue(read_document(path))
    _catalogue_cache[key] = cat
    return cat


def _parse_catalogue(doc: Document) -> Catalogue:
    validate_schema(doc, standard_tiers_dir() / "controls.schema.json", "catalogue")
    data = doc.data
    baseline, domains = dict(data["baseline"]), dict(data["domains"])
    controls: dict[str, ControlSpec] = {}
    param_owner: dict[str, str] = {}
    for i, item in enumerate(data["controls"]):
        at = ["controls", i]
        cid = item["id"]
        if cid in controls:
            raise doc.error(at + ["id"], f"duplicate control id '{cid}'")
        if item["domain"] not in domains:
            raise doc.error(at + ["domain"], f"unknown domain '{item['domain']}' (known: {', '.join(domains)})")
        for j, b in enumerate(item["baseline"]):
            if b not in baseline:
                raise doc.error(at + ["baseline", j], f"unknown baseline item '{b}' (known: {', '.join(baseline)})")
        params: dict[str, ParameterSpec] = {}
        for name, p in (item.get("parameters") or {}).items():
            if name in param_owner:
                raise doc.error(at + ["parameters", name],
                                f"parameter '{name}' is already defined by {param_owner[name]}; "
                                "parameter names must be unique across the catalogue")
            if p.get("value_type") == "version" and p["type"] != "string":
                raise doc.error(at + ["parameters", name, "value_type"], "value_type version needs type string")
            if p["type"] in ("ports", "string_list") and p["tighter"] != "superset":
                raise doc.error(at + ["parameters", name, "tighter"],
                                f"a {p['type']} parameter can only tighten as a superset")
            if p["type"] in ("integer", "string") and p["tighter"] == "superset":
                raise doc.error(at + ["parameters", name, "tighter"],
                                f"a {p['type']} parameter tightens as lower or higher, not superset")
            spec = ParameterSpec(name=name, type=p["type"], default=p["default"], tighter=p["tighter"],
                                 description=p["description"], value_type=p.get("value_type"))
            problem = check_value(spec, p["default"])
            if problem:
                raise doc.error(at + ["parameters", name, "default"], problem)
            params[name] = spec
            param_owner[name] = cid
        controls[cid] = ControlSpec(
            id=cid, title=item["title"], domain=item["domain"], severity=item["severity"],
            rationale=(item.get("rationale") or "").strip(), baseline=tuple(item["baseline"]),
            references={k: list(v) for k, v in (item.get("references") or {}).items()},
            parameters=params, description=(item.get("description") or "").strip(),
            not_applicable=dict(item.get("not_applicable") or {}),
        )
    return Catalogue(controls=controls, baseline=baseline, domains=domains, path=doc.path,
                     name=str(data["catalogue"]), version=str(data["version"]))


# -------------------------------------------------------------------------- tiers
def _check_tier_semantics(doc: Document, cat: Catalogue) -> None:
    """What the schema cannot know: control ids, parameter names and value types."""
    data = doc.data
    for cid, sel in (data.get("controls") or {}).items():
        at = ["controls", cid]
        if cid not in cat.controls:
            raise doc.error(at, f"unknown control '{cid}' (not in the catalogue {cat.path})"
                            + _did_you_mean(cid, cat.controls))
        spec = cat.controls[cid]
        for name, value in ((sel or {}).get("parameters") or {}).items():
            if name not in spec.parameters:
                known = (f"{cid} takes: {', '.join(spec.parameters)}" if spec.parameters
                         else f"{cid} takes no parameters")
                owner = cat.parameter(name)
                elsewhere = f"; '{name}' belongs to {owner[0].id}" if owner else _did_you_mean(name, spec.parameters)
                raise doc.error(at + ["parameters", name],
                                f"unknown parameter '{name}' for control {cid} ({known}){elsewhere}")
            problem = check_value(spec.parameters[name], value)
            if problem:
                raise doc.error(at + ["parameters", name], problem)
    own = set(data.get("controls") or {})
    seen: set[str] = set()
    for i, ex in enumerate(data.get("exclude") or []):
        cid = ex["control"]
        if cid not in cat.controls:
            raise doc.error(["exclude", i, "control"], f"cannot exclude unknown control '{cid}' "
                            f"(not in the catalogue {cat.path})" + _did_you_mean(cid, cat.controls))
        if not ex["justification"].strip():
            raise doc.error(["exclude", i, "justification"],
                            "an excluded control needs a written justification")
        if cid in own:
            raise doc.error(["exclude", i, "control"], f"control {cid} is both selected under controls and excluded")
        if cid in seen:
            raise doc.error(["exclude", i, "control"], f"control {cid} is excluded twice")
        seen.add(cid)


def _parent_file(doc: Document, name: str) -> Path:
    if _looks_like_path(name):
        candidate = (doc.path.parent / name).resolve()
        if candidate.is_file():
            return candidate
        raise doc.error(["extends"], f"unknown parent tier '{name}': no such file {candidate}")
    found = find_tier(name)
    if found is None:
        dirs = ", ".join(str(d) for d in tier_search_path())
        known = sorted({p.stem for d in tier_search_path() for p in _tier_files(d)})
        raise doc.error(["extends"], f"unknown parent tier '{name}' (known tiers: {', '.join(known)}; "
                        f"searched {dirs}; use a relative path such as ./base.yaml for a file)"
                        + _did_you_mean(name, known))
    return found


def _load_doc(path: Path, cat: Catalogue) -> Document:
    doc = read_document(path)
    validate_schema(doc, SCHEMA_DIR / "tier.schema.json", "tier")
    _check_tier_semantics(doc, cat)
    return doc


def _resolve(path: Path, cat: Catalogue, stack: list[tuple[Path, str]]) -> ResolvedTier:
    doc = _load_doc(path, cat)
    data = doc.data
    tid: str = data["id"]
    if "extends" in data:
        parent_path = _parent_file(doc, data["extends"])
        visited = [p for p, _ in stack] + [path]
        if parent_path in visited:
            ids = [t for _, t in stack] + [tid]
            start = visited.index(parent_path)
            chain = " -> ".join(ids[start:] + [ids[start]])
            raise doc.error(["extends"], f"cycle in extends: {chain}")
        parent: ResolvedTier | None = _resolve(parent_path, cat, stack + [(path, tid)])
    else:
        parent = None
        if not data.get("controls"):
            raise doc.error([], "a tier without 'extends' must select at least one control under 'controls'")
    if parent is not None and tid in parent.chain:
        raise doc.error(["id"], f"tier id '{tid}' is already used by an ancestor ({' -> '.join(parent.chain)})")

    controls = {cid: copy.deepcopy(rc) for cid, rc in (parent.controls if parent else {}).items()}
    for cid, sel in (data.get("controls") or {}).items():
        sel = sel or {}
        spec = cat.controls[cid]
        params = sel.get("parameters") or {}
        override = (sel.get("override") or {}).get("justification", "").strip()
        rc = controls.get(cid)
        if rc is None:
            rc = ResolvedControl(
                id=cid, spec=spec,
                parameters={n: copy.deepcopy(p.default) for n, p in spec.parameters.items()},
                sources=dict.fromkeys(spec.parameters, CATALOGUE_DEFAULT),
                introduced_by=tid,
            )
            controls[cid] = rc
        elif rc.excluded:  # an explicit selection re-includes a control an ancestor excluded
            rc.excluded, rc.justification, rc.excluded_by = False, "", ""
        inherited = parent is not None and parent.controls.get(cid) is not None
        for name, value in params.items():
            pspec = spec.parameters[name]
            old = rc.parameters[name]
            if inherited and not is_tighter_or_equal(pspec, value, old):
                if not override:
                    direction = {"lower": "lower or equal", "higher": "higher or equal",
                                 "superset": "a superset"}[pspec.tighter]
                    raise doc.error(
                        ["controls", cid, "parameters", name],
                        f"loosens {name} from {format_value(old)} (set by {rc.sources[name]}) to "
                        f"{format_value(value)}; a tier extending {parent.id if parent else '?'} may only tighten "
                        f"(tighter = {direction}); add override: {{justification: \"...\"}} to {cid} to loosen it",
                    )
                rc.overrides[name] = override
            rc.parameters[name] = copy.deepcopy(value)
            rc.sources[name] = tid
    for ex in data.get("exclude") or []:
        cid = ex["control"]
        rc = controls.get(cid)
        if rc is None:
            i = [e["control"] for e in data["exclude"]].index(cid)
            where = "this tier"
            if parent is not None:
                where = f"tier {parent.id}" + (f" ({' -> '.join(parent.chain)})" if len(parent.chain) > 1 else "")
            raise doc.error(["exclude", i, "control"],
                            f"cannot exclude {cid}: it is not selected by {where}; nothing to exclude")
        rc.excluded, rc.justification, rc.excluded_by = True, ex["justification"].strip(), tid

    tier = ResolvedTier(
        id=tid, title=data["title"], description=(data.get("description") or "").strip(), path=path,
        chain=(list(parent.chain) if parent else []) + [tid], controls=dict(sorted(controls.items())),
        classifications=list(data.get("classifications") or []), catalogue=cat,
    )
    tier.levels = (list(parent.levels) if parent else []) + [tier]
    return tier


def tier_path(name_or_path: str | Path) -> Path:
    """The file for a tier id (search path) or a path given on the command line."""
    if isinstance(name_or_path, Path) or _looks_like_path(name_or_path) or Path(name_or_path).is_file():
        path = Path(name_or_path).expanduser()
        if not path.is_file():
            raise TierError(path, "$", "no such tier file")
        return path.resolve()
    found = find_tier(name_or_path)
    if found is None:
        known = sorted({p.stem for d in tier_search_path() for p in _tier_files(d)})
        raise TierError(name_or_path, "$", f"unknown tier '{name_or_path}' (known tiers: {', '.join(known)}; "
                        f"or give a file path){_did_you_mean(name_or_path, known)}")
    return found


def load_tier(name_or_path: str | Path, catalogue: Catalogue | None = None) -> ResolvedTier:
    """Load, validate and resolve a tier by id (``tier-2``) or file path."""
    cat = catalogue or load_catalogue()
    path = tier_path(name_or_path)
    tier = _resolve(path, cat, [])
    if not isinstance(name_or_path, Path) and not _looks_like_path(str(name_or_path)) \
            and not Path(name_or_path).is_file() and tier.id != name_or_path:
        raise TierError(path, "$.id", f"file {path.name} declares id '{tier.id}', expected '{name_or_path}'",
                        read_document(path).line(["id"]))
    return tier


def validate_tier_file(path: str | Path, catalogue: Catalogue | None = None) -> ResolvedTier:
    """Validate a tier file fully (schema, semantics, extends chain); raises TierError."""
    return load_tier(Path(path), catalogue)


def list_tiers(include_extra: bool = False) -> list[ResolvedTier]:
    """The standard tiers (not examples), sorted by id; plus ``POSTURE_TIERS_PATH`` tiers if asked."""
    dirs = tier_search_path() if include_extra else [standard_tiers_dir()]
    seen: dict[str, ResolvedTier] = {}
    for directory in dirs:
        for path in _tier_files(directory):
            if path.stem not in seen:
                seen[path.stem] = load_tier(path)
    return [seen[k] for k in sorted(seen)]


# ------------------------------------------------------------------------- diff
def diff_tiers(lower: ResolvedTier, higher: ResolvedTier) -> dict[str, Any]:
    """What stepping up from ``lower`` to ``higher`` demands (and gives up)."""
    low_active = {c.id: c for c in lower.active_controls()}
    high_active = {c.id: c for c in higher.active_controls()}
    added = [high_active[c].to_dict() for c in sorted(set(high_active) - set(low_active))]
    dropped = []
    for cid in sorted(set(low_active) - set(high_active)):
        rc = higher.controls.get(cid)
        dropped.append({"id": cid, "title": low_active[cid].spec.title,
                        "excluded_by": rc.excluded_by if rc else "",
                        "justification": rc.justification if rc else "not selected"})
    changed = []
    for cid in sorted(set(low_active) & set(high_active)):
        a, b = low_active[cid], high_active[cid]
        for name in sorted(b.parameters):
            if a.parameters.get(name) != b.parameters[name]:
                spec = b.spec.parameters[name]
                changed.append({
                    "control": cid, "parameter": name, "from": a.parameters.get(name), "to": b.parameters[name],
                    "source": b.sources.get(name, CATALOGUE_DEFAULT),
                    "tighter": is_tighter_or_equal(spec, b.parameters[name], a.parameters.get(name)),
                    "override": b.overrides.get(name, ""),
                })
    return {"from": lower.id, "to": higher.id, "added": added, "dropped": dropped, "changed": changed}


# --------------------------------------------------------------- classification
@dataclass(frozen=True)
class ClassificationLevel:
    id: str
    title: str
    tier: str
    description: str
    aliases: tuple[str, ...] = ()


def _norm(level: str) -> str:
    return re.sub(r"[\s_]+", "-", level.strip().lower())


def load_classification(path: Path | None = None) -> list[ClassificationLevel]:
    """``tiers/classification.yaml``: data-classification levels -> tiers."""
    path = Path(path or standard_tiers_dir() / "classification.yaml")
    doc = read_document(path)
    data = doc.data
    if not isinstance(data, dict) or not isinstance(data.get("levels"), list):
        raise doc.error(["levels"], "expected a list 'levels' of {id, title, tier, description}")
    levels = []
    for i, item in enumerate(data["levels"]):
        for key in ("id", "title", "tier", "description"):
            if not isinstance(item, dict) or not isinstance(item.get(key), str):
                raise doc.error(["levels", i, key], f"missing required field '{key}' (a string)")
        levels.append(ClassificationLevel(id=item["id"], title=item["title"], tier=item["tier"],
                                          description=item["description"].strip(),
                                          aliases=tuple(item.get("aliases") or ())))
    return levels


def classification_level(level: str) -> ClassificationLevel:
    """The classification level named ``level`` (case, spaces and aliases tolerated)."""
    levels = load_classification()
    wanted = _norm(level)
    for lvl in levels:
        if wanted == _norm(lvl.id) or wanted in {_norm(a) for a in lvl.aliases}:
            return lvl
    names = [lvl.id for lvl in levels]
    raise TierError(standard_tiers_dir() / "classification.yaml", "$.levels",
                    f"unknown classification level '{level}' (known: {', '.join(names)})"
                    + _did_you_mean(wanted, names))


def tier_for_classification(level: str) -> str:
    """The standard tier id for a data-classification level (``confidential`` -> ``tier-2``)."""
    return classification_level(level).tier


def iter_parameters(cat: Catalogue) -> Iterator[tuple[ControlSpec, ParameterSpec]]:
    for spec in cat.controls.values():
        for p in spec.parameters.values():
            yield spec, p
