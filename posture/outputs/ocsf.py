"""OCSF output: one Compliance Finding (class 2003) per result, for SIEMs and Security Hub-style pipelines.

A posture result is a configuration check of one resource against a control:
OCSF's *Compliance Finding* is the class meant for that (Detection Finding is
for threats). Mapping:

- ``compliance.status_id``: pass -> Pass, fail / waived -> Fail, error ->
  Unknown (not assessed, with the cloud's error code in ``status_detail``),
  not_applicable / excluded -> Other;
- ``status_id`` (the finding's workflow state): waived -> Suppressed (the
  waiver's id, owner, expiry and reason in ``status_detail`` and
  ``unmapped.waiver``), a failure the previous scan had and this one has not ->
  Resolved, everything else New;
- ``finding_info.uid`` is the result's stable fingerprint, so repeated exports
  update rather than duplicate; ``compliance.requirements`` are the control
  ids, ``compliance.standards`` the tier and the frameworks the controls cite;
- evidence goes to ``resources[0].data`` with values the check marks
  sensitive redacted (:mod:`posture.outputs.exports`).

Validated in the tests against the official OCSF schema export, version :data:`OCSF_VERSION`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from posture import __version__
from posture.hookspecs import hookimpl
from posture.outputs import Output, write_text
from posture.outputs.exports import shareable_evidence
from posture.report import Report, Result

OCSF_VERSION = "1.8.0"
CLASS_UID, CLASS_NAME = 2003, "Compliance Finding"
CATEGORY_UID, CATEGORY_NAME = 2, "Findings"
ACTIVITY_CREATE = 1
SEVERITY_IDS = {"info": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}
#: posture status -> (compliance status_id, caption)
COMPLIANCE_STATUS = {
    "pass": (1, "Pass"), "fail": (3, "Fail"), "waived": (3, "Fail"), "error": (0, "Unknown"),
    "not_applicable": (99, "Not applicable"), "excluded": (99, "Excluded by tier"),
}
FINDING_NEW, FINDING_SUPPRESSED, FINDING_RESOLVED = (1, "New"), (3, "Suppressed"), (4, "Resolved")
CLOUD_PROVIDERS = {"aws": "AWS", "azure": "Azure", "gcp": "GCP"}


def _epoch_ms(stamp: str) -> int:
    """OCSF timestamps are milliseconds since the epoch; a stamp without a zone is UTC."""
    if not stamp:
        return 0
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _standards(report: Report, result: Result) -> list[str]:
    """The tier, then every framework the result's controls cite (``CIS AWS 3.0``, ``NIST SP 800-53``...)."""
    names = [f"posture {report.tier.get('id', '')}".strip()]
    for control in result.controls:
        for framework in sorted(report.controls.get(control, {}).get("references") or {}):
            if framework not in names:
                names.append(framework)
    return names


def _finding_status(result: Result) -> tuple[int, str]:
    if result.status == "waived":
        return FINDING_SUPPRESSED
    if result.baseline_state == "absent":
        return FINDING_RESOLVED
    return FINDING_NEW


def _cloud(report: Report, result: Result) -> dict[str, Any]:
    scope = next((s for s in report.scopes if s.get("provider") == result.provider and s.get("id") == result.scope),
                 {})
    account: dict[str, Any] = {"uid": result.scope}
    if scope.get("name"):
        account["name"] = str(scope["name"])
    cloud: dict[str, Any] = {"provider": CLOUD_PROVIDERS.get(result.provider, result.provider), "account": account}
    if result.region and result.region != "global":
        cloud["region"] = result.region
    if result.provider == "gcp":
        cloud["project_uid"] = result.scope
    return cloud


def event(report: Report, result: Result, time_ms: int) -> dict[str, Any]:
    """One OCSF Compliance Finding for one result."""
    info = report.checks.get(result.check_id, {})
    compliance_id, compliance_caption = COMPLIANCE_STATUS.get(result.status, (0, "Unknown"))
    status_id, status_caption = _finding_status(result)
    compliance: dict[str, Any] = {
        "control": ", ".join(result.controls),
        "requirements": list(result.controls),
        "standards": _standards(report, result),
        "status_id": compliance_id,
        "status": compliance_caption,
    }
    if result.status == "error":
        compliance["status_detail"] = f"not assessed: {result.error_code or 'error'}: {result.message}"
    elif result.status in ("excluded", "not_applicable") and (result.justification or result.message):
        compliance["status_detail"] = result.justification or result.message
    resource: dict[str, Any] = {"uid": result.resource_id, "type": result.resource_type,
                                "region": result.region or None,
                                "name": result.resource_name or None,
                                "data": {"evidence": shareable_evidence(report, result)}}
    resource = {k: v for k, v in resource.items() if v is not None}
    out: dict[str, Any] = {
        "activity_id": ACTIVITY_CREATE,
        "activity_name": "Create",
        "category_uid": CATEGORY_UID,
        "category_name": CATEGORY_NAME,
        "class_uid": CLASS_UID,
        "class_name": CLASS_NAME,
        "type_uid": CLASS_UID * 100 + ACTIVITY_CREATE,
        "type_name": f"{CLASS_NAME}: Create",
        "time": time_ms,
        "severity_id": SEVERITY_IDS.get(result.severity, 0),
        "severity": result.severity.capitalize(),
        "status_id": status_id,
        "status": status_caption,
        "message": result.message,
        "metadata": {
            "version": OCSF_VERSION,
            "profiles": ["cloud"],
            "event_code": result.check_id,
            "product": {"name": str(report.tool.get("name") or "posture"), "vendor_name": "posture",
                        "version": str(report.tool.get("version") or __version__)},
        },
        "cloud": _cloud(report, result),
        "finding_info": {
            "uid": result.fingerprint,
            "title": str(info.get("title") or result.check_id),
            "desc": str(info.get("description") or result.message or info.get("title") or result.check_id),
            "types": ["Configuration"],
            "analytic": {"uid": result.check_id, "name": result.check_id, "type_id": 1, "type": "Rule"},
        },
        "compliance": compliance,
        "resources": [resource],
        "unmapped": {"posture": {"tier": report.tier.get("id", ""), "status": result.status,
                                 "provider": result.provider, "scope": result.scope}},
    }
    if info.get("remediation") and result.status in ("fail", "waived"):
        out["remediation"] = {"desc": str(info["remediation"]),
                              "references": [str(r) for r in info.get("references") or ()]}
        if not out["remediation"]["references"]:
            del out["remediation"]["references"]
    if result.status == "waived":
        waiver = dict(result.waiver or {})
        out["status_detail"] = (f"waived by {waiver.get('id', '?')} (owner {waiver.get('owner', '?')}, expires "
                                f"{waiver.get('expires', '?')}): {waiver.get('justification') or result.justification}")
        out["unmapped"]["posture"]["waiver"] = {k: str(v) for k, v in waiver.items()}
    if result.baseline_state:
        out["unmapped"]["posture"]["baseline_state"] = result.baseline_state
    return out


def render(report: Report) -> list[dict[str, Any]]:
    """Every result as an OCSF event, in the report's (deterministic) order."""
    time_ms = _epoch_ms(report.finished_at or report.started_at)
    return [event(report, r, time_ms) for r in sorted(report.results, key=lambda r: r.sort_key)]


def dumps(report: Report) -> str:
    return json.dumps(render(report), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write(report: Report, path: Path | None, console: Any = None) -> None:
    write_text(dumps(report), path)


@hookimpl
def register_outputs(register: Any) -> None:
    register(Output("ocsf", ".ocsf.json", write,
                    f"OCSF {OCSF_VERSION} Compliance Findings (class {CLASS_UID}), one per result, as a JSON array"))
