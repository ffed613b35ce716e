"""``posture history`` (scans in the store) and ``posture diff OLD NEW`` (drift between two scans)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from posture.cli.common import fail

STORE_HELP = "History database URL or SQLite path (default: $POSTURE_STORE, else ~/.local/share/posture/history.sqlite)."


def open_store(url: str | None) -> Any:
    """The store for reading: a missing store is an error naming where posture looked."""
    from posture.history import Store, StoreError

    try:
        return Store(url, create=False)
    except StoreError as exc:
        fail(str(exc))


def load_scan(ref: str, store_url: str | None, store_cache: dict[str, Any]) -> tuple[Any, Any]:
    """A scan id from the store, or a JSON report path -> (report, status lookup for results it omits)."""
    from posture.history import StoreError

    if Path(ref).is_file():
        from posture.cli.compare_cmd import load_reports_or_exit

        return load_reports_or_exit((Path(ref),))[0], None
    if not ref.isdigit():
        fail(f"{ref}: neither a report file nor a scan id")
    if "store" not in store_cache:
        store_cache["store"] = open_store(store_url)
    try:
        store = store_cache["store"]
        return store.get(int(ref)), store.statuses(int(ref)).get
    except StoreError as exc:
        fail(str(exc))


def _scan_meta(ref: str, report: Any) -> dict[str, Any]:
    return {"ref": ref, "scan_id": report.metadata.get("scan_id"), "started_at": report.started_at,
            "finished_at": report.finished_at, "tier": report.tier.get("id"),
            "scopes": [f"{s.get('provider', '')}:{s.get('id', '')}" for s in report.scopes]}


@click.command()
@click.option("--store", envvar="POSTURE_STORE", help=STORE_HELP)
@click.option("--limit", type=click.IntRange(1), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def history(store: str | None, limit: int, as_json: bool) -> None:
    """List scans recorded in the history store, most recent first."""
    import sqlalchemy

    from posture.history import Store, StoreError, StoreMissing

    try:
        scans = Store(store, create=False).list(limit)
    except StoreMissing as exc:
        # Nothing recorded yet is a normal state on a new machine, not a failure.
        scans = []
        if not as_json:
            click.echo(f"{exc}; `posture scan` records every scan (unless --no-store).", err=True)
            return
    except (StoreError, sqlalchemy.exc.SQLAlchemyError) as exc:  # a message, never a traceback
        fail(str(exc))
    if as_json:
        click.echo(json.dumps([s.to_dict() for s in scans], indent=2))
        return
    from rich.markup import escape
    from rich.table import Table

    from posture.textsafe import console, printable

    table = Table(title=f"Scan history ({len(scans)} most recent)", title_justify="left")
    for col in ("Id", "Started", "Tier", "Scopes", "Pass", "Fail", "Error", "Waived"):
        table.add_column(col, justify="right" if col in ("Id", "Pass", "Fail", "Error", "Waived") else "left")
    for s in scans:
        table.add_row(str(s.id), escape(printable(s.started_at)), escape(printable(s.tier)),
                      escape(printable(", ".join(s.scopes))), str(s.passed), str(s.failed), str(s.errors),
                      str(s.waived))
    console().print(table)


@click.command()
@click.argument("old")
@click.argument("new")
@click.option("--store", envvar="POSTURE_STORE", help=STORE_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (new, fixed, unchanged) instead of tables.")
@click.option("--fail-on-new", is_flag=True, help="Exit 1 when NEW has failures OLD did not have.")
@click.option("--force", is_flag=True, help="Compare scans of different tiers or scopes anyway (failures in "
                                            "scopes the new scan left out are 'not assessed now').")
def diff(old: str, new: str, store: str | None, as_json: bool, fail_on_new: bool, force: bool) -> None:
    """Show new, fixed and unchanged failures between two scans (and old ones the new scan could not assess).

    OLD and NEW are scan ids from `posture history` or JSON report paths. Scans of different tiers or
    scopes are refused without --force: their difference is not drift.
    """
    from posture.history import coverage_gaps, differences
    from posture.history import diff as compute

    cache: dict[str, Any] = {}
    (old_report, _), (new_report, status_of) = load_scan(old, store, cache), load_scan(new, store, cache)
    unlike = differences(old_report, new_report)
    if unlike and not force:
        fail(f"scans {old} and {new} are not the same scan: {'; '.join(unlike)}; use --force to compare anyway")
    d = compute(old_report, new_report, status_of)
    gaps = coverage_gaps(old_report, new_report)
    if as_json:
        out = {"scans": {"old": _scan_meta(old, old_report), "new": _scan_meta(new, new_report)},
               "differences": unlike, "not_collected_now": gaps, **d.to_dict()}
        click.echo(json.dumps(out, indent=2))
    else:
        from rich.markup import escape as escape_markup
        from rich.table import Table
        from rich.text import Text

        from posture.textsafe import console as make_console
        from posture.textsafe import printable

        def escape(text: str) -> str:
            return escape_markup(printable(text))

        console = make_console()
        for line in unlike:
            console.print(Text(printable(f"warning: {line} (--force)"), style="yellow"))
        for line in gaps:
            console.print(Text(printable(f"not assessed now: {line}"), style="yellow"))
        for title, rows, style in (("New failures", d.new, "red"), ("Fixed", d.fixed, "green"),
                                   ("Unchanged failures", d.unchanged, "yellow"),
                                   ("Failing before, not assessed now", d.unassessed, "yellow")):
            if rows is d.unassessed and not rows:
                continue
            table = Table(title=f"{title} ({len(rows)})", title_style=style, title_justify="left")
            for col in ("Check", "Severity", "Scope", "Resource", "Now" if rows is d.fixed else "Status"):
                table.add_column(col)
            for r in rows:
                now = d.now_status.get(r.fingerprint, "absent") if rows is d.fixed else r.status
                table.add_row(escape(r.check_id), r.severity, escape(f"{r.provider}:{r.scope}"),
                              escape(r.resource_name or r.resource_id), escape(now))
            console.print(table)
    if fail_on_new and d.new:
        sys.exit(1)
