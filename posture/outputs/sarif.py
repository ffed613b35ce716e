"""SARIF 2.1.0 output, shaped for GitHub code scanning.

Mapping: one run per report; rules are the checks the
report evaluated; results are failed (and waived, with ``suppressions``)
checks; every result has a stable ``partialFingerprints`` value and a location
that is a stable pseudo-path for the resource plus a logical location with the
cloud's resource id; collection errors are ``toolExecutionNotifications``.
Output is deterministic: identical reports give byte-identical files.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

from posture.hookspecs import hookimpl
from posture.jsonfast import dumps_pretty
from posture.outputs import Output, write_text
from posture.report import SECURITY_SEVERITY, SEVERITY_ORDER, Report, Result

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/posture-dev/posture"
#: v2: the fingerprint includes provider and scope (v1 was check and resource only)
FINGERPRINT_KEY = "postureResource/v2"
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
MAX_TAGS = 20
#: GitHub code scanning rejects a run with more results than this (and displays the top 5,000 by severity)
GITHUB_MAX_RESULTS = 25_000
MAX_RESULTS_ENV = "POSTURE_SARIF_MAX_RESULTS"
OMIT_ENV = "POSTURE_SARIF_OMIT"


def omitted() -> set[str]:
    """``$POSTURE_SARIF_OMIT``: ``absent`` and/or ``waived`` results left out.

    GitHub code scanning closes an alert when its result stops appearing and does
    not read ``baselineState`` (nor reliably ``suppressions``), so for GitHub
    uploads a fixed (``absent``) or waived result is better left out than kept open.
    """
    from posture.environment import value

    return value(OMIT_ENV) or set()


def max_results() -> int:
    """The results cap: ``$POSTURE_SARIF_MAX_RESULTS`` (0 = no cap, for other SARIF consumers), else GitHub's."""
    from posture.environment import value

    cap = value(MAX_RESULTS_ENV)
    return GITHUB_MAX_RESULTS if cap is None else cap


def _rule_name(check_id: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[._]", check_id) if part)


def _rule(check_id: str, info: dict[str, Any], tier_id: str) -> dict[str, Any]:
    severity = info.get("severity", "medium")
    remediation = info.get("remediation") or "No remediation text."
    controls = info.get("controls", [])
    params = info.get("parameters") or {}
    markdown = [f"**{info.get('title', check_id)}**", ""]
    if info.get("description"):
        markdown += [info["description"], ""]
    if info.get("framework_only"):
        markdown += [f"Controls: {', '.join(controls)} (not selected by tier `{tier_id}`; evaluated for a framework)", ""]
    else:
        markdown += [f"Controls: {', '.join(controls)} (tier `{tier_id}`)", ""]
    if info.get("frameworks"):
        markdown += ["Framework recommendations: " + ", ".join(f"`{f}`" for f in info["frameworks"]), ""]
    if params:
        markdown += ["Tier parameters: " + ", ".join(f"`{k}` = `{v}`" for k, v in params.items()), ""]
    markdown += ["## Remediation", "", remediation]
    if info.get("references"):
        markdown += ["", "## References", ""] + [f"- {r}" for r in info["references"]]
    scope = "framework-only" if info.get("framework_only") else f"tier:{tier_id}"
    tags = (["security", scope, f"provider:{info.get('provider', '')}"] + [f"control:{c}" for c in controls]
            + list(info.get("frameworks") or []))
    rule: dict[str, Any] = {
        "id": check_id,
        "name": _rule_name(check_id),
        "shortDescription": {"text": info.get("title", check_id)},
        "fullDescription": {"text": info.get("description") or info.get("title", check_id)},
        "help": {"text": remediation, "markdown": "\n".join(markdown)},
        "defaultConfiguration": {"level": LEVELS.get(severity, "warning")},
        "properties": {
            "tags": tags[:MAX_TAGS],
            "security-severity": SECURITY_SEVERITY.get(severity, "5.5"),
            "precision": "high",
            "problem.severity": "error" if LEVELS.get(severity) == "error" else
                                 "warning" if LEVELS.get(severity) == "warning" else "recommendation",
        },
    }
    return rule


def pseudo_path(result: Result) -> str:
    """A stable, URI-safe pseudo-path for a resource: provider/scope/region/type/name."""
    kind = result.resource_type.split(".", 1)[-1] if "." in result.resource_type else result.resource_type
    name = result.resource_name or result.resource_id
    if len(name) > 120:
        name = name[:80] + "-" + hashlib.sha256(name.encode()).hexdigest()[:12]
    parts = [result.provider, result.scope, result.region or "global", kind, name]
    return "/".join(_segment(p) for p in parts)


def _segment(part: str) -> str:
    """One path segment: no slash, and never ``.`` or ``..`` (an EC2 Name tag can be), which URI
    resolution would fold into the parent."""
    text = quote(part.replace("/", "_"), safe="-_.~@") or "_"
    return text.replace(".", "%2E") if set(text) == {"."} else text


def _result(result: Result, rule_index: int, info: dict[str, Any]) -> dict[str, Any]:
    level = LEVELS.get(result.severity, "warning")
    out: dict[str, Any] = {
        "ruleId": result.check_id,
        "ruleIndex": rule_index,
        "level": level,
        "message": {"text": result.message or f"{result.resource_name}: {info.get('title', result.check_id)}"},
        "locations": [{
            "physicalLocation": {
                "artifactLocation": {"uri": pseudo_path(result)},
                "region": {"startLine": 1},
            },
            "logicalLocations": [{
                "name": result.resource_name or result.resource_id,
                "fullyQualifiedName": result.resource_id,
                "kind": "resource",
            }],
        }],
        "partialFingerprints": {FINGERPRINT_KEY: result.fingerprint},
        "properties": {
            "provider": result.provider,
            "scope": result.scope,
            "region": result.region,
            "resourceType": result.resource_type,
            "controls": list(result.controls),
            "severity": result.severity,
            "evidence": result.evidence,
        },
    }
    if result.baseline_state:
        out["baselineState"] = result.baseline_state
    if result.status == "waived":
        waiver = result.waiver or {}
        suppression: dict[str, Any] = {
            "kind": "external",
            "status": "accepted",
            "justification": result.justification or waiver.get("justification", ""),
        }
        props = {k: str(v) for k, v in waiver.items() if k in ("id", "owner", "expires") and v}
        if props:
            suppression["properties"] = props
        out["suppressions"] = [suppression]
    return out


def shown(result: Result, omit: set[str]) -> bool:
    """Whether SARIF lists ``result`` (failures, and waived ones unless omitted)."""
    return result.status == "fail" or (result.status == "waived" and "waived" not in omit)


def rank(severity: str) -> int:
    """How a severity ranks when the results are capped (an unknown one as medium)."""
    return SEVERITY_ORDER.get(severity, 2)


def _within_limit(shown: list[Result], fixed: list[Result], limit: int
                  ) -> tuple[list[Result], list[Result], int]:
    """Keep at most ``limit`` results, most severe current failures first, then fixed ones; order is kept."""
    total = len(shown) + len(fixed)
    if limit <= 0 or total <= limit:
        return shown, fixed, 0
    ranked = sorted(range(total), key=lambda i: (i >= len(shown), -rank(
        (shown[i] if i < len(shown) else fixed[i - len(shown)]).severity), i))
    keep = set(ranked[:limit])
    return ([r for i, r in enumerate(shown) if i in keep],
            [r for i, r in enumerate(fixed, start=len(shown)) if i in keep], total - limit)


def automation_id(report: Report) -> str:
    """Distinguishes provider/scope (and tier) so several uploads coexist on GitHub."""
    keys = sorted(f"{s['provider']}-{s['id']}" for s in report.scopes) or ["none"]
    scope_key = keys[0] if len(keys) == 1 else f"{len(keys)}-scopes-" + hashlib.sha256(
        "|".join(keys).encode()).hexdigest()[:12]
    scope_key = re.sub(r"[^A-Za-z0-9._-]", "_", scope_key)
    return f"posture/{report.tier.get('id', 'tier')}/{scope_key}/"


def _notifications(report: Report) -> list[dict[str, Any]]:
    notes = []
    for err in report.coverage.get("errors", []):
        notes.append({
            "level": "note" if err.get("not_applicable") else "error",
            "message": {"text": f"{err['fact_type']} in {err['provider']}/{err['scope']}/{err['region']} "
                                f"could not be collected: {err['code']}: {err['message']}"},
            "descriptor": {"id": err["code"] or "CollectionError"},
            "properties": {k: err[k] for k in ("provider", "scope", "region", "fact_type")},
        })
    for prob in report.coverage.get("plugin_problems", []):
        notes.append({
            "level": "warning",
            "message": {"text": f"plugin {prob['plugin']} failed in {prob['stage']}: {prob['error']}"},
            "descriptor": {"id": "PluginProblem"},
        })
    return notes


def render(report: Report, *, left_out: int = 0) -> dict[str, Any]:
    """The SARIF log; ``left_out``: results a streamed evaluation already left out (its results are the
    capped ones, picked the way :func:`_within_limit` picks)."""
    check_ids = sorted(report.checks)
    index = {cid: i for i, cid in enumerate(check_ids)}
    rules = [_rule(cid, report.checks[cid], report.tier.get("id", "")) for cid in check_ids]
    omit = omitted()
    listed = [r for r in report.results if r.check_id in index and shown(r, omit)]
    fixed = [] if "absent" in omit else [
        r for r in (Result.from_dict(a) for a in report.coverage.get("absent", [])
                    if isinstance(a, dict) and "check_id" in a) if r.check_id in index]
    cap = max_results()
    listed, fixed, cut = _within_limit(listed, fixed, cap)
    left_out += cut
    results = [_result(r, index[r.check_id], report.checks[r.check_id]) for r in listed]
    for result in fixed:
        item = _result(result, index[result.check_id], report.checks[result.check_id])
        item["baselineState"] = "absent"
        results.append(item)
    notifications = _notifications(report)
    if left_out:
        notifications.append({
            "level": "warning",
            "message": {"text": f"{left_out} lower-severity results were left out of this SARIF run, capped at "
                                f"{cap:,} results ({'GitHub code scanning rejects larger runs' if cap == GITHUB_MAX_RESULTS else MAX_RESULTS_ENV}). "
                                "The JSON report has every result; scanning fewer scopes per upload keeps them all."},
            "descriptor": {"id": "ResultsLimit"},
        })
    invocation: dict[str, Any] = {
        "executionSuccessful": not any(n["level"] == "error" for n in notifications),
        "toolExecutionNotifications": notifications,
    }
    if report.started_at:
        invocation["startTimeUtc"] = report.started_at
    if report.finished_at:
        invocation["endTimeUtc"] = report.finished_at
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "posture",
                "version": report.tool.get("version", ""),
                "semanticVersion": report.tool.get("version", ""),
                "informationUri": INFORMATION_URI,
                "rules": rules,
            }
        },
        "automationDetails": {"id": automation_id(report)},
        "invocations": [invocation],
        "results": results,
        "columnKind": "unicodeCodePoints",
        "properties": {
            "tier": report.tier,
            "attainment": [
                {"tier": a.tier, "provider": a.provider, "scope": a.scope, "status": a.status,
                 "passRate": a.pass_rate} for a in report.attainment
            ],
        },
    }
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def dumps(report: Report, *, left_out: int = 0) -> str:
    return dumps_pretty(render(report, left_out=left_out))


def write(report: Report, path: Path | None, console: Any = None) -> None:
    assert path is not None
    write_text(dumps(report), path)


@hookimpl
def register_outputs(register: Any) -> None:
    register(Output("sarif", ".sarif", write, "SARIF 2.1.0 for GitHub code scanning"))
