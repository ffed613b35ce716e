"""``posture plugins``: what is installed and what each plugin contributed."""

from __future__ import annotations

import json
from collections import Counter

import click

from posture.cli.common import plain_row


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def plugins(as_json: bool) -> None:
    """List loaded plugins, their providers, checks and outputs, and any that failed."""
    from posture.plugins import registry

    reg = registry()
    checks_per_plugin = Counter(reg.origins.get(cid, "?") for cid in reg.checks)
    rows = []
    for name in reg.loaded:
        rows.append({
            "plugin": name,
            "providers": sorted(p for p in reg.providers if reg.origins.get(p) == name),
            "outputs": sorted(o for o in reg.outputs if reg.origins.get(o) == name),
            "checks": checks_per_plugin.get(name, 0),
        })
    problems = [{"plugin": p.plugin, "stage": p.stage, "error": p.error} for p in reg.problems]
    if as_json:
        click.echo(json.dumps({"plugins": rows, "problems": problems}, indent=2))
        return
    from rich.markup import escape
    from rich.table import Table

    from posture.textsafe import console as make_console

    table = Table(title="posture plugins")
    for col in ("Plugin", "Providers", "Outputs", "Checks"):
        table.add_column(col)
    for r in rows:
        plain_row(table, r["plugin"], ", ".join(r["providers"]), ", ".join(r["outputs"]), str(r["checks"]))
    console = make_console()
    console.print(table)
    for p in problems:
        console.print(f"[red]failed[/red] {escape(p['plugin'])} ({escape(p['stage'])}): {escape(p['error'])}")
