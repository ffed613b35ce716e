"""JUnit XML: a testsuite per check, a testcase per resource result, statuses mapped for CI test views."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parents[1] / "fixtures" / "reports"))
from posture_report_factory import aws_org, result  # noqa: E402

from posture.outputs import junit  # noqa: E402
from posture.waivers import Waiver, apply_waivers  # noqa: E402

ROOT = Path(__file__).parents[2]


def parse(report) -> ET.Element:
    return ET.fromstring(junit.render_string(report).encode())


def case(root: ET.Element, suite: str, name_part: str) -> ET.Element:
    s = root.find(f"testsuite[@name='{suite}']")
    return next(c for c in s.findall("testcase") if name_part in c.get("name"))


def test_one_suite_per_check_one_case_per_result_with_totals() -> None:
    report = aws_org()
    root = parse(report)
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == sorted({r.check_id for r in report.results})
    assert sum(len(s.findall("testcase")) for s in suites) == len(report.results)
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == ("11", "4", "1", "2")
    s3 = root.find("testsuite[@name='aws.s3.bucket.public_access']")
    assert (s3.get("tests"), s3.get("failures"), s3.get("errors"), s3.get("skipped")) == ("2", "1", "0", "0")
    props = {p.get("name"): p.get("value") for p in s3.find("properties")}
    assert props["controls"] == "DP-01" and props["severity"] == "critical" and props["tier"] == "tier-2"


def test_fail_is_failure_error_is_error_pass_is_plain() -> None:
    root = parse(aws_org())
    failed = case(root, "aws.s3.bucket.public_access", "acme-payroll-exports")
    failure = failed.find("failure")
    assert failure is not None and failure.get("type") == "critical"
    assert "arn:aws:s3:::acme-payroll-exports" in failure.text and "remediation:" in failure.text
    errored = case(root, "aws.cloudtrail.trail.multi_region", "222222222222")
    assert errored.find("error").get("type") == "AccessDenied" and errored.find("failure") is None
    passed = case(root, "aws.s3.bucket.public_access", "acme-dev-scratch")
    assert list(passed) == []


def test_not_applicable_excluded_and_waived_are_skipped_with_reason() -> None:
    report = aws_org()
    report.results.append(result("aws.ec2.security_group.admin_ports", "not_applicable", "aws", "111111111111",
                                 "arn:aws:ec2:eu-west-1:111111111111:security-group/sg-na", "unused-sg", "NET-01",
                                 message="no inbound rules"))
    apply_waivers(report, [Waiver(id="RISK-9", resource="*sg-0dead", owner="netops", justification="bastion until Q2",
                                  expires=date(2030, 1, 1), control="NET-01")], today=date(2025, 3, 1))
    root = parse(report)
    waived = case(root, "aws.ec2.security_group.admin_ports", "acme-dev-ssh-open").find("skipped")
    assert "RISK-9" in waived.get("message") and "bastion until Q2" in waived.get("message")
    na = case(root, "aws.ec2.security_group.admin_ports", "unused-sg").find("skipped")
    assert na.get("message") == "no inbound rules"
    excluded = root.find("testsuite[@name='aws.key-01.check']")
    assert all(c.find("skipped") is not None for c in excluded.findall("testcase"))
    assert "AWS-managed keys" in excluded.find("testcase/skipped").get("message")


def test_hostile_and_control_characters_stay_well_formed_text() -> None:
    report = aws_org()
    report.results.append(result("aws.s3.bucket.public_access", "fail", "aws", "111111111111",
                                 "arn:aws:s3:::evil", "evil\x00\x1b]8;;<x>&\"'", "DP-01"))
    text = junit.render_string(report)
    root = ET.fromstring(text.encode())  # parses: well-formed
    assert "\x00" not in text and "\x1b" not in text
    names = [c.get("name") for c in root.iter("testcase")]
    assert "<script>alert(1)</script> [aws:111111111111/global]" in names
    assert any(n.startswith("evil\ufffd\ufffd]8;;<x>&\"'") for n in names)


def test_junit_output_plugin_and_report_command(tmp_path: Path) -> None:
    registered = []
    junit.register_outputs(registered.append)
    assert (registered[0].name, registered[0].suffix) == ("junit", ".xml")
    registered[0].write(aws_org(), tmp_path / "a.xml", None)
    assert ET.parse(tmp_path / "a.xml").getroot().get("tests") == "11"

    from posture.cli import cli

    out = tmp_path / "b.xml"
    res = CliRunner().invoke(cli, ["report", str(ROOT / "tests/fixtures/reports/aws-acme.json"), "--junit", str(out)])
    assert res.exit_code == 0, res.output
    assert ET.parse(out).getroot().get("failures") == "4"


def test_scan_finish_writes_html_and_junit_through_the_output_registry(tmp_path: Path) -> None:
    """The path `posture scan --format html,junit --waivers --store` takes (entry points html/junit)."""
    from posture import plugins
    from posture.cli.common import finish
    from posture.outputs import html

    pm = plugins.get_plugin_manager()
    for name, module in (("html", html), ("junit", junit)):
        if not pm.has_plugin(name):
            plugins.register_plugin(module, name)
    waivers = tmp_path / "w.yaml"
    waivers.write_text("waivers:\n  - id: W1\n    control: NET-01\n    resource: '*'\n    owner: netops\n"
                       "    justification: bastion until Q2\n    expires: 2999-01-01\n")
    code = finish(aws_org(), ["html", "junit"], tmp_path / "out", "high", False, waivers,
                  str(tmp_path / "h.sqlite"))
    assert code == 1  # DP-01 (critical) and IAM-01 (high) still fail
    root = ET.parse(tmp_path / "out" / "posture-report.xml").getroot()
    assert (root.get("failures"), root.get("skipped")) == ("3", "3")
    assert "Waived (1)" in (tmp_path / "out" / "posture-report.html").read_text()
