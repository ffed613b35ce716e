"""Evaluate the checks a tier selects over collected facts.

Pure and offline: the same fact set and tier always give the same report
(the clock used for age comparisons is the collection time recorded in the
fact set, so ``posture evaluate`` on a saved fact file reproduces the scan).
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from posture import __version__, conditions
from posture.checks import Check
from posture.facts import CollectionError, FactSet
from posture.report import SEVERITY_ORDER, ControlAttainment, Report, Result, TierAttainment
from posture.selection import NO_SELECTION, Selection
from posture.tags import fact_tags

if TYPE_CHECKING:
    from posture.tiers import ResolvedTier


def select_checks(tier: ResolvedTier, checks: Mapping[str, Check], providers: Iterable[str] | None = None
                  ) -> list[Check]:
    """The checks implementing at least one of the tier's active controls."""
    active = {c.id for c in tier.active_controls()}
    wanted = set(providers) if providers is not None else None
    return sorted(
        (c for c in checks.values()
         if active.intersection(c.controls) and (wanted is None or c.provider in wanted)),
        key=lambda c: c.id,
    )


def excluded_checks(tier: ResolvedTier, checks: Mapping[str, Check]) -> list[tuple[Check, str, str]]:
    """Checks whose every control is excluded by the tier: (check, control, justification)."""
    out = []
    active = {c.id for c in tier.active_controls()}
    for check in sorted(checks.values(), key=lambda c: c.id):
        if active.intersection(check.controls):
            continue
        for cid in check.controls:
            ctrl = tier.controls.get(cid)
            if ctrl is not None and ctrl.excluded:
                out.append((check, cid, ctrl.justification))
                break
    return out


def fact_types_needed(checks: Iterable[Check]) -> set[str]:
    return {c.fact_type for c in checks}


def check_parameters(tier: ResolvedTier, check: Check) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for cid in check.controls:
        if cid in tier.controls:
            params.update(tier.parameters_for(cid))
    return params


def check_severity(tier: ResolvedTier, check: Check) -> str:
    if check.severity:
        return check.severity
    severities = [tier.controls[c].spec.severity for c in check.controls if c in tier.controls]
    return max(severities, key=lambda s: SEVERITY_ORDER[s]) if severities else "medium"


def _clock(facts: FactSet) -> datetime:
    for key in ("finished_at", "footer_finished_at", "started_at"):
        value = facts.metadata.get(key)
        if value:
            try:
                clock = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            except ValueError:
                continue
            # a hand-made fact file may omit the zone: UTC, as posture writes it
            return clock if clock.tzinfo else clock.replace(tzinfo=UTC)
    return datetime.now(UTC)


def _results_for_tier(tier: ResolvedTier, checks: list[Check], facts: FactSet, now: datetime) -> list[Result]:
    return evaluate_checks(
        checks, facts, now, params_for=lambda c: check_parameters(tier, c),
        severity_for=lambda c: check_severity(tier, c),
        controls_for=lambda c: sorted(x for x in c.controls if x in tier.controls))


def evaluate_checks(checks: list[Check], facts: FactSet, now: datetime, *,
                    params_for: Callable[[Check], dict[str, Any]], severity_for: Callable[[Check], str],
                    controls_for: Callable[[Check], list[str]]) -> list[Result]:
    """Every check over the facts of its type: one result per fact, one per collection error.

    Parameters, severity and reported controls come from the caller (a tier, or a framework that
    demands its own parameter values).
    """
    by_type: dict[str, list[Any]] = defaultdict(list)
    for f in facts.facts:
        by_type[f.type].append(f)
    errors_by_type: dict[str, list[CollectionError]] = defaultdict(list)
    for e in facts.errors:
        errors_by_type[e.fact_type].append(e)

    results: list[Result] = []
    for check in checks:
        params = params_for(check)
        evaluator = conditions.Evaluator(params, now=now)
        severity = severity_for(check)
        controls = controls_for(check)
        for fact in by_type.get(check.fact_type, ()):
            if fact.provider != check.provider:
                continue
            try:
                outcome = check.evaluate(fact, params, evaluator)
                status, message, evidence, code = outcome.status, outcome.message, outcome.evidence, ""
            except Exception as exc:  # a broken check is an error result, never a crashed scan
                status, message, evidence, code = "error", f"check failed: {exc}", {}, type(exc).__name__
            results.append(Result(
                check_id=check.id, status=status, provider=fact.provider, scope=fact.scope, region=fact.region,
                resource_id=fact.id, resource_name=fact.name, resource_type=fact.type, controls=controls,
                severity=severity, message=message, evidence=_jsonable(evidence), error_code=code,
            ))
        for err in errors_by_type.get(check.fact_type, ()):
            if err.provider != check.provider:
                continue
            status = "not_applicable" if err.not_applicable else "error"
            results.append(Result(
                check_id=check.id, status=status, provider=err.provider, scope=err.scope, region=err.region,
                resource_id=f"{err.provider}/{err.scope}/{err.region}/{err.fact_type}",
                resource_name=f"{err.fact_type} in {err.scope}/{err.region}", resource_type=err.fact_type,
                controls=controls, severity=severity,
                message=f"Could not assess: {err.code}: {err.message}", error_code=err.code,
            ))
    results.sort(key=lambda r: r.sort_key)
    return results


def _level_results(level: ResolvedTier, tier: ResolvedTier, checks: list[Check], evaluated: set[str],
                   results: list[Result], facts: FactSet, now: datetime) -> list[Result]:
    """The results an ancestor tier of the chain would get, for its attainment.

    A check runs again only where that tier's parameters differ from the selected tier's (a 200-day-old
    key passes tier-1's 365 days but not tier-2's 90): every other check's results are the selected
    tier's, as attainment reads only status, scope and fingerprint. tier-3 used to evaluate every check
    three times.
    """
    by_check: dict[str, list[Result]] = defaultdict(list)
    for r in results:
        by_check[r.check_id].append(r)
    again = [c for c in checks if c.id not in evaluated or _params_read(level, c) != _params_read(tier, c)]
    rerun = {c.id for c in again}
    out = [r for c in checks if c.id not in rerun for r in by_check.get(c.id, ())]
    out.extend(_results_for_tier(level, again, facts, now) if again else ())
    return out


def _params_read(tier: ResolvedTier, check: Check) -> dict[str, Any]:
    """The tier parameters that can change ``check``'s verdict: those its condition reads, every one of
    its controls' for a Python check (which does not declare what it reads)."""
    params = check_parameters(tier, check)
    if check.function is not None:
        return params
    used = check.parameters
    return {k: v for k, v in params.items() if k in used}


_PLAIN = frozenset({str, bool, int, float, type(None)})


def _jsonable(value: Any) -> Any:
    if type(value) in _PLAIN:  # most evidence: exact types (a subclass takes the long way below)
        return value
    if isinstance(value, dict):
        return {k if type(k) is str else str(k): v if type(v) in _PLAIN else _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [v if type(v) in _PLAIN else _jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _scopes(facts: FactSet) -> list[dict[str, Any]]:
    if facts.scopes:
        seen: dict[tuple[str, str], dict[str, Any]] = {}
        for s in facts.scopes:
            seen.setdefault((s["provider"], s["id"]), s)
        return [seen[k] for k in sorted(seen)]
    keys = sorted({(f.provider, f.scope) for f in facts.facts} | {(e.provider, e.scope) for e in facts.errors})
    return [{"provider": p, "id": s, "name": s, "kind": "", "parent": ""} for p, s in keys]


def _attainment(level: ResolvedTier, checks: Mapping[str, Check], results: list[Result],
                scopes: list[dict[str, Any]], only_controls: set[str] | None = None) -> list[TierAttainment]:
    """Per scope, every control of ``level`` (or only ``only_controls``, for a check selection: partial)."""
    by_scope_check: dict[tuple[str, str], dict[str, list[Result]]] = defaultdict(lambda: defaultdict(list))
    for r in results:
        by_scope_check[(r.provider, r.scope)][r.check_id].append(r)
    implementing_by = implementing_checks(checks.values())
    out = []
    for scope in scopes:
        provider, scope_id = scope["provider"], scope["id"]
        scope_results = by_scope_check.get((provider, scope_id), {})

        def counts(cid: str, provider: str = provider, scope_results: Any = scope_results) -> ControlCounts:
            rs = [r for check_id in implementing_by[(provider, cid)] for r in scope_results.get(check_id, ())]
            return ControlCounts(passed=sum(r.status in ("pass", "waived") for r in rs),
                                 failed=sum(r.status == "fail" for r in rs),
                                 errors=sum(r.status == "error" for r in rs),
                                 failing=[r.fingerprint for r in rs if r.status == "fail"])

        out.append(scope_attainment(level, provider, scope_id, implementing_by, counts, only_controls))
    return out


@dataclasses.dataclass
class ControlCounts:
    """What a tier's checks found for one control in one scope (``waived``: failures a waiver covers)."""

    passed: int = 0
    failed: int = 0
    errors: int = 0
    failing: list[str] = dataclasses.field(default_factory=list)
    waived: int = 0


def implementing_checks(checks: Iterable[Any]) -> dict[tuple[str, str], list[str]]:
    """(provider, control) -> ids of the checks implementing it."""
    out: dict[tuple[str, str], list[str]] = defaultdict(list)
    for c in checks:
        for cid in c.controls:
            out[(c.provider, cid)].append(c.id)
    return out


def scope_attainment(level: ResolvedTier, provider: str, scope_id: str,
                     implementing_by: Mapping[tuple[str, str], list[str]], counts: Callable[[str], ControlCounts],
                     only_controls: set[str] | None) -> TierAttainment:
    """One scope's attainment of ``level`` from what its checks counted for each control."""
    controls: list[ControlAttainment] = []
    for cid, ctrl in sorted(level.controls.items()):
        if only_controls is not None and cid not in only_controls:
            continue
        if ctrl.excluded:
            controls.append(ControlAttainment(cid, "excluded", justification=ctrl.justification))
            continue
        if not implementing_by.get((provider, cid)):
            reason = ctrl.spec.not_applicable.get(provider)
            # the catalogue says the control has no counterpart on this cloud: n/a, not a gap
            controls.append(ControlAttainment(cid, "not_applicable", justification=reason) if reason
                            else ControlAttainment(cid, "not_assessed"))
            continue
        found = counts(cid)
        # a waived failure counts as passed, its fingerprint stays among the failing (waivers.refresh_attainment)
        controls.append(ControlAttainment.from_counts(cid, passed=found.passed + found.waived,
                                                      failed=found.failed - found.waived, errors=found.errors,
                                                      failing=found.failing))
    att = TierAttainment.from_controls(level.id, provider, scope_id, controls)
    att.partial = only_controls is not None
    return att


def attainment_for(level: ResolvedTier, checks: Mapping[str, Any], results: list[Result],
                   scopes: list[dict[str, Any]]) -> list[TierAttainment]:
    """Attainment of one tier level from results, with the engine's rules (``posture verify`` recomputes it).

    ``checks`` maps check ids to objects with ``id``, ``provider`` and ``controls``.
    """
    return _attainment(level, checks, results, scopes)


def evaluate(
    facts: FactSet,
    tier: ResolvedTier,
    checks: Mapping[str, Check],
    *,
    providers: Iterable[str] | None = None,
    plugin_problems: list[dict[str, str]] | None = None,
    selection: Selection = NO_SELECTION,
) -> Report:
    """Evaluate ``facts`` against ``tier`` and build the report.

    Results are computed with the selected tier's parameters; tier attainment
    is computed for every tier of its ``extends`` chain, each with its own
    parameters (a 200-day-old key attains tier-1 but not tier-2). A check ``selection`` narrows
    the tier's checks; attainment then covers only the controls those checks implement and is
    marked partial. ``checks`` is the whole check catalogue (``{id: Check}``), handed in by the
    caller (:class:`posture.pipeline.Pipeline` passes its registry's): the engine looks nothing up.
    """
    scopes = _scopes(facts)
    present = {s["provider"] for s in scopes}
    wanted = set(providers) if providers is not None else present
    now = _clock(facts)
    chain = plan_chain(tier, checks, wanted, selection)
    facts = with_uncollected(facts, chain.needed, scopes)
    results = _results_for_tier(tier, chain.selected, facts, now)
    for check, cid, justification in chain.excluded:
        for scope in scopes:
            if scope["provider"] == check.provider:
                results.append(excluded_result(tier, check, cid, justification, scope))
    results.sort(key=lambda r: r.sort_key)

    attainment: list[TierAttainment] = []
    for level in tier.levels:
        level_results = results if level.id == tier.id else _level_results(
            level, tier, select_checks(level, chain.provider_checks), {c.id for c in chain.selected}, results,
            facts, now)
        attainment.extend(_attainment(level, chain.provider_checks, level_results, scopes, chain.only_controls))
    return build_report(tier, checks, chain, facts.metadata, scopes, results, attainment, facts.errors,
                        facts.coverage, plugin_problems=plugin_problems,
                        resource_tags={(f.provider, f.scope, f.id): tags for f in facts.facts
                                       if (tags := fact_tags(f.attributes))})


@dataclasses.dataclass(frozen=True)
class Chain:
    """Which checks an evaluation runs and reports, from the tier, the providers and the selection."""

    wanted: frozenset[str]
    selected: list[Check]  # run with the selected tier's parameters: the results
    needed: list[Check]  # every check of every tier of the chain (their fact types must be collected)
    provider_checks: dict[str, Check]  # the selection's checks on the wanted providers (attainment)
    excluded: list[tuple[Check, str, str]]  # (check, control, justification) excluded by the tier
    only_controls: set[str] | None  # a check selection's controls (partial attainment), else None
    selection: Selection


def plan_chain(tier: ResolvedTier, checks: Mapping[str, Check], wanted: Iterable[str],
               selection: Selection = NO_SELECTION) -> Chain:
    wanted = frozenset(wanted)
    selected = selection.narrow(select_checks(tier, checks, wanted), lambda c: check_severity(tier, c))
    needed = {c.id: c for level in tier.levels
              for c in selection.narrow(select_checks(level, checks, wanted), lambda c, lv=level: check_severity(lv, c))}
    in_selection = {c.id: c for c in selection.narrow(checks.values(), lambda c: check_severity(tier, c))}
    provider_checks = {c.id: c for c in in_selection.values() if c.provider in wanted}
    only_controls = ({cid for c in provider_checks.values() for cid in c.controls}
                     if selection.active else None)
    if only_controls is not None and selection.controls:
        only_controls = {cid for cid in only_controls if any(fnmatchcase(cid, p) for p in selection.controls)}
    return Chain(wanted, selected, [*selected, *needed.values()], provider_checks,
                 excluded_checks(tier, provider_checks), only_controls, selection)


def excluded_result(tier: ResolvedTier, check: Check, cid: str, justification: str, scope: dict[str, Any]
                    ) -> Result:
    """The result standing for ``check`` in ``scope`` when the tier excludes its control ``cid``."""
    return Result(
        check_id=check.id, status="excluded", provider=check.provider, scope=scope["id"],
        region="global", resource_id=f"{check.provider}/{scope['id']}", resource_name=scope.get("name") or scope["id"],
        resource_type=check.fact_type, controls=[cid], severity=check_severity(tier, check),
        message=f"Control {cid} is excluded by tier {tier.id}: {justification}", justification=justification,
    )


def build_report(tier: ResolvedTier, checks: Mapping[str, Check], chain: Chain, metadata: Mapping[str, Any],
                 scopes: list[dict[str, Any]], results: list[Result], attainment: list[TierAttainment],
                 errors: Iterable[CollectionError], coverage: Iterable[Any], *,
                 plugin_problems: list[dict[str, str]] | None = None,
                 resource_tags: dict[tuple[str, str, str], dict[str, str | None]] | None = None) -> Report:
    """The report of an evaluation (``results`` may be empty: a streamed evaluation writes them apart)."""
    reported_checks = {c.id for c in chain.selected} | {c.id for c, _, _ in chain.excluded}
    only_controls = chain.only_controls
    not_implemented = {
        p: sorted(c.id for c in tier.active_controls()
                  if p not in c.spec.not_applicable
                  and (only_controls is None or c.id in only_controls)
                  and not any(p == ch.provider and c.id in ch.controls for ch in checks.values()))
        for p in sorted(chain.wanted)
    }
    return Report(
        tool={"name": "posture", "version": __version__},
        tier={"id": tier.id, "title": tier.title, "chain": list(tier.chain)},
        scopes=scopes,
        started_at=str(metadata.get("started_at", "")),
        finished_at=str(metadata.get("finished_at", metadata.get("footer_finished_at", ""))),
        results=results,
        checks={cid: _check_info(tier, checks[cid]) for cid in sorted(reported_checks)},
        controls={cid: _control_info(ctrl) for cid, ctrl in sorted(tier.controls.items())},
        coverage={
            "fact_types": sorted({c.fact_type for c in chain.selected}),
            "errors": [e.to_dict() for e in sorted(errors, key=lambda e: (
                e.provider, e.scope, e.region, e.fact_type, e.code))],
            "not_implemented": not_implemented,
            "plugin_problems": plugin_problems or [],
            "collected": _collected(coverage),
        },
        attainment=attainment,
        requests=int(metadata.get("requests", 0) or 0),
        selection=chain.selection.to_dict() if chain.selection.active else None,
        resource_tags=resource_tags,
    )


NOT_COLLECTED = "NotCollected"


def with_uncollected(facts: FactSet, checks: Iterable[Check], scopes: list[dict[str, Any]]) -> FactSet:
    """``facts`` plus a ``NotCollected`` error for each fact type the checks need that was never looked at.

    A fact file collected for tier-1 and evaluated against tier-3 lacks fact types tier-3 needs; with
    no facts, no coverage and no error for them, their checks would silently produce no results and
    the scan would look complete. They are "not assessed" instead (``--strict`` exits 3).
    """
    seen = ({(f.provider, f.type) for f in facts.facts} | {(c.provider, c.fact_type) for c in facts.coverage}
            | {(e.provider, e.fact_type) for e in facts.errors})
    missing = sorted({(c.provider, c.fact_type) for c in checks} - seen)
    if not missing:
        return facts
    errors = [e for provider, fact_type in missing
              for e in not_collected_errors(facts.metadata, provider, fact_type, scopes)]
    return dataclasses.replace(facts, errors=[*facts.errors, *errors])


def not_collected_errors(metadata: Mapping[str, Any], provider: str, fact_type: str, scopes: list[dict[str, Any]]
                         ) -> list[CollectionError]:
    """A ``NotCollected`` error for each of the provider's scopes (see :func:`with_uncollected`)."""
    source = metadata.get("tier")
    hint = (f"the facts were collected for {source}; collect again for this tier (or without --tier)"
            if source else "collect again for this tier (or without --tier)")
    return [CollectionError(provider, s["id"], "*", fact_type, NOT_COLLECTED,
                            f"fact type {fact_type} was never collected: {hint}")
            for s in scopes if s["provider"] == provider]


def _collected(coverage: Iterable[Any]) -> dict[str, dict[str, list[str]]]:
    """What the scan looked at: ``provider:scope`` -> region -> fact types collected there.

    Part of the scan's identity for drift: a failure in a region or fact type
    the next scan did not collect is "not assessed now", never fixed.
    """
    out: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for c in coverage:
        out[f"{c.provider}:{c.scope}"][c.region].add(c.fact_type)
    return {scope: {region: sorted(types) for region, types in sorted(regions.items())}
            for scope, regions in sorted(out.items())}


def _check_info(tier: ResolvedTier, check: Check) -> dict[str, Any]:
    return {
        "title": check.title,
        "description": check.description,
        "provider": check.provider,
        "fact_type": check.fact_type,
        "controls": list(check.controls),
        "severity": check_severity(tier, check),
        "remediation": check.remediation,
        "references": list(check.references),
        "sensitive_evidence": list(check.sensitive_evidence),
        "parameters": {k: v for k, v in sorted(check_parameters(tier, check).items()) if k in check.parameters},
    }


def _control_info(ctrl: Any) -> dict[str, Any]:
    spec = ctrl.spec
    return {
        "title": spec.title,
        "domain": spec.domain,
        "severity": spec.severity,
        "baseline": list(spec.baseline),
        "parameters": _jsonable(dict(sorted(ctrl.parameters.items()))),
        "introduced_by": ctrl.introduced_by,
        "excluded": ctrl.excluded,
        "justification": ctrl.justification,
        "references": _jsonable(spec.references),
    }
