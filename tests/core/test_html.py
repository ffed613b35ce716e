"""HTML report and comparison page: content, ordering, escaping, offline, and a real Chromium render."""

from __future__ import annotations

import importlib.util
import re
import sys
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parents[1] / "fixtures" / "reports"))
from posture_report_factory import aws_org, azure_org, gcp_org, result  # noqa: E402

from posture.compare import compare  # noqa: E402
from posture.outputs import html as html_out  # noqa: E402
from posture.waivers import Waiver, apply_waivers  # noqa: E402

ROOT = Path(__file__).parents[2]
XSS_NAME = "<script>alert(1)</script>"
ATTR_XSS = "\"><svg onload=alert(2)>"


def _script_module():
    spec = importlib.util.spec_from_file_location("screenshot_report", ROOT / "scripts" / "screenshot_report.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def hostile_report():
    report = aws_org()
    report.results.append(result("aws.s3.bucket.public_access", "fail", "aws", "111111111111",
                                 f"arn:aws:s3:::{ATTR_XSS}", ATTR_XSS, "DP-01", region="eu-west-1"))
    report.checks["aws.s3.bucket.public_access"]["remediation"] += "\n\n[click](javascript:alert(3))"
    report.scopes[0]["name"] = "<b>prod</b>"
    return report


def test_report_is_self_contained_and_forbids_scripts_and_network() -> None:
    page = html_out.render_report(aws_org())
    assert page.startswith("<!DOCTYPE html>")
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert not re.search(r"<(script|link|iframe|object|embed)\b", page, re.I)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page.replace('href="https://example.org', ""))
    assert "@import" not in page and "url(" not in page


def test_hostile_names_and_markdown_are_escaped() -> None:
    page = html_out.render_report(hostile_report())
    assert XSS_NAME not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert ATTR_XSS not in page and "&#34;&gt;&lt;svg onload=alert(2)&gt;" in page
    assert "<img" not in page and "&lt;img src=x onerror=alert('remediation')&gt;" in page
    assert "javascript:" not in page.replace("[click](javascript:alert(3))", "")
    assert 'href="javascript' not in page
    assert "<b>prod</b>" not in page and "&lt;b&gt;prod&lt;/b&gt;" in page
    assert "<strong>do it now</strong>" in page  # markdown still rendered


def test_attainment_comes_first_and_failures_are_grouped_by_control_severity() -> None:
    page = html_out.render_report(aws_org())
    assert page.index('id="attainment"') < page.index('id="failures"') < page.index('id="coverage"')
    failures = page[page.index('id="failures"'):page.index('id="errors"')]
    order = [failures.index(f"{cid} ") for cid in ("DP-01", "IAM-01", "NET-01", "IAM-05")]
    assert order == sorted(order)  # critical, high, high, medium
    assert "Failures by control (4)" in page
    assert "aws: Storage buckets and containers are not publicly accessible" in failures
    assert failures.count('class="remediation"') == 4


def test_coverage_gaps_waivers_and_fixed_failures_are_listed() -> None:
    report = aws_org()
    waivers = [Waiver(id="RISK-7", resource="arn:aws:s3:::acme-payroll-*", owner="dpo@acme.example",
                      justification="Payroll provider pulls the export", expires=date(2030, 1, 1),
                      check="aws.s3.bucket.public_access"),
               Waiver(id="RISK-OLD", resource="*", owner="netops@acme.example", justification="Old bastion rule",
                      expires=date(2020, 1, 1), control="NET-01")]
    apply_waivers(report, waivers, today=date(2025, 3, 1))
    report.coverage["absent"] = [{"check_id": "aws.iam.user.console_mfa", "resource_id": "arn:aws:iam::1:user/bob",
                                  "resource_name": "bob", "scope": "111111111111"}]
    page = html_out.render_report(report)
    coverage = page[page.index('id="coverage"'):]
    assert "AccessDenied" in coverage
    assert "Acme uses AWS-managed keys only" in coverage
    assert "RISK-OLD" in coverage and "2020-01-01" in coverage
    assert "Fixed since the previous scan (1)" in coverage and "bob" in coverage
    waived = page[page.index('id="waived"'):page.index('id="coverage"')]
    assert "Waived (1)" in waived and "RISK-7" in waived and "dpo@acme.example" in waived
    assert "Failures by control (3)" in page


def test_html_output_plugin_writes_the_file(tmp_path: Path) -> None:
    registered = []
    html_out.register_outputs(registered.append)
    (output,) = registered
    assert (output.name, output.suffix) == ("html", ".html")
    path = tmp_path / "r.html"
    output.write(aws_org(), path, None)
    assert "Tier attainment" in path.read_text()


def test_report_command_writes_html(tmp_path: Path) -> None:
    from posture.cli import cli

    out = tmp_path / "out.html"
    res = CliRunner().invoke(cli, ["report", str(ROOT / "tests/fixtures/reports/aws-acme.json"), "--html", str(out)])
    assert res.exit_code == 0, res.output
    assert "not attained" in out.read_text()
    res = CliRunner().invoke(cli, ["report", str(ROOT / "tests/fixtures/reports/aws-acme.json")])
    assert res.exit_code == 2 and "nothing to write" in res.output


def test_compare_page_escapes_labels() -> None:
    page = html_out.render_compare(compare([aws_org(), azure_org(), gcp_org()], [XSS_NAME]))
    assert XSS_NAME not in page and "&lt;script&gt;" in page
    assert not re.search(r"<(script|link|iframe)\b", page, re.I)


chromium = pytest.mark.skipif(_script_module().find_chromium() is None,
                              reason="chromium is not installed (apt-get install -y chromium)")


@chromium
def test_report_renders_in_headless_chromium_without_running_hostile_markup(tmp_path: Path) -> None:
    mod = _script_module()
    page = tmp_path / "report.html"
    page.write_text(html_out.render_report(hostile_report()), encoding="utf-8")
    dom = mod.dump_dom(page)
    assert "Tier attainment" in dom and "Failures by control (5)" in dom
    assert not re.search(r"<script\b", dom, re.I) and "<svg onload" not in dom
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom  # shown as text
    assert dom.count("<svg") >= 6  # pass-rate bars and charts were parsed as SVG
    png = mod.screenshot(page, tmp_path / "shot.png", height=900)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


@chromium
def test_compare_page_renders_in_headless_chromium(tmp_path: Path) -> None:
    mod = _script_module()
    page = tmp_path / "compare.html"
    page.write_text(html_out.render_compare(compare([aws_org(), azure_org(), gcp_org()], salt="s")),
                    encoding="utf-8")
    dom = mod.dump_dom(page)
    assert "posture comparison" in dom and dom.count("org-") >= 3
