"""Console output: a rich summary of tier attainment and failures."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from posture.hookspecs import hookimpl
from posture.outputs import Output
from posture.report import SEVERITY_ORDER, Report, Result

STATUS_STYLE = {"attained": "green", "not_attained": "red", "incomplete": "yellow"}
SEVERITY_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan", "info": "dim"}
MAX_FAILURE_ROWS = 40


def failure_order(result: Result) -> tuple[int, str, str]:
    """The order failures are listed in: most severe first, then by check and resource name."""
    return -SEVERITY_ORDER.get(result.severity, 0), result.check_id, result.resource_name


def write(report: Report, path: Path | None, console: Any = None) -> None:
    from rich.markup import escape as escape_markup
    from rich.table import Table

    from posture.textsafe import console as make_console
    from posture.textsafe import printable

    def escape(text: str) -> str:
        """Neither rich markup nor terminal control sequences: names come from clouds and tier files."""
        return escape_markup(printable(text))

    console = console or make_console()
    tier = report.tier
    chain = " -> ".join(tier.get("chain", []))
    # names come from the cloud and from tier files: never rich markup, never terminal escapes
    console.print(f"[bold]posture[/bold] {report.tool.get('version', '')}  tier [bold]{escape(str(tier.get('id')))}"
                  f"[/bold] ({escape(str(tier.get('title', '')))}; {escape(chain)})  {len(report.scopes)} scope(s)"
                  f"  {report.requests} API request(s)")

    partial = bool(report.selection)
    att = Table(title="Tier attainment" + (" (partial: check selection)" if partial else ""), show_lines=False)
    att.add_column("Scope")
    tiers = list(dict.fromkeys(a.tier for a in report.attainment))
    for t in tiers:
        att.add_column(escape(t), justify="center")
    scopes = list(dict.fromkeys((a.provider, a.scope) for a in report.attainment))
    by_key = {(a.provider, a.scope, a.tier): a for a in report.attainment}
    for provider, scope in scopes:
        cells = []
        for t in tiers:
            a = by_key.get((provider, scope, t))
            if a is None:
                cells.append("-")
                continue
            style = STATUS_STYLE.get(a.status, "")
            cells.append(f"[{style}]{a.status.replace('_', ' ')}[/{style}] {a.pass_rate:.0%}"
                         + (" (partial)" if a.partial else ""))
        att.add_row(escape(f"{provider}:{scope}"), *cells)
    console.print(att)
    if partial:
        chosen = "; ".join(f"{k.replace('_', ' ')}: {', '.join(v)}" for k, v in report.selection.items())
        console.print(f"Selection: {escape(chosen)}. Only the controls these checks implement were assessed; "
                      "this is not the tier's full attainment.")

    for fw in report.frameworks:
        console.print(_framework_table(fw))

    # counted from the summary: a streamed evaluation hands over only the failures shown (top_failures)
    summary = report.summary
    console.print("Results: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in summary["by_status"].items() if v)
                  if summary["results"] else "Results: none (no resources matched the selected checks)")

    failures = [r for r in report.results if r.status == "fail"]
    failed = summary["by_status"]["fail"]
    if failures:
        table = Table(title=f"Failures ({failed})")
        for col in ("Severity", "Check", "Resource", "Scope/region"):
            # a terminal folds long names; elsewhere the console is wide enough that nothing is cut
            table.add_column(col, overflow="fold", no_wrap=not console.is_terminal)
        failures.sort(key=failure_order)
        for r in failures[:MAX_FAILURE_ROWS]:
            style = SEVERITY_STYLE.get(r.severity, "")
            table.add_row(f"[{style}]{r.severity}[/{style}]", escape(r.check_id), escape(r.resource_name),
                          escape(f"{r.scope}/{r.region}"))
        if failed > MAX_FAILURE_ROWS:
            table.caption = f"... and {failed - MAX_FAILURE_ROWS} more (see the JSON or SARIF output)"
        console.print(table)

    errors = report.coverage.get("errors", [])
    if errors:
        codes = Counter(e["code"] for e in errors)
        console.print(f"[yellow]Not assessed:[/yellow] {len(errors)} fact collection(s) failed ("
                      + escape(", ".join(f"{c} x{n}" for c, n in codes.most_common())) + ")")
    # Waivers someone has to renew, fix or delete.
    for w in report.coverage.get("expired_waivers") or []:
        console.print(f"[yellow]Waiver {escape(w['id'])} expired[/yellow] on {escape(w['expires'])}: "
                      f"{w.get('matching_failures', 0)} failure(s) it covered are back")
    unused = (report.coverage.get("waivers") or {}).get("unused") or []
    if unused:
        console.print(f"[yellow]Unused waiver(s)[/yellow] (matched no failure): {escape(', '.join(unused))}")
    for prob in report.coverage.get("plugin_problems", []):
        console.print(f"[yellow]Plugin {escape(prob['plugin'])} skipped[/yellow] ({escape(prob['stage'])}): "
                      f"{escape(prob['error'])}")


REC_STYLE = {"pass": "green", "fail": "red", "not_assessed": "yellow", "manual": "cyan", "not_applicable": "dim"}


def _framework_table(fw: dict[str, Any]) -> Any:
    """Score per framework (and per scope): passed automated recommendations over those that apply."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=escape(f"{fw['title']} {fw['version']} ({fw['id']})"))
    table.add_column("Scope")
    for col in ("score", "pass", "fail", "not assessed", "manual", "n/a"):
        table.add_column(col, justify="right")
    rows = [("all scopes", fw["summary"])] if len(fw["scopes"]) != 1 else []
    rows += [(f"{s['provider']}:{s['scope']}", s) for s in fw["scopes"]]
    for name, c in rows:
        table.add_row(escape(name), f"{c['score']:.0%}", *(
            f"[{REC_STYLE[k]}]{c[k]}[/{REC_STYLE[k]}]" if c[k] else "0"
            for k in ("pass", "fail", "not_assessed", "manual", "not_applicable")))
    failing = [r["id"] for r in fw["recommendations"] if r["status"] == "fail"]
    if failing:
        table.caption = escape("failing: " + ", ".join(failing))
    return table


def write_comparison(comparison: dict[str, Any], path: Path | None = None, console: Any = None) -> None:
    """The comparison's two matrices (tier attainment, controls) in the terminal."""
    from rich.table import Table

    from posture.textsafe import console as make_console

    console = console or make_console()
    styles = {"attained": "green", "not_attained": "red", "incomplete": "yellow", "not_evaluated": "dim",
              "pass": "green", "fail": "red", "error": "yellow", "not_assessed": "magenta", "excluded": "dim",
              "not_applicable": "dim"}
    orgs = [o["label"] for o in comparison["organisations"]]
    att = {(a["organisation"], a["tier"]): a for a in comparison["attainment"]}
    t = Table(title="Tier attainment", title_justify="left")
    t.add_column(comparison["group_by"].capitalize())
    signed = {o["label"]: o["verification"]["status"] for o in comparison["organisations"] if "verification" in o}
    if signed:
        t.add_column("Signed")
    for tier in comparison["tiers"]:
        t.add_column(tier)
    for org in orgs:
        cells = [f"[{'green' if signed[org] == 'verified' else 'red'}]{signed[org]}[/]"] if signed else []
        for tier in comparison["tiers"]:
            a = att[(org, tier)]
            rate = "" if a["pass_rate"] is None else f" {a['pass_rate']:.0%}"
            cells.append(f"[{styles[a['status']]}]{a['status'].replace('_', ' ')}[/]{rate}")
        t.add_row(_plain(org), *cells)
    console.print(t)
    for o in comparison["organisations"]:
        for entry in o.get("verification", {}).get("reports", []):
            for problem in entry.get("problems", []):
                console.print(f"unverified {_plain(o['label'])}: {_plain(problem)}", highlight=False)
    c = Table(title="Controls (pass/fail/error/excluded)", title_justify="left")
    c.add_column("Control")
    c.add_column("Sev.")
    for org in orgs:
        c.add_column(_plain(org))
    for ctrl in comparison["controls"]:
        cells = []
        for org in orgs:
            r = ctrl["results"][org]
            cells.append(f"[{styles[r['status']]}]{r['status'].replace('_', ' ')}[/] "
                         f"{r['pass'] + r['waived']}/{r['fail']}/{r['error']}/{r['excluded']}")
        c.add_row(ctrl["control"], ctrl["severity"], *cells)
    console.print(c)


def _plain(text: str) -> str:
    from rich.markup import escape

    from posture.textsafe import printable

    return escape(printable(text))


@hookimpl
def register_outputs(register: Any) -> None:
    register(Output("console", None, write, "Summary table in the terminal", write_comparison=write_comparison))
