"""``posture tiers``: list, show, compare and validate tiers; map classifications to tiers."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from posture.cli.common import plain_row

EXIT_USAGE = 2


def console() -> Any:
    """A rich console on the current stdout (CliRunner swaps it), wide when not a terminal."""
    from posture.textsafe import console as make_console

    return make_console(file=sys.stdout)


def fail(message: str) -> NoReturn:
    """Print a configuration error to stderr and exit 2 (no traceback)."""
    click.echo(f"posture: error: {message}", err=True)
    raise click.exceptions.Exit(EXIT_USAGE)


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=False, default=str))


def load(name_or_path: str) -> Any:
    from posture.tiers import TierError, load_tier

    try:
        return load_tier(name_or_path)
    except TierError as exc:
        fail(str(exc))


def _fmt(value: Any) -> str:
    from posture.tiers import format_value

    return format_value(value)


@click.group()
def tiers() -> None:
    """List, show, validate and compare tiers."""


@tiers.command("list")
@click.option("--all", "include_extra", is_flag=True, help="Also list tiers found on POSTURE_TIERS_PATH.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_cmd(include_extra: bool, as_json: bool) -> None:
    """List the standard tiers (and, with --all, those on POSTURE_TIERS_PATH)."""
    from posture.tiers import TierError, list_tiers

    try:
        found = list_tiers(include_extra=include_extra)
    except TierError as exc:
        fail(str(exc))
    rows = [{
        "id": t.id, "title": t.title, "extends": t.chain[-2] if len(t.chain) > 1 else None,
        "classifications": t.classifications, "controls": len(t.active_controls()),
        "excluded": len(t.excluded_controls()), "path": str(t.path), "description": t.description,
    } for t in found]
    if as_json:
        echo_json(rows)
        return
    from rich.table import Table

    table = Table(title="Tiers")
    for col in ("id", "title", "extends", "classifications", "controls", "excluded", "path"):
        table.add_column(col)
    for r in rows:
        plain_row(table, r["id"], r["title"], r["extends"] or "-", ", ".join(r["classifications"]),
                      str(r["controls"]), str(r["excluded"]), r["path"])
    console().print(table)


@tiers.command("show")
@click.argument("tier")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def show_cmd(tier: str, as_json: bool) -> None:
    """Show a resolved tier: every control, its parameters and where each value came from."""
    resolved = load(tier)
    if as_json:
        echo_json(resolved.to_dict())
        return
    from rich.table import Table

    con = console()
    con.print(f"[bold]{resolved.id}[/bold]: {resolved.title}  ({' -> '.join(resolved.chain)})")
    if resolved.description:
        con.print(resolved.description)
    if resolved.classifications:
        con.print(f"classifications: {', '.join(resolved.classifications)}")
    con.print(f"file: {resolved.path}")
    table = Table(title=f"{len(resolved.active_controls())} controls, {len(resolved.excluded_controls())} excluded")
    for col in ("control", "title", "severity", "introduced by", "parameters (value <- source)", "status"):
        table.add_column(col)
    for rc in resolved.controls.values():
        params = "\n".join(
            f"{n} = {_fmt(v)} <- {rc.sources.get(n, 'catalogue default')}"
            + (f" (override: {rc.overrides[n]})" if n in rc.overrides else "")
            for n, v in sorted(rc.parameters.items()))
        status = f"excluded by {rc.excluded_by}: {rc.justification}" if rc.excluded else "active"
        plain_row(table, rc.id, rc.spec.title, rc.spec.severity, rc.introduced_by, params or "-", status)
    con.print(table)


@tiers.command("diff")
@click.argument("lower")
@click.argument("higher")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def diff_cmd(lower: str, higher: str, as_json: bool) -> None:
    """Show what stepping up from LOWER to HIGHER demands: new controls and changed parameters."""
    from posture.tiers import diff_tiers

    diff = diff_tiers(load(lower), load(higher))
    if as_json:
        echo_json(diff)
        return
    from rich.markup import escape
    from rich.table import Table

    con = console()
    con.print(f"[bold]{escape(diff['from'])} -> {escape(diff['to'])}[/bold]: {len(diff['added'])} controls added, "
              f"{len(diff['changed'])} parameters changed, {len(diff['dropped'])} controls dropped")
    if diff["added"]:
        table = Table(title="Controls added")
        for col in ("control", "title", "severity", "parameters"):
            table.add_column(col)
        for c in diff["added"]:
            params = ", ".join(f"{n} = {_fmt(p['value'])}" for n, p in c["parameters"].items())
            plain_row(table, c["id"], c["title"], c["severity"], params or "-")
        con.print(table)
    if diff["changed"]:
        table = Table(title="Parameters changed")
        for col in ("control", "parameter", "from", "to", "set by", "direction"):
            table.add_column(col)
        for c in diff["changed"]:
            direction = "tighter" if c["tighter"] else f"looser (override: {c['override']})"
            plain_row(table, c["control"], c["parameter"], _fmt(c["from"]), _fmt(c["to"]), c["source"], direction)
        con.print(table)
    if diff["dropped"]:
        table = Table(title="Controls dropped")
        for col in ("control", "title", "excluded by", "justification"):
            table.add_column(col)
        for c in diff["dropped"]:
            plain_row(table, c["id"], c["title"], c["excluded_by"] or "-", c["justification"])
        con.print(table)


def _validate_one(path: Path) -> str:
    """Validate a tier file, or the catalogue when the file is one; returns a summary."""
    from posture.tiers import load_catalogue, read_document, validate_tier_file

    doc = read_document(path)
    if isinstance(doc.data, dict) and "catalogue" in doc.data:
        cat = load_catalogue(path)
        return f"catalogue {cat.name} v{cat.version}, {len(cat.controls)} controls"
    tier = validate_tier_file(path)
    return (f"tier {tier.id} ({' -> '.join(tier.chain)}), {len(tier.active_controls())} controls"
            + (f", {len(tier.excluded_controls())} excluded" if tier.excluded_controls() else ""))


@tiers.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def validate_cmd(files: tuple[Path, ...], as_json: bool) -> None:
    """Validate tier files (or the control catalogue): exit 0 when valid, 2 with the precise problem."""
    from posture.tiers import TierError

    results: list[dict[str, Any]] = []
    failed = False
    for path in files:
        try:
            summary = _validate_one(path)
            results.append({"file": str(path), "valid": True, "summary": summary})
            if not as_json:
                click.echo(f"{path}: valid ({summary})")
        except TierError as exc:
            failed = True
            results.append({"file": str(path), "valid": False, "error": exc.to_dict(), "message": str(exc)})
            if not as_json:
                click.echo(f"posture: error: {exc}", err=True)
    if as_json:
        echo_json(results)
    if failed:
        raise click.exceptions.Exit(EXIT_USAGE)


@tiers.command("for-classification")
@click.argument("level")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def for_classification_cmd(level: str, as_json: bool) -> None:
    """Print the standard tier for a data-classification LEVEL (e.g. confidential -> tier-2)."""
    from posture.tiers import TierError, classification_level

    try:
        lvl = classification_level(level)
    except TierError as exc:
        fail(str(exc))
    if as_json:
        echo_json({"level": level, "classification": lvl.id, "title": lvl.title, "tier": lvl.tier,
                   "description": lvl.description})
        return
    click.echo(lvl.tier)


def _add_equivalence() -> None:
    """Registered from its own module (NIST baseline mapping is its own job)."""
    from posture.cli.equivalence_cmd import equivalence_cmd

    tiers.add_command(equivalence_cmd)


_add_equivalence()
