"""``posture oscal results``: a scan's report as OSCAL assessment results (trestle's model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from posture.cli import cli

pytest.importorskip("trestle", reason="OSCAL output needs the oscal extra (compliance-trestle)")
from trestle.oscal.assessment_results import AssessmentResults  # noqa: E402


def run(*args) -> None:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 0, result.output


@pytest.fixture
def report(fake_cloud, tmp_path: Path) -> Path:
    run("scan", "-p", "fake", "--tier", "tier-2", "--format", "json", "-o", tmp_path, "--no-store")
    return tmp_path / "posture-report.json"


def prop(obj, name: str) -> str | None:
    return next((p.value for p in obj.props or [] if p.name == name), None)


def test_results_load_with_trestle_one_result_per_scope_and_tier(report: Path, tmp_path: Path) -> None:
    run("oscal", "results", report, "--organisation", "ACME")
    target = tmp_path / "posture-report.oscal-ar.json"
    ar = AssessmentResults.oscal_read(target)
    data = json.loads(report.read_text())
    assert {(prop(r, "tier"), prop(r, "scope"), prop(r, "attainment")) for r in ar.results} == {
        (a["tier"], a["scope"], a["status"]) for a in data["attainment"]}
    assert prop(ar.metadata, "organisation") == "ACME"
    for result in ar.results:
        att = next(a for a in data["attainment"] if (a["tier"], a["scope"]) == (prop(result, "tier"),
                                                                                  prop(result, "scope")))
        assert [f.target.target_id for f in result.findings] == [f"{c['control']}_smt" for c in att["controls"]]
        for finding, c in zip(result.findings, att["controls"], strict=True):
            assert prop(finding.target, "posture-status") == c["status"]
            if c["status"] == "fail":
                assert finding.target.status.state.value == "not-satisfied" and finding.target.status.reason == "fail"
            if c["status"] == "pass":
                assert finding.target.status.state.value == "satisfied"


def test_observations_link_each_check_result_to_its_resource_and_findings(report: Path, tmp_path: Path) -> None:
    run("oscal", "results", report, "-o", tmp_path / "ar.json")
    ar = AssessmentResults.oscal_read(tmp_path / "ar.json")
    data = json.loads(report.read_text())
    selected = [r for r in ar.results if prop(r, "tier") == "tier-2"]
    observations = {o.uuid: o for r in selected for o in r.observations or []}
    by_fingerprint = {prop(o, "fingerprint"): o for o in observations.values() if prop(o, "fingerprint")}
    assert set(by_fingerprint) == {r["fingerprint"] for r in data["results"]}
    for result in selected:
        items = {i.uuid: i for i in (result.local_definitions.inventory_items if result.local_definitions else [])}
        for obs in result.observations or []:
            if prop(obs, "fingerprint"):
                item = items[obs.subjects[0].subject_uuid]
                original = next(r for r in data["results"] if r["fingerprint"] == prop(obs, "fingerprint"))
                assert prop(item, "resource-id") == original["resource_id"]
                assert prop(obs, "status") == original["status"]
        for finding in result.findings:
            for rel in finding.related_observations or []:
                control = finding.target.target_id.removesuffix("_smt")
                assert control in [p.value for p in observations[rel.observation_uuid].props if p.name == "control"]


def test_collection_errors_are_observations_of_what_could_not_be_assessed(report: Path, tmp_path: Path) -> None:
    run("oscal", "results", report, "-o", tmp_path / "ar.json")
    ar = AssessmentResults.oscal_read(tmp_path / "ar.json")
    errors = [o for r in ar.results for o in r.observations or [] if prop(o, "fact-type")]
    assert errors, "the fake world denies fake.iam.user in 222222222222"
    denied = errors[0]
    assert prop(denied, "error-code") == "AccessDenied" and prop(denied, "status") == "not-assessed"


def test_results_are_byte_identical_for_the_same_report(report: Path, tmp_path: Path) -> None:
    run("oscal", "results", report, "-o", tmp_path / "a.json")
    run("oscal", "results", report, "-o", tmp_path / "b.json")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()


def test_a_report_that_is_not_json_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    result = CliRunner().invoke(cli, ["oscal", "results", str(bad)])
    assert result.exit_code == 2 and "not valid JSON" in result.output
