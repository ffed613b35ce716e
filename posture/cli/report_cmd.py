"""``posture report``: render a saved JSON report (HTML, JUnit, JSON), optionally with waivers."""

from __future__ import annotations

from pathlib import Path

import click

from posture.cli.common import fail, writer_or_exit
from posture.terminal import info
from posture.textsafe import console as make_console


@click.command()
@click.argument("report_path", metavar="[REPORT.json]", type=click.Path(path_type=Path), required=False)
@click.option("--history", is_flag=True,
              help="Instead of one report: a page of tier attainment and failures by severity over time per "
                   "scope, from the scans recorded in the history store (--html, default posture-history.html).")
@click.option("--store", envvar="POSTURE_STORE", help="History store for --history (SQLite path or database URL; "
              "default: ~/.local/share/posture/history.sqlite).")
@click.option("--limit", type=click.IntRange(1), default=100, show_default=True,
              help="With --history: the most recent scans drawn.")
@click.option("--html", "html_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the self-contained HTML report here.")
@click.option("--junit", "junit_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write JUnit XML here (a testsuite per check).")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the (re-waived) JSON report here.")
@click.option("--waivers", type=click.Path(dir_okay=False, path_type=Path),
              help="Apply this waiver file before rendering.")
@click.option("--framework", "frameworks", multiple=True, metavar="ID",
              help="Add a framework section computed from the report's results (repeatable); a "
                   "check the report did not evaluate leaves its recommendations not assessed.")
def report(report_path: Path | None, history: bool, store: str | None, limit: int, html_out: Path | None,
           junit_out: Path | None, json_out: Path | None, waivers: Path | None, frameworks: tuple[str, ...]) -> None:
    """Render a JSON report written by `posture scan --format json`, or (--history) posture over time.

    \b
    Examples:
      posture report posture-out/posture-report.json --html report.html
      posture report --history --store postgresql+psycopg://posture@db/posture --html trends.html
    """
    from posture.cli.compare_cmd import load_reports_or_exit

    if history:
        if report_path is not None or junit_out or json_out or waivers or frameworks:
            fail("--history draws the history store: give no REPORT.json, --junit, --json, --waivers or --framework")
        _history(store, limit, html_out or Path("posture-history.html"))
        return
    if report_path is None:
        fail("give REPORT.json (or --history for the history store)")
    if not (html_out or junit_out or json_out):
        fail("nothing to write: give --html FILE, --junit FILE and/or --json FILE")
    # the output plugins render (the same writers as `posture scan --format`); all found before writing
    writers = [(writer_or_exit(name), path) for name, path in
               (("html", html_out), ("junit", junit_out), ("json", json_out)) if path is not None]
    (rep,) = load_reports_or_exit((report_path,))
    if waivers is not None:
        from posture.cli.common import load_waivers_or_exit
        from posture.waivers import apply_waivers

        apply_waivers(rep, load_waivers_or_exit(waivers, rep))
    if frameworks:
        from posture.cli.common import load_frameworks_or_exit
        from posture.frameworks import sections_from_results

        sections_from_results(rep, load_frameworks_or_exit(frameworks))
    if rep.frameworks:
        from posture.frameworks import refresh_sections

        refresh_sections(rep)
    console = make_console()
    for write, path in writers:
        write(rep, path, console)
        info(f"wrote {path}")


def _history(store: str | None, limit: int, html_out: Path) -> None:
    import sqlalchemy

    from posture.history import Store, StoreError, default_store_url
    from posture.trends import History, collect_trends

    write = writer_or_exit("html", "write_history")
    url = store or default_store_url()
    try:
        db = Store(url, create=False)
        trends = collect_trends(db, limit)
        scans = len({p.scan_id for t in trends for p in t.points})
    except (StoreError, sqlalchemy.exc.SQLAlchemyError) as exc:  # a message, never a traceback
        fail(str(exc))
    write(History(trends, _shown_url(url), scans), html_out, make_console())
    info(f"wrote {html_out}: {scans} scan(s), {len(trends)} scope(s)")


def _shown_url(url: str) -> str:
    """The store as the page names it: never a password."""
    import sqlalchemy

    try:
        return sqlalchemy.engine.make_url(url).render_as_string(hide_password=True)
    except sqlalchemy.exc.ArgumentError:
        return url if "://" not in url else "<database URL>"
