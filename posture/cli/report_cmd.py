"""``posture report``: render a saved JSON report (HTML, JUnit, JSON), optionally with waivers."""

from __future__ import annotations

import json
from pathlib import Path

import click

from posture.cli.common import fail


@click.command()
@click.argument("report_path", metavar="REPORT.json", type=click.Path(path_type=Path))
@click.option("--html", "html_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the self-contained HTML report here.")
@click.option("--junit", "junit_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write JUnit XML here (a testsuite per check).")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the (re-waived) JSON report here.")
@click.option("--waivers", type=click.Path(dir_okay=False, path_type=Path),
              help="Apply this waiver file before rendering.")
def report(report_path: Path, html_out: Path | None, junit_out: Path | None, json_out: Path | None,
           waivers: Path | None) -> None:
    """Render a JSON report written by `posture scan --format json`."""
    from posture.cli.compare_cmd import load_reports_or_exit

    if not (html_out or junit_out or json_out):
        fail("nothing to write: give --html FILE, --junit FILE and/or --json FILE")
    (rep,) = load_reports_or_exit((report_path,))
    if waivers is not None:
        from posture.waivers import WaiverError, apply_waivers, load_waivers

        try:
            apply_waivers(rep, load_waivers(waivers))
        except WaiverError as exc:
            fail(str(exc))
    if html_out is not None:
        from posture.outputs.html import render_report

        html_out.write_text(render_report(rep), encoding="utf-8")
        click.echo(f"wrote {html_out}", err=True)
    if junit_out is not None:
        from posture.outputs.junit import render_string

        junit_out.write_text(render_string(rep), encoding="utf-8")
        click.echo(f"wrote {junit_out}", err=True)
    if json_out is not None:
        json_out.write_text(json.dumps(rep.to_dict(), indent=2) + "\n", encoding="utf-8")
        click.echo(f"wrote {json_out}", err=True)
