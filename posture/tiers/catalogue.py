"""The control catalogue (``tiers/controls.yaml``): loaded, validated and cached."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from posture.documents import Document
from posture.tiers.model import (
    Catalogue,
    ControlSpec,
    ParameterSpec,
    TierError,
    check_value,
    read_document,
    validate_schema,
)
from posture.tiers.search import standard_tiers_dir

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




def iter_parameters(cat: Catalogue) -> Iterator[tuple[ControlSpec, ParameterSpec]]:
    for spec in cat.controls.values():
        for p in spec.parameters.values():
            yield spec, p
