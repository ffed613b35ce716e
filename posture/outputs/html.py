"""Self-contained HTML: the single-scan report and the comparison page.

Rendered with Jinja2 templates (``posture/outputs/templates``) with autoescaping on: every value
from a report reaches the page through a template expression and is escaped, and remediation
markdown is rendered with raw HTML disabled. Everything is inline (CSS and SVG charts, no script,
no CDN) and a Content-Security-Policy forbids any script or network load, so the page opens offline
and a hostile resource name cannot run.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from posture.hookspecs import hookimpl
from posture.outputs import Output, write_text
from posture.outputs.templating import CSP, render
from posture.report import SEVERITY_ORDER, Report, Result

__all__ = ["CSP", "render_compare", "render_report"]

STATUS_COLOURS = {
    "pass": "#2e7d32", "attained": "#2e7d32", "fail": "#c62828", "not_attained": "#c62828",
    "error": "#ef6c00", "incomplete": "#ef6c00", "not_assessed": "#8d6e63", "waived": "#6a1b9a",
    "excluded": "#607d8b", "not_applicable": "#9e9e9e", "not_evaluated": "#bdbdbd",
}
SEVERITY_COLOURS = {"critical": "#7b1fa2", "high": "#c62828", "medium": "#ef6c00", "low": "#f9a825",
                    "info": "#607d8b"}
REC_BADGE = {"pass": "pass", "fail": "fail", "not_assessed": "error", "manual": "excluded",
             "not_applicable": "not_applicable"}


# ----------------------------------------------------------------- single scan
def _failure_groups(report: Report) -> tuple[int, list[dict[str, Any]]]:
    """Failures by control (most severe first), then by check, with each check's remediation."""
    failing = [r for r in report.results if r.status == "fail"]
    by_control: dict[str, list[Result]] = defaultdict(list)
    for r in failing:
        for cid in r.controls or ["(no control)"]:
            by_control[cid].append(r)

    def control_key(cid: str) -> tuple[int, str]:
        return (-max(SEVERITY_ORDER.get(r.severity, 0) for r in by_control[cid]), cid)

    groups = []
    for cid in sorted(by_control, key=control_key):
        results = by_control[cid]
        by_check: dict[str, list[Result]] = defaultdict(list)
        for r in results:
            by_check[r.check_id].append(r)
        groups.append({
            "control": cid, "title": report.controls.get(cid, {}).get("title", ""), "count": len(results),
            "severity": max((r.severity for r in results), key=lambda s: SEVERITY_ORDER.get(s, 0)),
            "checks": [{"id": check_id, "title": report.checks.get(check_id, {}).get("title", ""),
                        "remediation": report.checks.get(check_id, {}).get("remediation", ""),
                        "results": by_check[check_id]} for check_id in sorted(by_check)],
        })
    return len(failing), groups


def render_report(report: Report) -> str:
    """The single-scan HTML report."""
    summary = report.summary
    failing_count, groups = _failure_groups(report)
    coverage = report.coverage or {}
    return render(
        "report.html.j2", title="posture report", report=report, summary=summary,
        tier_title=report.tier.get("title") or report.tier.get("id", ""),
        scopes_line=", ".join(f"{s.get('provider')}:{s.get('name') or s.get('id')}" for s in report.scopes),
        names={(s["provider"], s["id"]): (s.get("name") or s["id"]) for s in report.scopes},
        rec_badge=REC_BADGE,
        severity_items=[(k, float(v), SEVERITY_COLOURS[k]) for k, v in summary["failures_by_severity"].items()],
        status_items=[(k.replace("_", " "), float(v), STATUS_COLOURS[k]) for k, v in summary["by_status"].items()],
        failing_count=failing_count, failure_groups=groups,
        errors=[r for r in report.results if r.status == "error"],
        waived=[r for r in report.results if r.status == "waived"],
        coverage=coverage,
        not_implemented=[(p, ids) for p, ids in sorted((coverage.get("not_implemented") or {}).items()) if ids],
        excluded=[(cid, c) for cid, c in sorted(report.controls.items()) if c.get("excluded")],
    )


# ------------------------------------------------------------------- compare
def render_compare(comparison: dict[str, Any]) -> str:
    """The comparison page: rows x tiers heat map and controls x rows matrix."""
    orgs = [o["label"] for o in comparison["organisations"]]
    tiers = comparison["tiers"]
    att = {(a["organisation"], a["tier"]): a for a in comparison["attainment"]}
    chart_items = []
    for t in tiers:
        for o in orgs:
            a = att.get((o, t))
            if a and a["pass_rate"] is not None:
                chart_items.append((f"{o[:24]} · {t}", round(a["pass_rate"] * 100, 1),
                                    STATUS_COLOURS.get(a["status"], "#616161")))
    note = ("Identifiers are HMAC-SHA256 pseudonyms." if comparison.get("anonymised")
            else "Not anonymised: contains organisation and scope identifiers.")
    return render("compare.html.j2", title="posture comparison", comparison=comparison, orgs=orgs, tiers=tiers,
                  att=att, chart_items=chart_items, note=note,
                  order=("pass", "waived", "fail", "error", "excluded", "not_applicable"))


# -------------------------------------------------------------------- plugin
def _write(report: Report, path: Path | None, console: Any) -> None:
    write_text(render_report(report), path)


def _write_comparison(comparison: dict[str, Any], path: Path | None, console: Any) -> None:
    write_text(render_compare(comparison), path)


def _write_history(history: Any, path: Path | None, console: Any) -> None:
    from posture.outputs.history_html import render_history

    write_text(render_history(history.trends, history.store, history.scans), path)


@hookimpl
def register_outputs(register: Any) -> None:
    register(Output(name="html", suffix=".html", write=_write,
                    description="Self-contained HTML report (tier attainment, failures, remediation, coverage)",
                    write_comparison=_write_comparison, write_history=_write_history))
