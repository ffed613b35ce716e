"""``posture report``: render a saved JSON report (HTML, JUnit, JSON), optionally with waivers."""

from __future__ import annotations

import json
from pathlib import Path

import click

from posture.atomic import write_text_atomic
from posture.cli.common import fail
from posture.terminal import info


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
    if html_out is not None:
        from posture.outputs.html import render_report

        write_text_atomic(html_out, render_report(rep))
        info(f"wrote {html_out}")
    if junit_out is not None:
        from posture.outputs.junit import render_string

        write_text_atomic(junit_out, render_string(rep))
        info(f"wrote {junit_out}")
    if json_out is not None:
        write_text_atomic(json_out, json.dumps(rep.to_dict(), indent=2) + "\n")
        info(f"wrote {json_out}")


def _history(store: str | None, limit: int, html_out: Path) -> None:
    import sqlalchemy

    from posture.history import Store, StoreError, default_store_url
    from posture.outputs.history_html import render_history
    from posture.trends import collect_trends

    url = store or default_store_url()
    try:
        db = Store(url, create=False)
        trends = collect_trends(db, limit)
        scans = len({p.scan_id for t in trends for p in t.points})
    except (StoreError, sqlalchemy.exc.SQLAlchemyError) as exc:  # a message, never a traceback
        fail(str(exc))
    write_text_atomic(html_out, render_history(trends, _shown_url(url), scans))
    info(f"wrote {html_out}: {scans} scan(s), {len(trends)} scope(s)")


def _shown_url(url: str) -> str:
    """The store as the page names it: never a password."""
    import sqlalchemy

    try:
        return sqlalchemy.engine.make_url(url).render_as_string(hide_password=True)
    except sqlalchemy.exc.ArgumentError:
        return url if "://" not in url else "<database URL>"
