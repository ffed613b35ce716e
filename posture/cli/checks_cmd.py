"""``posture checks``: list registered checks and show control coverage per provider."""

from __future__ import annotations

from typing import Any

import click

from posture.cli.common import plain_row, selection_from, selection_options
from posture.cli.tiers_cmd import console, echo_json, load


def _registry() -> Any:
    from posture.plugins import registry

    return registry()


@click.group()
def checks() -> None:
    """List checks and control coverage."""


@checks.command("list")
@click.option("--tier", "tier_name", default=None, help="Only checks implementing an active control of this tier.")
@click.option("--provider", "providers", multiple=True, help="Only checks of this provider (repeatable).")
@selection_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON (a list of checks) on standard output.")
def list_cmd(tier_name: str | None, providers: tuple[str, ...], as_json: bool, **selection_kwargs: Any) -> None:
    """List registered checks: id, provider, service, controls, fact type, severity.

    The selection options are those of `scan`, so this shows exactly what a narrowed scan runs.
    """
    from posture.engine import check_severity
    from posture.selection import service_of
    from posture.tiers import load_catalogue

    reg = _registry()
    selection = selection_from(selection_kwargs, reg.checks)
    tier = load(tier_name) if tier_name else None
    active = {c.id for c in tier.active_controls()} if tier is not None else None
    catalogue = load_catalogue().controls

    def severity(check: Any) -> str:
        if tier is not None:
            return check_severity(tier, check)
        levels = [catalogue[c].severity for c in check.controls if c in catalogue]
        return check.severity or max(levels, key=("info", "low", "medium", "high", "critical").index, default="medium")

    rows = []
    for cid, check in sorted(reg.checks.items()):
        if providers and check.provider not in providers:
            continue
        if active is not None and not active.intersection(check.controls):
            continue
        if not selection.matches(check, severity(check)):
            continue
        rows.append({"id": cid, "provider": check.provider, "service": service_of(check),
                     "controls": list(check.controls), "fact_type": check.fact_type, "severity": severity(check),
                     "title": check.title, "plugin": reg.origins.get(cid, "")})
    if as_json:
        echo_json(rows)
        return
    from rich.table import Table

    table = Table(title=f"{len(rows)} checks" + (f" for {tier_name}" if tier_name else ""))
    for col in ("check", "provider", "service", "controls", "fact type", "severity", "title"):
        table.add_column(col)
    for r in rows:
        plain_row(table, r["id"], r["provider"], r["service"], ", ".join(r["controls"]), r["fact_type"],
                  r["severity"], r["title"])
    console().print(table)


@checks.command("coverage")
@click.option("--tier", "tier_name", default="tier-3", show_default=True,
              help="Tier whose active controls are enumerated (tier-3 = the whole catalogue).")
@click.option("--provider", "providers", multiple=True, help="Only these providers (default: every registered one).")
@click.option("--fail-on-gap", is_flag=True, help="Exit 1 when a control has no check on some provider.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def coverage_cmd(tier_name: str, providers: tuple[str, ...], fail_on_gap: bool, as_json: bool) -> None:
    """Controls x providers: the checks implementing each control, or `not yet implemented`."""
    from posture.coverage import IMPLEMENTED, NOT_APPLICABLE, compute_coverage

    tier = load(tier_name)
    reg = _registry()
    wanted = list(providers) or sorted(reg.providers)
    unknown = sorted(set(wanted) - set(reg.providers))
    if unknown:
        from posture.cli.tiers_cmd import fail

        fail(f"unknown provider(s) {', '.join(unknown)} (registered: {', '.join(sorted(reg.providers)) or 'none'})")
    matrix = compute_coverage(tier, reg.checks, wanted)
    if as_json:
        echo_json(matrix.to_dict())
    else:
        from rich.table import Table

        table = Table(title=f"Control coverage for {tier.id} ({' -> '.join(tier.chain)})")
        table.add_column("control")
        table.add_column("tier")
        table.add_column("title")
        for p in matrix.providers:
            table.add_column(p)
        for cid in matrix.controls:
            cells = []
            for p in matrix.providers:
                status = matrix.status(p, cid)
                if status == IMPLEMENTED:
                    cells.append("\n".join(matrix.implemented[p][cid]))
                elif status == NOT_APPLICABLE:
                    cells.append(f"n/a: {matrix.not_applicable[p][cid]}")
                else:
                    cells.append("not yet implemented")
            plain_row(table, cid, matrix.introduced_by.get(cid, ""), tier.controls[cid].spec.title, *cells)
        con = console()
        con.print(table)
        gaps = matrix.gap_lines()
        con.print(f"{len(gaps)} gap(s)" + (": " + ", ".join(gaps) if gaps else ""))
        if not matrix.providers:
            con.print("no provider plugin is registered")
    if fail_on_gap and not matrix.complete:
        raise click.exceptions.Exit(1)
