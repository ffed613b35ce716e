"""Options and helpers shared by the scanning commands."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click

from posture.cli import EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_OK, EXIT_USAGE
from posture.report import SEVERITY_ORDER, Report
from posture.terminal import info

DEFAULT_FORMATS = "console,json,sarif"


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print a clear one-line error (no traceback) and exit."""
    click.echo(f"posture: error: {message}", err=True)
    sys.exit(code)


def plain_row(table: Any, *cells: Any) -> None:
    """Add a table row shown as written: names from clouds and tier files are never rich markup."""
    from rich.text import Text

    from posture.textsafe import printable

    table.add_row(*(Text(printable(c, keep_newlines=True)) for c in cells))


def output_options(func: Callable[..., Any]) -> Callable[..., Any]:
    opts = [
        click.option("--tier", "-t", default="tier-1", show_default=True, envvar="POSTURE_TIER",
                     help="Tier id (tier-1, tier-2, tier-3) or path to an organisation tier file."),
        click.option("--format", "formats", default=DEFAULT_FORMATS, show_default=True, envvar="POSTURE_FORMAT",
                     help="Comma-separated outputs: console, json, sarif, html, junit, ocsf, csv (see `posture plugins`)."),
        click.option("--output-dir", "-o", type=click.Path(file_okay=False, path_type=Path),
                     default=Path("posture-out"), show_default=True, envvar="POSTURE_OUTPUT_DIR",
                     help="Where report files are written."),
        click.option("--fail-on", type=click.Choice(["none", *SEVERITY_ORDER]), default="none",
                     show_default=True, envvar="POSTURE_FAIL_ON", help="Exit 1 when a failure at or above this severity is found."),
        click.option("--strict", is_flag=True, help="Exit 3 when some checks could not be assessed."),
        click.option("--waivers", type=click.Path(dir_okay=False, exists=True, path_type=Path), envvar="POSTURE_WAIVERS",
                     help="Waiver file: matching failures become 'waived' (SARIF suppressions)."),
        click.option("--store", envvar="POSTURE_STORE",
                     help="Scan history: a SQLite path or database URL (postgresql+psycopg://...). `scan` "
                          "records every scan (default: ~/.local/share/posture/history.sqlite) and fills "
                          "SARIF baselineState from the previous scan of the same scopes and tier."),
        click.option("--no-store", is_flag=True, help="Do not record this scan in the history."),
        framework_option(),
    ]
    for opt in reversed(opts):
        func = opt(func)
    return func


SELECTION_KEYS = ("select_checks", "exclude_checks", "services", "severities", "select_controls")


def selection_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--check``, ``--exclude-check``, ``--service``, ``--severity``, ``--control``: narrow the tier."""
    opts = [
        click.option("--check", "select_checks", multiple=True, metavar="ID",
                     help="Only these checks (repeatable or comma-separated; globs: 'aws.s3.*')."),
        click.option("--exclude-check", "exclude_checks", multiple=True, metavar="ID",
                     help="Leave these checks out (repeatable or comma-separated; globs)."),
        click.option("--service", "services", multiple=True, metavar="NAME",
                     help="Only checks of this cloud service (s3, iam, storage, compute, ... or aws.s3)."),
        click.option("--severity", "severities", multiple=True, metavar="LEVEL",
                     help="Only checks of this severity (critical, high, medium, low, info; repeatable)."),
        click.option("--control", "select_controls", multiple=True, metavar="ID",
                     help="Only checks implementing this control (IAM-01, or a glob: 'LOG-*')."),
    ]
    for opt in reversed(opts):
        func = opt(func)
    return func


def selection_from(kwargs: dict[str, Any], checks: Any = None) -> Any:
    """Pop the selection options from ``kwargs``; a name that matches nothing installed is exit 2."""
    from posture.selection import Selection, SelectionError

    values = {k: kwargs.pop(k, ()) or () for k in SELECTION_KEYS}
    try:
        selection = Selection.from_options(values["select_checks"], values["exclude_checks"], values["services"],
                                           values["severities"], values["select_controls"])
        if selection.active:
            from posture.plugins import registry
            from posture.tiers import load_catalogue

            selection.validate(checks if checks is not None else registry().checks, load_catalogue().controls)
    except SelectionError as exc:
        fail(str(exc))
    return selection


def framework_option() -> Any:
    return click.option(
        "--framework", "frameworks", multiple=True, metavar="ID",
        help="Also report against this framework (repeatable), e.g. cis-aws-foundations-7.0: a framework "
             "section per recommendation (pass / fail / manual / not assessed); its checks are collected even "
             "when the tier does not select them. `posture frameworks list` shows the ids.")


def load_frameworks_or_exit(names: tuple[str, ...] | list[str], checks: Any = None) -> list[Any]:
    """Load each ``--framework``; a bad id or file (or a mapping to an unknown check) is exit 2."""
    from posture.frameworks import FrameworkError, check_mapping, load_framework

    out = []
    for name in dict.fromkeys(names):
        try:
            fw = load_framework(name)
            if checks is not None:
                check_mapping(fw, checks)
        except FrameworkError as exc:
            fail(str(exc))
        out.append(fw)
    return out


def load_tier_or_exit(tier: str) -> Any:
    from posture.tiers import TierError, load_tier

    try:
        return load_tier(tier)
    except TierError as exc:
        fail(str(exc))
    except FileNotFoundError as exc:
        fail(str(exc))


def parse_formats(formats: str) -> list[str]:
    from posture.plugins import registry

    names = [f.strip() for f in formats.split(",") if f.strip()]
    outputs = registry().outputs
    unknown = [n for n in names if n not in outputs]
    if unknown:
        fail(f"unknown format(s) {', '.join(unknown)}; available: {', '.join(sorted(outputs))}")
    return names


def writer_or_exit(output: str, document: str = "write") -> Callable[..., None]:
    """The installed output plugin ``output``'s writer of ``document`` (``write`` for a report,
    ``write_comparison``, ``write_history``); exit 2 when no such output or writer is installed."""
    from posture.plugins import registry

    out = registry().outputs.get(output)
    writer = getattr(out, document, None) if out is not None else None
    if writer is None:
        what = {"write": "a report", "write_comparison": "a comparison", "write_history": "the history"}[document]
        fail(f"no installed output writes {what} as {output} (`posture plugins` lists the outputs; "
             "POSTURE_PLUGINS may leave it out)")
    return writer


def store_url(store: str | None, no_store: bool, record_by_default: bool) -> str | None:
    """Where to record this scan: ``--store``, else the default store for ``scan``, never with ``--no-store``."""
    if no_store:
        return None
    if store:
        return store
    if record_by_default:
        from posture.history import default_store_url

        return default_store_url()
    return None


def installed_pipeline() -> Any:
    """The scan pipeline over every installed plugin: the command line is where the registry is chosen."""
    from posture.pipeline import Pipeline
    from posture.plugins import registry

    return Pipeline(registry())


def finish(report: Report, formats: list[str], output_dir: Path, fail_on: str, strict: bool,
           waivers: Path | None, store: str | None, console: Any = None, *, pipeline: Any = None) -> int:
    """Apply waivers and history, write every requested output through ``pipeline``, return the exit code."""
    from posture.textsafe import console as make_console

    console = console or make_console()
    pipeline = pipeline or installed_pipeline()
    if waivers is not None:
        from posture.waivers import apply_waivers

        apply_waivers(report, load_waivers_or_exit(waivers, report))
    if report.frameworks:
        from posture.frameworks import refresh_sections

        refresh_sections(report)
    db = scan_id = None
    if store:
        # Baseline and reserve an id now (SARIF and JSON carry them); record only once the outputs exist.
        from posture.history import Store, StoreError, fill_baseline

        try:
            db = Store(store)
            previous = db.previous(report)
            status_of = db.statuses(previous.metadata["scan_id"]).get if previous else None
            fill_baseline(report, previous, status_of)
            scan_id = db.begin(report)
        except StoreError as exc:
            fail(str(exc))

    try:
        written, broken = pipeline.write(report, formats, output_dir, console)
    except BaseException:
        if db is not None and scan_id is not None:  # an unwritable path, Ctrl-C: no half-recorded scan
            db.abandon(scan_id)
        raise
    for path in written:
        info(f"wrote {path}")
    for problem in broken:
        click.echo(f"posture: error: {problem}", err=True)
    if db is not None and scan_id is not None:
        if broken:
            db.abandon(scan_id)
            click.echo(f"posture: scan not recorded in the history: {len(broken)} output(s) failed", err=True)
        else:
            db.commit(scan_id, report)
        db.engine.dispose()
    return EXIT_USAGE if broken else exit_code(report, fail_on, strict)


def load_waivers_or_exit(path: Path, report: Report | None = None) -> list[Any]:
    """The waivers of ``path``, every check and control they name known (exit 2 with a did-you-mean).

    Known: the installed checks and the catalogue's controls, plus those of ``report`` (a saved report
    may come from other plugins).
    """
    from posture.plugins import registry
    from posture.tiers import TierError, load_catalogue
    from posture.waivers import WaiverError, load_waivers

    try:
        controls: set[str] | None = set(load_catalogue().controls)
    except TierError:
        controls = None  # a broken catalogue is reported by the tier loading, not here
    checks = set(registry().checks)
    if report is not None:
        checks |= set(report.checks)
        controls = None if controls is None else controls | set(report.controls)
    try:
        return load_waivers(path, known_checks=checks, known_controls=controls)
    except WaiverError as exc:
        fail(str(exc))


def exit_code(report: Report, fail_on: str, strict: bool) -> int:
    """From the summary alone: a streamed evaluation keeps no results."""
    summary = report.summary
    if fail_on != "none" and any(n for severity, n in summary["failures_by_severity"].items()
                                 if SEVERITY_ORDER[severity] >= SEVERITY_ORDER[fail_on]):
        return EXIT_FINDINGS
    if strict and not summary["complete"]:
        return EXIT_INCOMPLETE
    return EXIT_OK
