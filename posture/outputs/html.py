"""Self-contained HTML: the single-scan report and the comparison page.

Everything is inline (CSS and SVG charts, no script, no CDN) and a
Content-Security-Policy forbids any script or network load, so the page opens
offline and a hostile resource name cannot run: every value from a report is
HTML-escaped, and remediation markdown is rendered with raw HTML disabled.
"""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from posture.hookspecs import hookimpl
from posture.outputs import Output, write_text
from posture.report import SEVERITY_ORDER, Report, Result

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
STATUS_COLOURS = {
    "pass": "#2e7d32", "attained": "#2e7d32", "fail": "#c62828", "not_attained": "#c62828",
    "error": "#ef6c00", "incomplete": "#ef6c00", "not_assessed": "#8d6e63", "waived": "#6a1b9a",
    "excluded": "#607d8b", "not_applicable": "#9e9e9e", "not_evaluated": "#bdbdbd",
}
SEVERITY_COLOURS = {"critical": "#7b1fa2", "high": "#c62828", "medium": "#ef6c00", "low": "#f9a825",
                    "info": "#607d8b"}
CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#212121;background:#fafafa}
header{background:#263238;color:#fff;padding:18px 28px}header h1{margin:0 0 4px;font-size:22px}
header .meta{color:#cfd8dc;font-size:13px}main{padding:8px 28px 40px;max-width:1280px}
h2{border-bottom:2px solid #cfd8dc;padding-bottom:4px;margin-top:32px}h3{margin:18px 0 6px}
table{border-collapse:collapse;width:100%;background:#fff;margin:8px 0}
th,td{border:1px solid #e0e0e0;padding:5px 8px;text-align:left;vertical-align:top}
th{background:#eceff1;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;border-radius:10px;padding:1px 9px;color:#fff;font-size:12px;font-weight:600;white-space:nowrap}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:14px 0}
.card{background:#fff;border:1px solid #e0e0e0;border-radius:6px;padding:10px 16px;min-width:110px}
.card b{display:block;font-size:24px}.muted{color:#757575}.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;word-break:break-all}
details{background:#fff;border:1px solid #e0e0e0;border-radius:6px;margin:10px 0;padding:6px 12px}
summary{cursor:pointer;font-weight:600}.remediation{background:#f5f5f5;border-left:4px solid #90a4ae;padding:4px 12px;margin:8px 0}
.remediation pre{white-space:pre-wrap}.cell{text-align:center}.charts{display:flex;flex-wrap:wrap;gap:28px}
footer{color:#9e9e9e;font-size:12px;padding:0 28px 20px}
"""


def esc(value: Any) -> str:
    """HTML-escape any value (quotes included: values also land in attributes)."""
    return html.escape("" if value is None else str(value), quote=True)


def markdown(text: str) -> str:
    """Render remediation markdown with raw HTML disabled (escaped) and unsafe link schemes refused."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).render(text or "")


def badge(status: str, label: str | None = None) -> str:
    colour = STATUS_COLOURS.get(status) or SEVERITY_COLOURS.get(status, "#616161")
    return f'<span class="badge" style="background:{colour}">{esc(label or status.replace("_", " "))}</span>'


def rate_bar(rate: float | None, width: int = 160) -> str:
    """An inline SVG bar for a pass rate in [0, 1]."""
    if rate is None:
        return '<span class="muted">n/a</span>'
    filled = max(0.0, min(1.0, float(rate))) * width
    colour = "#2e7d32" if rate >= 0.9 else "#ef6c00" if rate >= 0.6 else "#c62828"
    return (f'<svg width="{width + 48}" height="14" role="img" aria-label="pass rate {rate:.0%}">'
            f'<rect width="{width}" height="12" y="1" fill="#e0e0e0" rx="2"/>'
            f'<rect width="{filled:.1f}" height="12" y="1" fill="{colour}" rx="2"/>'
            f'<text x="{width + 6}" y="12" font-size="11" fill="#424242">{rate:.0%}</text></svg>')


def bar_chart(title: str, items: list[tuple[str, float, str]], width: int = 360, label_w: int = 120) -> str:
    """A horizontal SVG bar chart of (label, value, colour)."""
    top = max((v for _, v, _ in items), default=0) or 1
    row = 22
    parts = [f'<svg width="{width}" height="{row * len(items) + 28}" role="img" aria-label="{esc(title)}">',
             f'<text x="0" y="14" font-size="13" font-weight="600">{esc(title)}</text>']
    for i, (label, value, colour) in enumerate(items):
        y = 24 + i * row
        w = (width - label_w - 50) * value / top
        parts.append(f'<text x="0" y="{y + 12}" font-size="12">{esc(label)}</text>'
                     f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="15" fill="{colour}" rx="2"/>'
                     f'<text x="{label_w + w + 5:.1f}" y="{y + 12}" font-size="12">{esc(f"{value:g}")}</text>')
    parts.append("</svg>")
    return "".join(parts)


def stacked_bar(counts: dict[str, int], order: Iterable[str], width: int = 120) -> str:
    """A small stacked SVG bar of status counts (title tooltips give the numbers)."""
    order = list(order)
    total = sum(counts.get(s, 0) for s in order)
    if not total:
        return '<svg width="0" height="0"></svg>'
    x, parts = 0.0, [f'<svg width="{width}" height="10" role="img">']
    for s in order:
        n = counts.get(s, 0)
        if n:
            w = width * n / total
            parts.append(f'<rect x="{x:.1f}" width="{w:.1f}" height="10" fill="{STATUS_COLOURS[s]}">'
                         f'<title>{esc(s)}: {n}</title></rect>')
            x += w
    parts.append("</svg>")
    return "".join(parts)


def page(title: str, subtitle: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
        f'<header><h1>{esc(title)}</h1><div class="meta">{subtitle}</div></header>'
        f"<main>{body}</main><footer>Generated by posture. Self-contained: no scripts, no network access.</footer>"
        "</body></html>\n"
    )


def _table(headers: list[str], rows: list[list[str]], empty: str = "None.") -> str:
    if not rows:
        return f'<p class="muted">{esc(empty)}</p>'
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


# ----------------------------------------------------------------- single scan
def _scope_names(report: Report) -> dict[tuple[str, str], str]:
    return {(s["provider"], s["id"]): (s.get("name") or s["id"]) for s in report.scopes}


def _attainment_section(report: Report) -> str:
    names = _scope_names(report)
    rows = []
    for a in report.attainment:
        failing = [c.control for c in a.controls if c.status == "fail"]
        gaps = [c.control for c in a.controls if c.status in ("error", "not_assessed")]
        name = names.get((a.provider, a.scope), a.scope)
        rows.append([
            esc(a.tier), esc(a.provider),
            f'{esc(name)}<br><span class="mono muted">{esc(a.scope)}</span>',
            badge(a.status), rate_bar(a.pass_rate),
            esc(", ".join(failing)) or '<span class="muted">none</span>',
            esc(", ".join(gaps)) or '<span class="muted">none</span>',
        ])
    note = ""
    if report.selection:
        chosen = "; ".join(f"{k.replace('_', ' ')}: {', '.join(v)}" for k, v in report.selection.items())
        note = (f'<p><b>Partial</b>: check selection ({esc(chosen)}). Only the controls these checks implement '
                "were assessed; this is not the tier's full attainment.</p>")
    return "<h2 id=\"attainment\">Tier attainment</h2>" + note + _table(
        ["Tier", "Provider", "Scope", "Status", "Pass rate", "Failing controls", "Not assessed"], rows,
        "No tier attainment in this report.")


REC_BADGE = {"pass": "pass", "fail": "fail", "not_assessed": "error", "manual": "excluded",
             "not_applicable": "not_applicable"}


def _frameworks_section(report: Report) -> str:
    """Per framework: score, then every recommendation with its status and the results behind it."""
    out = []
    for fw in report.frameworks:
        s = fw["summary"]
        out.append(f'<h2 id="framework-{esc(fw["id"])}">{esc(fw["title"])} {esc(fw["version"])}</h2>'
                   f'<p>{rate_bar(s["score"])} <b>{s["score"]:.0%}</b> of the automated recommendations that apply '
                   f'pass: {esc(s["pass"])} pass, {esc(s["fail"])} fail, {esc(s["not_assessed"])} not assessed, '
                   f'{esc(s["manual"])} manual, {esc(s["not_applicable"])} not applicable. '
                   f'<span class="muted">{esc(fw["source"])}</span></p>')
        if len(fw["scopes"]) > 1:
            out.append(_table(["Scope", "Score", "Pass", "Fail", "Not assessed"], [
                [esc(c["scope"]), rate_bar(c["score"]), esc(c["pass"]), esc(c["fail"]), esc(c["not_assessed"])]
                for c in fw["scopes"]]))
        rows = []
        for rec in fw["recommendations"]:
            counts = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in rec["results_by_status"].items())
            detail = "<br>".join(f'<span class="mono">{esc(c)}</span>' for c in rec["checks"])
            if rec["reason"]:
                detail += ("<br>" if detail else "") + f'<span class="muted">{esc(rec["reason"])}</span>'
            rows.append([esc(rec["id"]), f"L{esc(rec['level'])}", esc(rec["title"]),
                         badge(REC_BADGE.get(rec["status"], "error"), rec["status"].replace("_", " ")),
                         detail, esc(counts) or '<span class="muted">no resources</span>'])
        out.append(f"<details><summary>{len(rows)} recommendations</summary>"
                   + _table(["Id", "Level", "Recommendation", "Status", "Checks", "Results"], rows) + "</details>")
    return "".join(out)


def _summary_section(report: Report) -> str:
    s = report.summary
    cards = "".join(f'<div class="card"><span class="muted">{esc(k.replace("_", " "))}</span><b>{esc(v)}</b></div>'
                    for k, v in s["by_status"].items())
    sev = [(k, float(v), SEVERITY_COLOURS[k]) for k, v in s["failures_by_severity"].items()]
    status = [(k.replace("_", " "), float(v), STATUS_COLOURS[k]) for k, v in s["by_status"].items()]
    return (f'<div class="cards">{cards}</div><div class="charts">'
            f'{bar_chart("Failures by severity", sev)}{bar_chart("Results by status", status)}</div>')


def _resource_rows(results: list[Result], names: dict[tuple[str, str], str], extra: str = "") -> list[list[str]]:
    rows = []
    for r in results:
        row = [f'{esc(r.resource_name)}<br><span class="mono muted">{esc(r.resource_id)}</span>',
               esc(names.get((r.provider, r.scope), r.scope)), esc(r.region), esc(r.message)]
        if extra == "waiver":
            w = r.waiver or {}
            row.append(f'{esc(w.get("id"))}: {esc(w.get("justification") or r.justification)}'
                       f'<br><span class="muted">owner {esc(w.get("owner"))}, expires {esc(w.get("expires"))}</span>')
        rows.append(row)
    return rows


def _failures_section(report: Report) -> str:
    names = _scope_names(report)
    failing = [r for r in report.results if r.status == "fail"]
    by_control: dict[str, list[Result]] = defaultdict(list)
    for r in failing:
        for cid in r.controls or ["(no control)"]:
            by_control[cid].append(r)

    def control_key(cid: str) -> tuple[int, str]:
        worst = max(SEVERITY_ORDER.get(r.severity, 0) for r in by_control[cid])
        return (-worst, cid)

    parts = [f'<h2 id="failures">Failures by control ({len(failing)})</h2>']
    if not failing:
        parts.append('<p class="muted">No failures.</p>')
    for cid in sorted(by_control, key=control_key):
        results = by_control[cid]
        severity = max((r.severity for r in results), key=lambda s: SEVERITY_ORDER.get(s, 0))
        title = report.controls.get(cid, {}).get("title", "")
        parts.append(f'<details open><summary>{badge(severity)} {esc(cid)} {esc(title)} '
                     f'<span class="muted">({len(results)} failing)</span></summary>')
        by_check: dict[str, list[Result]] = defaultdict(list)
        for r in results:
            by_check[r.check_id].append(r)
        for check_id in sorted(by_check):
            info = report.checks.get(check_id, {})
            parts.append(f'<h3><span class="mono">{esc(check_id)}</span> {esc(info.get("title", ""))}</h3>')
            if info.get("remediation"):
                parts.append(f'<div class="remediation"><b>Remediation</b>{markdown(info["remediation"])}</div>')
            parts.append(_table(["Resource", "Scope", "Region", "Finding"], _resource_rows(by_check[check_id], names)))
        parts.append("</details>")
    return "".join(parts)


def _other_results_section(report: Report) -> str:
    names = _scope_names(report)
    errors = [r for r in report.results if r.status == "error"]
    waived = [r for r in report.results if r.status == "waived"]
    out = [f'<h2 id="errors">Not assessed ({len(errors)})</h2>',
           _table(["Resource", "Scope", "Region", "Reason"], _resource_rows(errors, names), "Every check was assessed."),
           f'<h2 id="waived">Waived ({len(waived)})</h2>',
           _table(["Resource", "Scope", "Region", "Finding", "Waiver"], _resource_rows(waived, names, "waiver"),
                  "No waived failures.")]
    return "".join(out)


def _coverage_section(report: Report) -> str:
    cov = report.coverage or {}
    out = ['<h2 id="coverage">Coverage gaps</h2>']
    errs = [[esc(e.get("provider")), esc(e.get("scope")), esc(e.get("region")), esc(e.get("fact_type")),
             esc(e.get("code")), esc(e.get("message"))] for e in cov.get("errors", [])]
    out.append("<h3>Collection errors</h3>" + _table(
        ["Provider", "Scope", "Region", "Fact type", "Code", "Message"], errs, "No collection errors."))
    ni = [[esc(p), esc(", ".join(ids))] for p, ids in sorted((cov.get("not_implemented") or {}).items()) if ids]
    out.append("<h3>Controls without a check on this provider</h3>" + _table(
        ["Provider", "Controls"], ni, "Every control of the tier has a check on each provider."))
    excluded = [[esc(cid), esc(c.get("title")), esc(c.get("justification"))]
                for cid, c in sorted(report.controls.items()) if c.get("excluded")]
    out.append("<h3>Excluded by the tier</h3>" + _table(["Control", "Title", "Justification"], excluded,
                                                      "No control is excluded."))
    expired = [[esc(w.get("id")), esc(w.get("check") or w.get("control")), esc(w.get("resource")),
                esc(w.get("owner")), esc(w.get("expires")), esc(w.get("matching_failures", ""))]
               for w in cov.get("expired_waivers", [])]
    out.append("<h3>Expired waivers</h3>" + _table(
        ["Waiver", "Check / control", "Resource pattern", "Owner", "Expired", "Failures it would cover"],
        expired, "No expired waivers."))
    probs = [[esc(p.get("plugin")), esc(p.get("stage")), esc(p.get("error"))] for p in cov.get("plugin_problems", [])]
    if probs:
        out.append("<h3>Plugin problems</h3>" + _table(["Plugin", "Stage", "Error"], probs))
    absent = cov.get("absent") or []
    if absent:
        rows = [[esc(a.get("check_id")), f'{esc(a.get("resource_name"))}<br><span class="mono muted">'
                 f'{esc(a.get("resource_id"))}</span>', esc(a.get("scope"))] for a in absent]
        out.append(f"<h3>Fixed since the previous scan ({len(absent)})</h3>" + _table(["Check", "Resource", "Scope"], rows))
    return "".join(out)


def render_report(report: Report) -> str:
    """The single-scan HTML report."""
    tier = report.tier.get("title") or report.tier.get("id", "")
    scopes = ", ".join(f"{s.get('provider')}:{s.get('name') or s.get('id')}" for s in report.scopes)
    subtitle = (f"Tier <b>{esc(tier)}</b> ({esc(report.tier.get('id', ''))}) &middot; {esc(scopes)} &middot; "
                f"{esc(report.started_at)} &ndash; {esc(report.finished_at)} &middot; "
                f"{esc(report.tool.get('name', 'posture'))} {esc(report.tool.get('version', ''))}")
    body = (_attainment_section(report) + _frameworks_section(report) + _summary_section(report)
            + _failures_section(report)
            + _other_results_section(report) + _coverage_section(report))
    return page("posture report", subtitle, body)


# ------------------------------------------------------------------- compare
def render_compare(comparison: dict[str, Any]) -> str:
    """The comparison page: rows x tiers heat map and controls x rows matrix."""
    orgs = [o["label"] for o in comparison["organisations"]]
    tiers = comparison["tiers"]
    att = {(a["organisation"], a["tier"]): a for a in comparison["attainment"]}
    rows = []
    for o in comparison["organisations"]:
        signed = o.get("verification", {}).get("status")
        cells = [f'{esc(o["label"])}<br><span class="muted">{esc(", ".join(o["providers"]))} &middot; '
                 f'{len(o["scopes"])} scope(s)</span>'
                 + (f'<br>{badge("attained" if signed == "verified" else "not_attained", signed)}' if signed else "")]
        for t in tiers:
            a = att.get((o["label"], t))
            if a is None or a["status"] == "not_evaluated":
                cells.append(f'<div class="cell">{badge("not_evaluated", "not evaluated")}</div>')
                continue
            cells.append(f'<div class="cell">{badge(a["status"])}<br>{rate_bar(a["pass_rate"], 110)}'
                         f'<br><span class="muted">{a["scopes_attained"]}/{a["scopes"]} scopes attain</span></div>')
        rows.append(cells)
    tier_table = _table([comparison["group_by"].capitalize()] + tiers, rows)
    chart_items = []
    for t in tiers:
        for o in orgs:
            a = att.get((o, t))
            if a and a["pass_rate"] is not None:
                chart_items.append((f"{o[:24]} · {t}", round(a["pass_rate"] * 100, 1),
                                    STATUS_COLOURS.get(a["status"], "#616161")))
    order = ("pass", "waived", "fail", "error", "excluded", "not_applicable")
    crow = []
    for c in comparison["controls"]:
        cells = [f'<b>{esc(c["control"])}</b> {badge(c["severity"]) if c["severity"] else ""}'
                 f'<br><span class="muted">{esc(c["title"])}</span>']
        for o in orgs:
            r = c["results"].get(o)
            if r is None:
                cells.append("")
                continue
            counts = (f'{r["pass"]} pass &middot; {r["fail"]} fail &middot; {r["error"]} error'
                      + (f' &middot; {r["excluded"]} excl.' if r["excluded"] else "")
                      + (f' &middot; {r["waived"]} waived' if r["waived"] else ""))
            cells.append(f'<div class="cell">{badge(r["status"])}<br>{stacked_bar(r, order)}'
                         f'<br><span class="muted">{counts}</span></div>')
        crow.append(cells)
    control_table = _table(["Control"] + orgs, crow)
    note = ("Identifiers are HMAC-SHA256 pseudonyms." if comparison.get("anonymised")
            else "Not anonymised: contains organisation and scope identifiers.")
    subtitle = (f"{len(orgs)} {esc(comparison['group_by'])}(s) &middot; tiers {esc(', '.join(tiers))} "
                f"&middot; generated {esc(comparison['generated_at'])} &middot; {esc(note)}")
    body = (f'<h2>Tier attainment</h2>{tier_table}<div class="charts">'
            f'{bar_chart("Pass rate (%) per tier", chart_items, width=640, label_w=250)}</div>'
            f"<h2>Controls</h2>{control_table}")
    return page("posture comparison", subtitle, body)


# -------------------------------------------------------------------- plugin
def _write(report: Report, path: Path | None, console: Any) -> None:
    write_text(render_report(report), path)


@hookimpl
def register_outputs(register: Any) -> None:
    register(Output(name="html", suffix=".html", write=_write,
                    description="Self-contained HTML report (tier attainment, failures, remediation, coverage)"))
