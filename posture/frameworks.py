"""Frameworks: external benchmarks (CIS Foundations ...) mapped onto posture checks, as data.

A framework file (``tiers/frameworks/<id>.yaml``, schema ``posture/schemas/framework.schema.json``)
lists every recommendation of one benchmark version with its level, whether the benchmark calls it
automated, posture's own short title and the checks that decide it (all must pass); a recommendation
no check decides says why (``checks: []`` + ``reason``). Problems are :class:`FrameworkError` naming
the file, the JSON path and the line, like tier files.

The framework *section* of a report is computed over results, apart from the engine: a scan with
``--framework`` collects the facts of the framework's checks too, evaluates each check with the
parameters the benchmark demands (``parameters:`` of the recommendation, else the tier's, else the
catalogue's), reuses the tier's results where those are the same, and appends the results of checks
the tier does not select as ``framework_only`` results (never counted in tier attainment).
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from posture.tiers import (
    SCHEMA_DIR,
    TIERS_PATH_ENV,
    Catalogue,
    TierError,
    check_value,
    did_you_mean,
    load_catalogue,
    read_document,
    standard_tiers_dir,
    validate_schema,
)

if TYPE_CHECKING:
    from posture.checks import Check
    from posture.facts import FactSet
    from posture.report import Report, Result
    from posture.tiers import ResolvedTier

FRAMEWORK_SUFFIXES = (".yaml", ".yml", ".json")
#: statuses of a recommendation in a report's framework section
PASS, FAIL, MANUAL, NOT_ASSESSED, NOT_APPLICABLE = "pass", "fail", "manual", "not_assessed", "not_applicable"
REC_STATUSES = (PASS, FAIL, MANUAL, NOT_ASSESSED, NOT_APPLICABLE)


class FrameworkError(TierError):
    """A framework file problem: file, line, JSON path and what is wrong."""


@dataclass(frozen=True)
class Recommendation:
    id: str
    section: str
    level: int
    automated: bool
    title: str
    checks: tuple[str, ...]
    parameters: dict[str, Any] = field(default_factory=dict)
    reason: str = ""

    @property
    def ref(self) -> str:
        return self.id


@dataclass(frozen=True)
class Framework:
    id: str
    title: str
    version: str
    provider: str
    source: str
    recommendations: tuple[Recommendation, ...]
    path: Path
    description: str = ""

    def tag(self, rec: Recommendation) -> str:
        """``cis-aws-foundations-7.0/2.4``: how SARIF rules and messages name a recommendation."""
        return f"{self.id}/{rec.id}"

    def check_ids(self) -> set[str]:
        return {c for r in self.recommendations for c in r.checks}


# ------------------------------------------------------------------ search path
def framework_dirs() -> list[Path]:
    """``frameworks/`` of the standard tiers directory, then of each ``POSTURE_TIERS_PATH`` directory."""
    dirs = [standard_tiers_dir() / "frameworks"]
    for raw in os.environ.get(TIERS_PATH_ENV, "").split(os.pathsep):
        if raw.strip():
            dirs.append(Path(raw.strip()).expanduser() / "frameworks")
    return dirs


def _framework_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.is_file() and p.suffix in FRAMEWORK_SUFFIXES)


def known_framework_ids() -> list[str]:
    return sorted({p.stem for d in framework_dirs() for p in _framework_files(d)})


def framework_path(name_or_path: str | Path) -> Path:
    """The file of a framework id (search path) or a path given on the command line."""
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or "/" in text or os.sep in text or text.endswith(FRAMEWORK_SUFFIXES):
        path = Path(text).expanduser()
        if not path.is_file():
            raise FrameworkError(path, "$", "no such framework file")
        return path.resolve()
    for directory in framework_dirs():
        for suffix in FRAMEWORK_SUFFIXES:
            candidate = directory / f"{text}{suffix}"
            if candidate.is_file():
                return candidate.resolve()
    known = known_framework_ids()
    raise FrameworkError(text, "$", f"unknown framework '{text}' (known: {', '.join(known) or 'none'}; "
                         f"or give a file path){did_you_mean(text, known)}")


# ---------------------------------------------------------------------- loading
def _relocate(exc: TierError) -> FrameworkError:
    return FrameworkError(exc.file, exc.json_path, exc.problem, exc.line)


def load_framework(name_or_path: str | Path, catalogue: Catalogue | None = None) -> Framework:
    """Load and validate a framework by id (``cis-aws-foundations-7.0``) or file path."""
    path = framework_path(name_or_path)
    try:
        doc = read_document(path)
        validate_schema(doc, SCHEMA_DIR / "framework.schema.json", "framework")
    except TierError as exc:
        if "missing required field 'reason'" in exc.problem:
            exc = TierError(exc.file, exc.json_path, exc.problem + ": a recommendation without checks must say "
                            "why (e.g. \"Manual: needs a human to confirm ...\")", exc.line)
        raise _relocate(exc) from None
    data = doc.data
    is_id = not isinstance(name_or_path, Path) and path.stem == str(name_or_path)
    if is_id and data["id"] != str(name_or_path):
        raise _relocate(doc.error(["id"], f"file {path.name} declares id '{data['id']}', expected '{name_or_path}'"))
    cat = catalogue or load_catalogue()
    params = {p.name: p for spec in cat.controls.values() for p in spec.parameters.values()}
    seen: dict[str, int] = {}
    recs = []
    for i, item in enumerate(data["recommendations"]):
        rid = item["id"]
        if rid in seen:
            raise _relocate(doc.error(["recommendations", i, "id"],
                                      f"recommendation '{rid}' is listed twice (first at $.recommendations[{seen[rid]}])"))
        seen[rid] = i
        for name, value in (item.get("parameters") or {}).items():
            if name not in params:
                raise _relocate(doc.error(["recommendations", i, "parameters", name],
                                          f"unknown parameter '{name}' (not in the catalogue {cat.path})"
                                          + did_you_mean(name, params)))
            problem = check_value(params[name], value)
            if problem:
                raise _relocate(doc.error(["recommendations", i, "parameters", name], problem))
        recs.append(Recommendation(
            id=rid, section=item["section"], level=item["level"], automated=item["automated"],
            title=item["title"], checks=tuple(item["checks"]), parameters=dict(item.get("parameters") or {}),
            reason=(item.get("reason") or "").strip()))
    return Framework(id=data["id"], title=data["title"], version=str(data["version"]), provider=data["provider"],
                     source=data["source"], recommendations=tuple(recs), path=path,
                     description=(data.get("description") or "").strip())


def list_frameworks(problems: list[FrameworkError] | None = None) -> list[Framework]:
    """Every framework on the search path; a broken file is appended to ``problems`` (when given) instead of
    hiding the others, else raised."""
    seen: dict[str, Framework] = {}
    for directory in framework_dirs():
        for path in _framework_files(directory):
            if path.stem in seen:
                continue
            try:
                seen[path.stem] = load_framework(path)
            except FrameworkError as exc:
                if problems is None:
                    raise
                problems.append(exc)
    return [seen[k] for k in sorted(seen)]


def check_mapping(fw: Framework, checks: Mapping[str, Check]) -> None:
    """Every check a recommendation names must be a registered check of the framework's provider.

    Skipped when no plugin of that provider is installed (nothing could be assessed anyway).
    """
    if not any(c.provider == fw.provider for c in checks.values()):
        return
    doc = None
    for i, rec in enumerate(fw.recommendations):
        for j, cid in enumerate(rec.checks):
            check = checks.get(cid)
            if check is not None and check.provider == fw.provider:
                continue
            doc = doc or read_document(fw.path)
            why = (f"check '{cid}' belongs to provider {check.provider}, not {fw.provider}" if check is not None
                   else f"unknown check '{cid}'" + did_you_mean(cid, [k for k, c in checks.items()
                                                                      if c.provider == fw.provider]))
            raise _relocate(doc.error(["recommendations", i, "checks", j], why))


# --------------------------------------------------------------------- coverage
def coverage(fw: Framework, checks: Mapping[str, Check]) -> dict[str, Any]:
    """How much of the framework posture decides: a recommendation is covered when every one of its
    checks is registered (a gap: automated, but no check or an unknown one)."""
    automated = [r for r in fw.recommendations if r.automated]
    gaps = []
    for r in automated:
        missing = [c for c in r.checks if c not in checks]
        if not r.checks or missing:
            gaps.append({"id": r.id, "title": r.title,
                         "reason": r.reason if not r.checks else f"unknown check(s): {', '.join(missing)}"})
    return {
        "framework": fw.id,
        "title": fw.title,
        "version": fw.version,
        "provider": fw.provider,
        "recommendations": len(fw.recommendations),
        "automated": len(automated),
        "automated_covered": len(automated) - len(gaps),
        "manual": len(fw.recommendations) - len(automated),
        "gaps": gaps,
    }


# ------------------------------------------------------------------- evaluation
def needed_checks(frameworks: Iterable[Framework], checks: Mapping[str, Check],
                  providers: Iterable[str] | None = None) -> list[Check]:
    """The registered checks the frameworks name (for the providers scanned)."""
    wanted = set(providers) if providers is not None else None
    ids = {cid for fw in frameworks for cid in fw.check_ids()}
    return sorted((checks[c] for c in ids if c in checks and (wanted is None or checks[c].provider in wanted)),
                  key=lambda c: c.id)


def framework_parameters(tier: ResolvedTier, check: Check, rec: Recommendation) -> dict[str, Any]:
    """The tier's parameters for the check's controls (catalogue defaults for controls the tier does not
    select), overridden by the values the benchmark demands."""
    params: dict[str, Any] = {}
    for cid in check.controls:
        try:
            params.update(tier.parameters_for(cid))
        except KeyError:
            continue
    params.update(rec.parameters)
    return params


def _used(check: Check, params: Mapping[str, Any]) -> dict[str, Any]:
    used = check.parameters if check.function is None else set(params)
    return {k: params[k] for k in sorted(params) if k in used}


def apply_frameworks(report: Report, frameworks: list[Framework], facts: FactSet, tier: ResolvedTier,
                     checks: Mapping[str, Check]) -> None:
    """Evaluate the frameworks' checks over ``facts`` and add the framework sections to ``report``.

    The tier's results are reused where the tier evaluated the check with the same parameters; other
    evaluations stay in the section (same fingerprints as the tier's results, the framework's verdict).
    Results of checks the tier does not select are appended to ``report.results`` as ``framework_only``.
    """
    from posture.engine import _clock, check_parameters, evaluate_checks, select_checks, with_uncollected

    now = _clock(facts)
    scanned = {s["provider"] for s in report.scopes}
    # a fact file collected without the framework lacks its fact types: not assessed, never "no resources"
    facts = with_uncollected(facts, needed_checks(frameworks, checks, scanned), report.scopes)
    by_check: dict[str, list[Result]] = defaultdict(list)
    for r in report.results:
        if r.status != "excluded":
            by_check[r.check_id].append(r)
    selected = {c.id for c in select_checks(tier, checks, scanned)}
    added: set[str] = set()
    sections = []
    for fw in frameworks:
        evaluated: dict[tuple[str, str], list[Result]] = {}
        for rec in fw.recommendations:
            for cid in rec.checks:
                check = checks.get(cid)
                if check is None or check.provider not in scanned:
                    continue
                params = framework_parameters(tier, check, rec)
                key = (cid, repr(_used(check, params)))
                if key in evaluated:
                    continue
                if cid in selected and _used(check, params) == _used(check, check_parameters(tier, check)):
                    evaluated[key] = by_check.get(cid, [])
                    continue
                results = evaluate_checks(
                    [check], facts, now, params_for=lambda c, p=params: p,
                    severity_for=lambda c: _catalogue_severity(tier, c),
                    controls_for=lambda c: list(c.controls))
                if cid not in selected and cid not in added:
                    for r in results:
                        r.framework_only = True
                    report.results.extend(results)
                    report.checks[cid] = {**check_info(tier, check, params), "framework_only": True}
                    added.add(cid)
                evaluated[key] = results
        sections.append(build_section(fw, lambda rec, cid, fw=fw, ev=evaluated: _lookup(
            ev, checks, tier, rec, cid), scopes=report.scopes, evaluated_checks=set(checks)))
    if added:
        report.results.sort(key=lambda r: r.sort_key)
    report.frameworks = sections
    tag_checks(report)


def _lookup(evaluated: dict[tuple[str, str], list[Result]], checks: Mapping[str, Check], tier: ResolvedTier,
            rec: Recommendation, cid: str) -> list[Result] | None:
    check = checks.get(cid)
    if check is None:
        return None
    return evaluated.get((cid, repr(_used(check, framework_parameters(tier, check, rec)))))


def _catalogue_severity(tier: ResolvedTier, check: Check) -> str:
    from posture.report import SEVERITY_ORDER

    if check.severity:
        return check.severity
    cat = tier.catalogue
    sev = [cat.controls[c].severity for c in check.controls if cat is not None and c in cat.controls]
    return max(sev, key=lambda s: SEVERITY_ORDER[s]) if sev else "medium"


def check_info(tier: ResolvedTier, check: Check, params: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "title": check.title, "description": check.description, "provider": check.provider,
        "fact_type": check.fact_type, "controls": list(check.controls),
        "severity": _catalogue_severity(tier, check), "remediation": check.remediation,
        "references": list(check.references), "parameters": _used(check, params),
    }


def sections_from_results(report: Report, frameworks: list[Framework]) -> None:
    """Add framework sections to a saved report (``posture report --framework``), computed over the results
    it holds as evaluated then; a check the report did not evaluate leaves its recommendations not
    assessed. A section the scan already computed (with the framework's parameters) is kept."""
    by_check: dict[str, list[Result]] = defaultdict(list)
    for r in report.results:
        if r.status != "excluded":
            by_check[r.check_id].append(r)
    have = {s["id"] for s in report.frameworks}
    report.frameworks = report.frameworks + [
        build_section(fw, lambda rec, cid: by_check.get(cid, []) if cid in report.checks else None,
                      scopes=report.scopes, evaluated_checks=set(report.checks))
        for fw in frameworks if fw.id not in have]
    tag_checks(report)


def tag_checks(report: Report) -> None:
    """Record on each check of the report the recommendations it decides (SARIF rule tags)."""
    for info in report.checks.values():
        info.pop("frameworks", None)
    for section in report.frameworks:
        for rec in section["recommendations"]:
            for cid in rec["checks"]:
                if cid in report.checks:
                    report.checks[cid].setdefault("frameworks", []).append(f"{section['id']}/{rec['id']}")


# ---------------------------------------------------------------------- section
def _combine(statuses: Iterable[str]) -> str:
    """fail beats not assessed beats pass beats not applicable (nothing of the kind exists)."""
    s = set(statuses)
    for status in (FAIL, NOT_ASSESSED, PASS):
        if status in s:
            return status
    return NOT_APPLICABLE


def _status_of(results: list[Result]) -> str:
    if any(r.status == "fail" for r in results):
        return FAIL
    if any(r.status == "error" for r in results):
        return NOT_ASSESSED
    if any(r.status in ("pass", "waived") for r in results):
        return PASS
    return NOT_APPLICABLE


def build_section(fw: Framework, results_for: Any, *, scopes: list[dict[str, Any]],
                  evaluated_checks: set[str]) -> dict[str, Any]:
    """One framework's section: per recommendation its status overall and per scope, and the results
    behind it. ``results_for(rec, check_id)`` gives the results deciding that check (None: not evaluated)."""
    fw_scopes = [(s["provider"], s["id"]) for s in scopes if s["provider"] == fw.provider]
    recs_out = []
    for rec in fw.recommendations:
        entries: list[dict[str, Any]] = []
        scope_status: dict[tuple[str, str], str] = {}
        reason = rec.reason
        unevaluated = []
        by_scope: dict[tuple[str, str], list[str]] = defaultdict(list)
        for cid in rec.checks:
            results = results_for(rec, cid)
            if results is None:
                unevaluated.append(cid)
                continue
            grouped: dict[tuple[str, str], list[Result]] = defaultdict(list)
            for r in results:
                grouped[(r.provider, r.scope)].append(r)
                entries.append({"fingerprint": r.fingerprint, "check_id": r.check_id, "status": r.status,
                                "scope": r.scope, "resource_id": r.resource_id})
            for key in fw_scopes:
                by_scope[key].append(_status_of(grouped.get(key, [])))
        for key in fw_scopes:
            if not rec.automated:
                scope_status[key] = MANUAL
            elif not rec.checks or unevaluated:
                scope_status[key] = NOT_ASSESSED
            else:
                scope_status[key] = _combine(by_scope[key])
        if not rec.automated:
            status = MANUAL
        elif not rec.checks:
            status = NOT_ASSESSED
        elif unevaluated:
            status = NOT_ASSESSED
            reason = f"not evaluated in this report: {', '.join(unevaluated)}"
        elif not fw_scopes:
            status = NOT_ASSESSED
            reason = f"no {fw.provider} scope was scanned"
        else:
            status = _combine(scope_status.values())
        counts = defaultdict(int)
        for e in entries:
            counts[e["status"]] += 1
        entries.sort(key=lambda e: (e["status"] != "fail", e["scope"], e["check_id"], e["resource_id"]))
        recs_out.append({
            "id": rec.id, "section": rec.section, "level": rec.level, "automated": rec.automated,
            "title": rec.title, "checks": list(rec.checks), "parameters": dict(rec.parameters),
            "status": status, "reason": reason,
            "scopes": {s: scope_status[(p, s)] for p, s in fw_scopes},
            "results_by_status": dict(sorted(counts.items())),
            "results": entries,
        })
    section = {"id": fw.id, "title": fw.title, "version": fw.version, "provider": fw.provider,
               "source": fw.source, "recommendations": recs_out}
    _summarise(section)
    return section


def _summarise(section: dict[str, Any]) -> None:
    """Totals and scores of a section from its recommendations' statuses."""
    totals = dict.fromkeys(REC_STATUSES, 0)
    per_scope: dict[str, dict[str, int]] = {}
    for rec in section["recommendations"]:
        totals[rec["status"]] += 1
        for scope, status in rec["scopes"].items():
            per_scope.setdefault(scope, dict.fromkeys(REC_STATUSES, 0))[status] += 1
    section["summary"] = {**totals, "score": _score(totals)}
    section["scopes"] = [{"provider": section["provider"], "scope": s, **c, "score": _score(c)}
                         for s, c in per_scope.items()]


def _score(counts: Mapping[str, int]) -> float:
    """Passed automated recommendations over those that apply (manual and not applicable left out)."""
    counted = counts.get(PASS, 0) + counts.get(FAIL, 0) + counts.get(NOT_ASSESSED, 0)
    return round(counts.get(PASS, 0) / counted, 4) if counted else 1.0


def refresh_sections(report: Report) -> None:
    """After waivers: an entry whose result is now waived counts as a pass for the framework."""
    now = {r.fingerprint: r.status for r in report.results}
    for section in report.frameworks:
        for rec in section["recommendations"]:
            for e in rec["results"]:
                if e["status"] == "fail" and now.get(e["fingerprint"]) == "waived":
                    e["status"] = "waived"
            counts: dict[str, int] = defaultdict(int)
            for e in rec["results"]:
                counts[e["status"]] += 1
            rec["results_by_status"] = dict(sorted(counts.items()))
            if not rec["automated"]:
                continue
            for scope, status in rec["scopes"].items():
                if status == FAIL and not any(e["status"] == "fail" and e["scope"] == scope for e in rec["results"]):
                    errs = any(e["status"] == "error" and e["scope"] == scope for e in rec["results"])
                    rec["scopes"][scope] = NOT_ASSESSED if errs else PASS
            if rec["status"] == FAIL and rec["scopes"]:
                rec["status"] = _combine(rec["scopes"].values())
        _summarise(section)
