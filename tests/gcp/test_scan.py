"""End to end: posture's scan over the fake GCP server, its reports validated, the plugin contract kept."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from posture.cli.common import installed_pipeline
from posture.outputs import json_output, sarif
from tests.gcp.fake_gcp import FakeGcp
from tests.helpers import assert_valid_report, assert_valid_sarif, github_sarif_problems

ROOT = Path(__file__).resolve().parents[2]
PROJECTS = ["good-project", "bad-project", "denied-project"]


@pytest.fixture
def gcp_only(fresh_plugins: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("POSTURE_PLUGINS", "gcp,json,sarif")
    fresh_plugins.reset()
    return fresh_plugins


def _scan(fake: FakeGcp, tier: str) -> Any:
    return installed_pipeline().run(tier, ["gcp"], {"gcp_api_endpoint": fake.url, "gcp_max_retries": 2, "project": PROJECTS},
                    concurrency=8)


def test_gcp_scan_report_and_sarif_validate(gcp_only: Any, fake_gcp: FakeGcp, tmp_path: Path) -> None:
    report = _scan(fake_gcp, "tier-3")
    assert_valid_report(json.loads(json_output.dumps(report)))
    log = sarif.render(report)
    assert_valid_sarif(log)
    path = tmp_path / "gcp.sarif"
    sarif.write(report, path)
    assert github_sarif_problems(path) is None
    failed = {(r["ruleId"], r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"])
              for r in log["runs"][0]["results"]}
    assert ("gcp.storage.bucket.not_public", "//storage.googleapis.com/projects/_/buckets/bad-public-data") in failed


def test_gcp_scan_reports_denied_and_disabled_apis_in_results(gcp_only: Any, fake_gcp: FakeGcp) -> None:
    report = _scan(fake_gcp, "tier-3")
    denied = {(r.check_id, r.status, r.error_code) for r in report.results if r.scope == "denied-project"}
    assert ("gcp.storage.bucket.not_public", "error", "PERMISSION_DENIED") in denied
    sql = {r.status for r in report.results if r.scope == "denied-project" and r.check_id.startswith("gcp.sql.")}
    assert sql == {"not_applicable"}
    assert report.requests > 0


def test_tier_1_scan_calls_only_the_apis_its_controls_need(gcp_only: Any, fake_gcp: FakeGcp) -> None:
    fake_gcp.reset()
    _scan(fake_gcp, "tier-1")
    paths = {c.path for c in fake_gcp.requests_to()}
    # API keys (IAM-05, key age) are listed at locations/global/keys; nothing else location-scoped is needed
    assert not [p for p in paths if "/cryptoKeys" in p
                or "/locations" in p and "/buckets" not in p and "/activityTypes/" not in p
                and not p.endswith("/locations/global/keys")]
    assert not [p for p in paths if "contacts" in p or "/sinks" in p or "subnetworks" in p]
    assert "/compute/v1/projects/bad-project/global/firewalls" in paths
    # IAM-01/02 (Security Command Center) and INV-02 (Policy Analyzer) are tier-1 controls
    assert "/v1/organizations/100/sources/-/findings" in paths
    assert ("/v1/projects/bad-project/locations/global/activityTypes/serviceAccountKeyLastAuthentication"
            "/activities:query") in paths


def test_tier_1_scan_reports_mfa_as_error_when_security_command_center_is_disabled(
        gcp_only: Any, fake_gcp: FakeGcp) -> None:
    report = _scan(fake_gcp, "tier-1")
    mfa = {(r.scope, r.status, r.error_code) for r in report.results
           if r.check_id == "gcp.securitycenter.identity_findings.mfa_enforced"}
    assert mfa == {("good-project", "pass", ""), ("bad-project", "fail", ""),
                   ("denied-project", "error", "SERVICE_DISABLED")}


def test_plugin_registers_provider_and_checks_with_known_controls_and_fact_types(gcp_only: Any) -> None:
    reg = gcp_only.registry()
    provider = reg.providers["gcp"]
    gcp = [c for c in reg.checks.values() if c.provider == "gcp"]
    assert len(gcp) >= 25 and not [p for p in reg.problems if p.plugin == "gcp"]
    catalogue = {c["id"] for c in yaml.safe_load((ROOT / "tiers" / "controls.yaml").read_text())["controls"]}
    for check in gcp:
        assert check.fact_type in provider.fact_types, check.id
        assert set(check.controls) <= catalogue, check.id
        assert check.remediation, check.id


def test_importing_the_plugin_loads_no_google_sdk() -> None:
    code = ("import sys, posture_gcp.plugin, posture_gcp.provider; "
            "from posture_gcp.provider import GcpProvider; GcpProvider(); "
            "print(sorted(m for m in sys.modules if m.startswith(('google', 'googleapiclient'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
