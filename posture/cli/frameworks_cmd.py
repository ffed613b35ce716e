"""``posture frameworks``: list framework mappings, show one, and how much of it posture decides."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from posture.cli.common import plain_row
from posture.cli.tiers_cmd import console, echo_json, fail


def _load(name: str) -> Any:
    from posture.frameworks import FrameworkError, load_framework

    try:
        return load_framework(name)
    except FrameworkError as exc:
        fail(str(exc))


def _checks() -> Any:
    from posture.plugins import registry

    return registry().checks


@click.group()
def frameworks() -> None:
    """List framework mappings (CIS benchmarks ...) and their coverage by posture checks."""


@frameworks.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_cmd(as_json: bool) -> None:
    """The frameworks installed (tiers/frameworks/ and POSTURE_TIERS_PATH/frameworks/)."""
    from posture.frameworks import FrameworkError, coverage, list_frameworks

    problems: list[FrameworkError] = []
    fws = list_frameworks(problems)
    checks = _checks()
    rows = [{**coverage(fw, checks), "path": str(fw.path)} for fw in fws]
    for problem in problems:  # a broken file never hides the others; it still makes the command fail
        click.echo(f"posture: error: {problem}", err=True)
    if as_json:
        echo_json([{k: v for k, v in r.items() if k != "gaps"} for r in rows]
                  + [{"framework": Path(p.file).stem, "path": p.file, "error": str(p)} for p in problems])
        if problems:
            raise click.exceptions.Exit(2)
        return
    from rich.table import Table

    table = Table(title=f"{len(rows)} framework(s)")
    for col in ("id", "provider", "title", "recommendations", "automated covered", "manual"):
        table.add_column(col)
    for r in rows:
        plain_row(table, r["framework"], r["provider"], f"{r['title']} {r['version']}", r["recommendations"],
                  f"{r['automated_covered']}/{r['automated']}", r["manual"])
    console().print(table)
    if problems:
        raise click.exceptions.Exit(2)


@frameworks.command("show")
@click.argument("framework_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def show_cmd(framework_id: str, as_json: bool) -> None:
    """Every recommendation -> the checks that decide it; gaps and manual ones marked."""
    fw = _load(framework_id)
    checks = _checks()
    rows = []
    for rec in fw.recommendations:
        unknown = [c for c in rec.checks if c not in checks]
        if not rec.automated:
            state = "manual"
        elif not rec.checks or unknown:
            state = "gap"
        else:
            state = "covered"
        rows.append({"id": rec.id, "section": rec.section, "level": rec.level, "automated": rec.automated,
                     "title": rec.title, "checks": list(rec.checks), "parameters": rec.parameters,
                     "state": state, "reason": rec.reason or (f"unknown check(s): {', '.join(unknown)}"
                                                              if unknown else "")})
    if as_json:
        echo_json({"id": fw.id, "title": fw.title, "version": fw.version, "provider": fw.provider,
                   "source": fw.source, "recommendations": rows})
        return
    from rich.table import Table

    table = Table(title=f"{fw.id}: {fw.title} {fw.version} ({fw.provider})", caption=fw.source)
    for col in ("id", "level", "state", "title", "checks / reason"):
        table.add_column(col, overflow="fold")
    for r in rows:
        detail = "\n".join(r["checks"]) if r["checks"] else r["reason"]
        if r["parameters"]:
            detail += "\n(" + ", ".join(f"{k}={v}" for k, v in r["parameters"].items()) + ")"
        if r["checks"] and r["state"] != "covered" and r["reason"]:
            detail += f"\n{r['reason']}"
        plain_row(table, r["id"], f"L{r['level']}", r["state"], r["title"], detail)
    console().print(table)


@frameworks.command("coverage")
@click.argument("framework_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--fail-on-gap", is_flag=True, help="Exit 1 when an automated recommendation has no check.")
def coverage_cmd(framework_id: str, as_json: bool, fail_on_gap: bool) -> None:
    """How many automated recommendations posture decides, and the gaps."""
    from posture.frameworks import coverage

    fw = _load(framework_id)
    cov = coverage(fw, _checks())
    if as_json:
        echo_json(cov)
    else:
        con = console()
        con.print(f"{fw.id}: {cov['recommendations']} recommendations, {cov['automated']} automated "
                  f"({cov['automated_covered']} covered by posture checks), {cov['manual']} manual")
        for gap in cov["gaps"]:
            con.print(f"  gap {gap['id']}: {gap['title']} ({gap['reason']})", markup=False)
    if fail_on_gap and cov["gaps"]:
        raise click.exceptions.Exit(1)


@frameworks.command("validate")
@click.argument("path", type=click.Path(dir_okay=False, exists=True))
def validate_cmd(path: str) -> None:
    """Validate a framework file (schema, ids, parameters, check ids of installed plugins)."""
    from pathlib import Path

    from posture.frameworks import FrameworkError, check_mapping, load_framework

    try:
        fw = load_framework(Path(path))
        check_mapping(fw, _checks())
    except FrameworkError as exc:
        fail(str(exc))
    click.echo(f"{path}: valid ({fw.id}, {len(fw.recommendations)} recommendations)")
