"""The CIS GCP Foundations 5.0 mapping: complete, consistent with the reference ids, and every mapping tested."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.gcp.test_checks import EXPECTED, OTHER_PROJECTS

ROOT = Path(__file__).resolve().parents[2]
FRAMEWORK = ROOT / "tiers" / "frameworks" / "cis-gcp-foundations-5.0.yaml"
#: ids, levels, assessment and title hashes (tests/frameworks/cis_reference/README.md says whence)
REFERENCE = ROOT / "tests" / "frameworks" / "cis_reference" / "cis-gcp-foundations-5.0.csv"
#: Automated recommendations without a check yet (shrinks to nothing as the checks land).
NOT_YET_COVERED: set[str] = set()


@pytest.fixture(scope="module")
def framework() -> dict[str, Any]:
    return yaml.safe_load(FRAMEWORK.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def reference() -> list[dict[str, str]]:
    with REFERENCE.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_framework_lists_every_reference_recommendation_with_its_level_and_assessment(
        framework: dict[str, Any], reference: list[dict[str, str]]) -> None:
    recs = framework["recommendations"]
    assert [r["id"] for r in recs] == [row["id"] for row in reference]
    for rec, row in zip(recs, reference, strict=True):
        assert rec["automated"] is (row["assessment"] == "Automated"), rec["id"]
        assert rec["level"] == int(row["profile"].rsplit(" ", 1)[-1]), rec["id"]
        ours = hashlib.sha256(rec["title"].strip().lower().encode()).hexdigest()
        assert ours != row["title_sha256"], f"{rec['id']}: CIS title copied"


def test_every_mapped_check_exists_and_is_tested_with_a_pass_and_a_fail(
        framework: dict[str, Any], gcp_checks: dict[str, Any]) -> None:
    for rec in framework["recommendations"]:
        for check_id in rec["checks"]:
            assert check_id in gcp_checks, f"{rec['id']}: unknown check {check_id}"
            statuses = set(EXPECTED[check_id].values()) | set(OTHER_PROJECTS.get(check_id, {}).values())
            assert {"pass", "fail"} <= statuses, f"{rec['id']}: {check_id} untested"


def test_automated_recommendations_are_covered_and_manual_ones_say_why(framework: dict[str, Any]) -> None:
    recs = framework["recommendations"]
    uncovered = {r["id"] for r in recs if r["automated"] and not r["checks"]}
    assert uncovered == NOT_YET_COVERED
    for rec in recs:
        if not rec["automated"]:
            assert rec["checks"] == [] and rec["reason"].startswith("Manual"), rec["id"]
    assert sum(r["automated"] for r in recs) == 71


def test_scan_of_the_fake_with_the_framework_writes_its_section_in_every_format(
        fake_gcp: Any, fresh_plugins: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner

    from posture.cli import cli
    from tests.helpers import assert_valid_report, assert_valid_sarif

    monkeypatch.setenv("POSTURE_PLUGINS", "gcp,json,sarif,console,html")
    fresh_plugins.reset()
    out = tmp_path / "out"
    r = CliRunner().invoke(cli, [
        "scan", "-p", "gcp", "--project", "good-project", "--project", "bad-project", "--gcp-api-endpoint",
        fake_gcp.url, "--tier", "tier-1", "--framework", "cis-gcp-foundations-5.0",
        "--format", "json,sarif,console,html", "-o", str(out), "--no-store"])
    assert r.exit_code in (0, 1), r.output
    report = json.loads((out / "posture-report.json").read_text())
    assert_valid_report(report)
    (section,) = report["frameworks"]
    recs = {rec["id"]: rec for rec in section["recommendations"]}
    assert len(recs) == 93 and sum(rec["status"] == "manual" for rec in recs.values()) == 22
    assert recs["2.5"]["scopes"] == {"good-project": "pass", "bad-project": "fail"}
    assert recs["1.17"]["scopes"] == {"good-project": "pass", "bad-project": "pass"}
    assert recs["7.2"]["status"] == "fail" and recs["1.3"]["status"] == "manual"
    assert recs["3.6"]["parameters"] == {"admin_ports": [22]}
    assert not [rec["id"] for rec in recs.values() if rec["status"] == "not_assessed"]
    # checks outside tier-1 (change alerts are TD-02, tier-2) are collected for the framework only
    alerts = [x for x in report["results"] if x["check_id"].startswith("gcp.monitoring.change_alerts.")]
    assert alerts and all(x["framework_only"] for x in alerts)
    assert "CIS Google Cloud Platform Foundation Benchmark" in r.output
    assert 'id="framework-cis-gcp-foundations-5.0"' in (out / "posture-report.html").read_text()
    sarif = json.loads((out / "posture-report.sarif").read_text())
    assert_valid_sarif(sarif)
    rules = {rule["id"]: rule for rule in sarif["runs"][0]["tool"]["driver"]["rules"]}
    assert "cis-gcp-foundations-5.0/2.5" in rules["gcp.monitoring.change_alerts.project_ownership"]["properties"]["tags"]
