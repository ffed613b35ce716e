"""Tier files resolved: validated against the catalogue, ``extends`` chains followed, tightening
enforced, exclusions applied."""

from __future__ import annotations

import copy
from pathlib import Path

from posture.documents import Document
from posture.tiers.catalogue import load_catalogue
from posture.tiers.model import (
    CATALOGUE_DEFAULT,
    Catalogue,
    ResolvedControl,
    ResolvedTier,
    TierError,
    check_value,
    did_you_mean,
    format_value,
    is_tighter_or_equal,
    read_document,
    validate_schema,
)
from posture.tiers.search import find_tier, looks_like_path, standard_tiers_dir, tier_files, tier_search_path

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"

def _check_tier_semantics(doc: Document, cat: Catalogue) -> None:
    """What the schema cannot know: control ids, parameter names and value types."""
    data = doc.data
    for cid, sel in (data.get("controls") or {}).items():
        at = ["controls", cid]
        if cid not in cat.controls:
            raise doc.error(at, f"unknown control '{cid}' (not in the catalogue {cat.path})"
                            + did_you_mean(cid, cat.controls))
        spec = cat.controls[cid]
        for name, value in ((sel or {}).get("parameters") or {}).items():
            if name not in spec.parameters:
                known = (f"{cid} takes: {', '.join(spec.parameters)}" if spec.parameters
                         else f"{cid} takes no parameters")
                owner = cat.parameter(name)
                elsewhere = f"; '{name}' belongs to {owner[0].id}" if owner else did_you_mean(name, spec.parameters)
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
                            f"(not in the catalogue {cat.path})" + did_you_mean(cid, cat.controls))
        if not ex["justification"].strip():
            raise doc.error(["exclude", i, "justification"],
                            "an excluded control needs a written justification")
        if cid in own:
            raise doc.error(["exclude", i, "control"], f"control {cid} is both selected under controls and excluded")
        if cid in seen:
            raise doc.error(["exclude", i, "control"], f"control {cid} is excluded twice")
        seen.add(cid)


def _parent_file(doc: Document, name: str) -> Path:
    if looks_like_path(name):
        candidate = (doc.path.parent / name).resolve()
        if candidate.is_file():
            return candidate
        raise doc.error(["extends"], f"unknown parent tier '{name}': no such file {candidate}")
    found = find_tier(name)
    if found is None:
        dirs = ", ".join(str(d) for d in tier_search_path())
        known = sorted({p.stem for d in tier_search_path() for p in tier_files(d)})
        raise doc.error(["extends"], f"unknown parent tier '{name}' (known tiers: {', '.join(known)}; "
                        f"searched {dirs}; use a relative path such as ./base.yaml for a file)"
                        + did_you_mean(name, known))
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
    if isinstance(name_or_path, Path) or looks_like_path(name_or_path) or Path(name_or_path).is_file():
        path = Path(name_or_path).expanduser()
        if not path.is_file():
            raise TierError(path, "$", "no such tier file")
        return path.resolve()
    found = find_tier(name_or_path)
    if found is None:
        known = sorted({p.stem for d in tier_search_path() for p in tier_files(d)})
        raise TierError(name_or_path, "$", f"unknown tier '{name_or_path}' (known tiers: {', '.join(known)}; "
                        f"or give a file path){did_you_mean(name_or_path, known)}")
    return found


def load_tier(name_or_path: str | Path, catalogue: Catalogue | None = None) -> ResolvedTier:
    """Load, validate and resolve a tier by id (``tier-2``) or file path."""
    cat = catalogue or load_catalogue()
    path = tier_path(name_or_path)
    tier = _resolve(path, cat, [])
    if not isinstance(name_or_path, Path) and not looks_like_path(str(name_or_path)) \
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
        for path in tier_files(directory):
            if path.stem not in seen:
                seen[path.stem] = load_tier(path)
    return [seen[k] for k in sorted(seen)]
