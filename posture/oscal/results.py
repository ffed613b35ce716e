"""A JSON report as OSCAL assessment results.

- one ``result`` per scope and tier of the chain (``tier-1`` and ``tier-2`` for
  a tier-2 scan), its properties stating the attainment and pass rate;
- one ``finding`` per control of that tier with its attainment (satisfied /
  not-satisfied, the reason, the pass / fail / error counts);
- in the selected tier's results, one ``observation`` per check result, its
  subject the resource (an inventory item of the result's local definitions)
  and its evidence, linked from the findings of the controls it assesses, and
  one observation per collection error (what could not be assessed, with the
  cloud's error code).

Ancestor tiers are evaluated with their own parameters; their per-resource
results are not in the report, so their findings carry the counts only.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from posture.oscal import metadata, one_line, prop, props, stable_uuid
from posture.report import ControlAttainment, Report, Result, TierAttainment

#: posture control status -> OSCAL objective status (state, reason)
OBJECTIVE_STATUS = {
    "pass": ("satisfied", "pass"),
    "not_applicable": ("satisfied", "other"),
    "fail": ("not-satisfied", "fail"),
    "error": ("not-satisfied", "other"),
    "not_assessed": ("not-satisfied", "other"),
}
STATUS_REMARKS = {
    "not_applicable": "Not applicable on this cloud or no such resources.",
    "error": "Could not be assessed: a collection or check error (never counted as a pass).",
    "not_assessed": "No check assesses this control on this cloud: assess it manually.",
}


def _time(report: Report) -> str:
    return report.finished_at or report.started_at


def _inventory_item(result: Result) -> dict[str, Any]:
    return {
        "uuid": stable_uuid("resource", result.provider, result.scope, result.resource_id),
        "description": f"{result.resource_type} {one_line(result.resource_name) or result.resource_id}",
        "props": props(prop("resource-id", result.resource_id), prop("resource-type", result.resource_type),
                       prop("provider", result.provider), prop("scope", result.scope), prop("region", result.region)),
    }


def _observation(report: Report, r: Result) -> dict[str, Any]:
    check = report.checks.get(r.check_id, {})
    evidence = [{"description": "Configuration evidence (JSON): " + json.dumps(r.evidence, sort_keys=True)}] \
        if r.evidence else None
    return {
        "uuid": stable_uuid("observation", report.started_at, r.fingerprint),
        "title": one_line(check.get("title") or r.check_id),
        "description": r.message or f"{r.check_id}: {r.status} on {r.resource_name or r.resource_id}",
        "props": props(prop("check-id", r.check_id), prop("status", r.status), prop("severity", r.severity),
                       prop("fingerprint", r.fingerprint), *(prop("control", c) for c in r.controls),
                       prop("error-code", r.error_code),
                       prop("framework-only", "true" if getattr(r, "framework_only", False) else ""),
                       prop("waiver", (r.waiver or {}).get("id", ""), remarks=r.justification or None)),
        "methods": ["TEST"],
        "types": ["finding"] if r.status in ("fail", "error") else ["control-objective"],
        "subjects": [{"subject-uuid": stable_uuid("resource", r.provider, r.scope, r.resource_id),
                      "type": "inventory-item", "title": one_line(r.resource_name) or None}],
        "relevant-evidence": evidence,
        "collected": _time(report),
    }


def _error_observation(report: Report, err: dict[str, Any]) -> dict[str, Any]:
    key = (err.get("provider"), err.get("scope"), err.get("region"), err.get("fact_type"), err.get("code"))
    return {
        "uuid": stable_uuid("collection-error", report.started_at, *key),
        "title": one_line(f"Could not collect {err.get('fact_type')} in {err.get('scope')}/{err.get('region')}"),
        "description": f"{err.get('code')}: {err.get('message', '')}".strip(),
        "props": props(prop("status", "not-applicable" if err.get("not_applicable") else "not-assessed"),
                       prop("fact-type", err.get("fact_type", "")), prop("error-code", err.get("code", "")),
                       prop("region", err.get("region", ""))),
        "methods": ["TEST"],
        "types": ["finding"],
        "collected": _time(report),
    }


def _finding(report: Report, att: TierAttainment, c: ControlAttainment, observations: list[str]) -> dict[str, Any]:
    info = report.controls.get(c.control, {})
    state = OBJECTIVE_STATUS.get(c.status)
    remarks = c.justification.strip() if c.justification else STATUS_REMARKS.get(c.status)
    target: dict[str, Any] = {
        "type": "statement-id",
        "target-id": f"{c.control}_smt",
        "description": f"{c.control} in {att.provider}/{att.scope} for {att.tier}: {c.status}",
        "props": props(prop("posture-status", c.status), prop("passed", c.passed), prop("failed", c.failed),
                       prop("errors", c.errors)),
    }
    if state:
        target["status"] = {"state": state[0], "reason": state[1], "remarks": remarks}
    else:  # excluded: not assessed by decision of the tier, with its justification
        target["remarks"] = f"Excluded by the tier: {remarks}" if remarks else "Excluded by the tier."
    return {
        "uuid": stable_uuid("finding", report.started_at, att.tier, att.provider, att.scope, c.control),
        "title": one_line(f"{c.control} {info.get('title', '')}"),
        "description": f"{c.control} is {c.status.replace('_', ' ')} in {att.provider}/{att.scope} "
                       f"({c.passed} passed, {c.failed} failed, {c.errors} errors).",
        "target": target,
        "related-observations": [{"observation-uuid": u} for u in observations] or None,
    }


def _result(report: Report, att: TierAttainment, selected: bool) -> dict[str, Any]:
    in_scope = [r for r in report.results if (r.provider, r.scope) == (att.provider, att.scope)] if selected else []
    by_control: dict[str, list[str]] = defaultdict(list)
    observations, items = [], {}
    for r in in_scope:
        obs = _observation(report, r)
        observations.append(obs)
        items.setdefault(obs["subjects"][0]["subject-uuid"], _inventory_item(r))
        if not getattr(r, "framework_only", False):  # a --framework result never counts for the tier
            for cid in r.controls:
                by_control[cid].append(obs["uuid"])
    if selected:
        observations += [_error_observation(report, e) for e in report.coverage.get("errors", [])
                         if (e.get("provider"), e.get("scope")) == (att.provider, att.scope)]
    controls = [c.control for c in att.controls]
    excluded = [c.control for c in att.controls if c.status == "excluded"]
    selection: dict[str, Any] = {"include-controls": [{"control-id": c} for c in controls if c not in excluded]
                                 or [{"control-id": c} for c in controls]}
    if excluded and len(excluded) < len(controls):
        selection["exclude-controls"] = [{"control-id": c} for c in excluded]
    scope = next((s for s in report.scopes if (s["provider"], s["id"]) == (att.provider, att.scope)), {})
    return {
        "uuid": stable_uuid("result", report.started_at, report.tier.get("id"), att.tier, att.provider, att.scope),
        "title": one_line(f"{att.tier} on {att.provider} {scope.get('name') or att.scope}: "
                          f"{att.status.replace('_', ' ')}"),
        "description": f"posture assessment of {att.provider} scope {att.scope} against {att.tier} "
                       f"(pass rate {att.pass_rate:.0%})."
                       + ("" if selected else f" Evaluated with {att.tier}'s own parameters; the per-resource "
                          f"observations are in the {report.tier.get('id')} result of this scope."),
        "start": report.started_at or _time(report),
        "end": _time(report) or None,
        "props": props(prop("tier", att.tier), prop("provider", att.provider), prop("scope", att.scope),
                       prop("attainment", att.status), prop("pass-rate", att.pass_rate)),
        "local-definitions": {"inventory-items": list(items.values())} if items else None,
        "reviewed-controls": {"control-selections": [selection]},
        "observations": observations or None,
        "findings": [_finding(report, att, c, by_control.get(c.control, [])) for c in att.controls] or None,
    }


def build_results(report: Report, organisation: str, plan_href: str | None = None) -> dict[str, Any]:
    selected = report.tier.get("id", "")
    results = [_result(report, att, att.tier == selected)
               for att in sorted(report.attainment, key=lambda a: (a.provider, a.scope, a.tier))]
    if not results:
        raise ValueError("the report has no attainment (no scope was assessed): nothing to state")
    return {
        "uuid": stable_uuid("assessment-results", report.started_at, selected,
                            *sorted(f"{s['provider']}:{s['id']}" for s in report.scopes)),
        "metadata": metadata(
            f"posture assessment of {organisation} against {selected}", report.tool.get("version", ""),
            _time(report),
            props=props(prop("organisation", organisation), prop("tier", selected),
                        prop("tool", f"{report.tool.get('name', 'posture')} {report.tool.get('version', '')}")),
        ),
        "import-ap": {"href": plan_href or f"{selected}-profile.json",
                      "remarks": "posture writes no assessment plan: the tier profile (`posture oscal profile`) "
                                 "defines what was assessed."},
        "results": results,
    }
