"""Frameworks as data: located errors, coverage, and the framework section of a scan's report."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from posture.cli import cli
from posture.frameworks import FrameworkError, check_mapping, load_framework
from tests.helpers import assert_valid_report, assert_valid_sarif

FAKE_FRAMEWORK = """\
id: fake-bench-1.0
title: Fake Benchmark
version: "1.0"
provider: fake
source: "test data"
recommendations:
  - {id: "1.1", section: Identity, level: 1, automated: true, title: Users use MFA, checks: [fake.iam.user.mfa]}
  - id: "1.2"
    section: Identity
    level: 1
    automated: true
    title: Keys are younger than 90 days
    checks: [fake.iam.key.rotated]
    parameters: {max_access_key_age_days: 90}
  - {id: "2.1", section: Storage, level: 2, automated: true, title: Buckets are private,
     checks: [fake.storage.bucket.not_public]}
  - {id: "3.1", section: Logging, level: 1, automated: true, title: Logs are kept, checks: [fake.logging.group.retention]}
  - {id: "3.2", section: Logging, level: 2, automated: true, title: Something posture cannot judge, checks: [],
     reason: "No check yet"}
  - {id: "4.1", section: People, level: 1, automated: false, title: Contacts are current, checks: [],
     reason: "Manual: a human confirms"}
"""

# A tier without LOG-04: the framework's retention check is framework-only.
NARROW_TIER = """\
id: narrow
title: Narrow tier
controls:
  IAM-01: {}
  IAM-05: {}
  DP-01: {}
"""


#: CLI modules whose commands take their options from the plugins registered when first imported
PLUGIN_SHAPED = ("posture.cli.scan_cmd", "posture.cli.demo_cmd")


@pytest.fixture
def fake_framework(fake_cloud, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    # the scan command built here has only the fake provider's options: never leave it to later tests
    saved = {name: sys.modules.pop(name, None) for name in PLUGIN_SHAPED}
    try:
        yield _framework_dirs(tmp_path, monkeypatch)
    finally:
        for name, module in saved.items():
            sys.modules.pop(name, None)
            if module is not None:
                sys.modules[name] = module


def _framework_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "frameworks").mkdir()
    (tmp_path / "frameworks" / "fake-bench-1.0.yaml").write_text(FAKE_FRAMEWORK)
    (tmp_path / "narrow.yaml").write_text(NARROW_TIER)
    monkeypatch.setenv("POSTURE_TIERS_PATH", str(tmp_path))
    monkeypatch.setenv("POSTURE_PLUGINS", "json,sarif,console,html")
    from posture import plugins
    from tests.core import fake_provider

    plugins.reset()
    plugins.register_plugin(fake_provider, "fake")
    return tmp_path


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    return path


# ------------------------------------------------------------------ the file format
def test_cis_aws_7_lists_all_70_recommendations_with_34_automated() -> None:
    fw = load_framework("cis-aws-foundations-7.0")
    assert fw.provider == "aws" and fw.version == "7.0"
    assert len(fw.recommendations) == 70
    assert sum(r.automated for r in fw.recommendations) == 34
    assert all(r.reason for r in fw.recommendations if not r.checks)


#: per CIS benchmark: recommendation id, profile, assessment and the SHA-256 of the lower-cased CIS title
#: (cis_reference/README.md says where they come from; the titles themselves are not ours to ship)
CIS_REFERENCE = Path(__file__).resolve().parent / "cis_reference"


@pytest.mark.parametrize("framework", ["cis-aws-foundations-7.0", "cis-azure-foundations-6.0",
                                       "cis-gcp-foundations-5.0"])
def test_cis_ids_and_assessment_match_the_reference_data(framework: str) -> None:
    import csv
    import hashlib

    with (CIS_REFERENCE / f"{framework}.csv").open(encoding="utf-8", newline="") as f:
        rows = {r["id"]: r for r in csv.DictReader(f)}
    fw = load_framework(framework)
    assert [r.id for r in fw.recommendations] == list(rows)
    for rec in fw.recommendations:
        assert rec.automated == (rows[rec.id]["assessment"] == "Automated"), rec.id
        assert rec.level == int(rows[rec.id]["profile"].split()[-1]), rec.id
        own_title = hashlib.sha256(rec.title.strip().lower().encode()).hexdigest()
        assert own_title != rows[rec.id]["title_sha256"], f"{rec.id}: title copied from CIS"


def test_a_recommendation_without_checks_or_reason_is_a_located_error(tmp_path: Path) -> None:
    path = _write(tmp_path, FAKE_FRAMEWORK.replace('checks: [],\n     reason: "No check yet"', "checks: []"))
    with pytest.raises(FrameworkError) as err:
        load_framework(path)
    assert err.value.json_path == "$.recommendations[4]"
    assert err.value.line == 18
    assert "reason" in err.value.problem and str(path) in str(err.value)


def test_an_unknown_parameter_is_a_located_error(tmp_path: Path) -> None:
    path = _write(tmp_path, FAKE_FRAMEWORK.replace("max_access_key_age_days: 90", "max_key_age: 90"))
    with pytest.raises(FrameworkError) as err:
        load_framework(path)
    assert err.value.json_path == "$.recommendations[1].parameters.max_key_age"
    assert err.value.line == 14
    assert "unknown parameter 'max_key_age'" in err.value.problem


def test_a_parameter_of_the_wrong_type_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, FAKE_FRAMEWORK.replace("max_access_key_age_days: 90", "max_access_key_age_days: soon"))
    with pytest.raises(FrameworkError, match="must be an integer"):
        load_framework(path)


def test_a_recommendation_listed_twice_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, FAKE_FRAMEWORK.replace('id: "2.1"', 'id: "1.1"'))
    with pytest.raises(FrameworkError, match=r"recommendation '1.1' is listed twice"):
        load_framework(path)


def test_a_level_other_than_1_or_2_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, FAKE_FRAMEWORK.replace("level: 2, automated: true, title: Buckets", "level: 3, "
                                                   "automated: true, title: Buckets"))
    with pytest.raises(FrameworkError) as err:
        load_framework(path)
    assert err.value.json_path == "$.recommendations[2].level"


def test_a_check_id_no_plugin_registers_is_a_located_error(fake_framework: Path, tmp_path: Path) -> None:
    from posture.plugins import registry

    path = _write(tmp_path, FAKE_FRAMEWORK.replace("[fake.iam.user.mfa]", "[fake.iam.user.mfaa]"))
    with pytest.raises(FrameworkError) as err:
        check_mapping(load_framework(path), registry().checks)
    assert err.value.json_path == "$.recommendations[0].checks[0]"
    assert "unknown check 'fake.iam.user.mfaa'" in err.value.problem and "fake.iam.user.mfa" in err.value.problem


def test_every_check_the_cis_aws_mapping_names_is_registered() -> None:
    from posture.plugins import registry

    check_mapping(load_framework("cis-aws-foundations-7.0"), registry().checks)


# ------------------------------------------------------------------------ CLI
def test_coverage_json_counts_automated_covered_and_gaps(fake_framework: Path) -> None:
    r = CliRunner().invoke(cli, ["frameworks", "coverage", "fake-bench-1.0", "--json"])
    assert r.exit_code == 0, r.output
    cov = json.loads(r.output)
    assert {k: cov[k] for k in ("framework", "recommendations", "automated", "automated_covered", "manual")} == {
        "framework": "fake-bench-1.0", "recommendations": 6, "automated": 5, "automated_covered": 4, "manual": 1}
    assert [g["id"] for g in cov["gaps"]] == ["3.2"]


def test_frameworks_list_and_show_mark_manual_and_gaps(fake_framework: Path) -> None:
    runner = CliRunner()
    listed = runner.invoke(cli, ["frameworks", "list", "--json"])
    assert {"cis-aws-foundations-7.0", "fake-bench-1.0"} <= {f["framework"] for f in json.loads(listed.stdout)
                                                             if "error" not in f}
    shown = json.loads(runner.invoke(cli, ["frameworks", "show", "fake-bench-1.0", "--json"]).output)
    states = {r["id"]: r["state"] for r in shown["recommendations"]}
    assert states == {"1.1": "covered", "1.2": "covered", "2.1": "covered", "3.1": "covered", "3.2": "gap",
                      "4.1": "manual"}


def test_a_broken_framework_file_is_reported_without_hiding_the_others(fake_framework: Path) -> None:
    (fake_framework / "frameworks" / "broken-1.0.yaml").write_text("id: broken-1.0\ntitle: x\n")
    r = CliRunner().invoke(cli, ["frameworks", "list", "--json"])
    assert r.exit_code == 2
    rows = {f["framework"]: f for f in json.loads(r.stdout)}
    assert "missing required field" in rows["broken-1.0"]["error"] and "broken-1.0.yaml" in rows["broken-1.0"]["error"]
    assert "automated_covered" in rows["fake-bench-1.0"]


def test_an_unknown_framework_is_a_usage_error_with_the_known_ids(fake_framework: Path, tmp_path: Path) -> None:
    r = CliRunner().invoke(cli, ["scan", "-p", "fake", "--framework", "fake-bench-1", "-o", str(tmp_path / "o"),
                                 "--no-store"])
    assert r.exit_code == 2
    assert "unknown framework 'fake-bench-1'" in r.output and "fake-bench-1.0" in r.output
    assert "Traceback" not in r.output


# ------------------------------------------------------------------ the section
def _scan(tmp_path: Path, *extra: str, tier: str = "narrow") -> dict:
    out = tmp_path / "out"
    r = CliRunner().invoke(cli, ["scan", "-p", "fake", "--tier", tier, "--format", "json,sarif,console,html",
                                 "-o", str(out), "--no-store", *extra])
    assert r.exit_code == 0, r.output
    data = json.loads((out / "posture-report.json").read_text())
    assert_valid_report(data)
    data["_console"] = r.output
    data["_sarif"] = json.loads((out / "posture-report.sarif").read_text())
    data["_html"] = (out / "posture-report.html").read_text()
    return data


def test_framework_checks_outside_the_tier_are_collected_and_marked_framework_only(fake_framework: Path,
                                                                                    tmp_path: Path) -> None:
    plain = _scan(tmp_path / "plain")
    assert not any(r["check_id"] == "fake.logging.group.retention" for r in plain["results"])
    report = _scan(tmp_path / "fw", "--framework", "fake-bench-1.0")
    retention = [r for r in report["results"] if r["check_id"] == "fake.logging.group.retention"]
    assert retention and all(r["framework_only"] for r in retention)
    assert report["checks"]["fake.logging.group.retention"]["framework_only"] is True
    assert not any(r.get("framework_only") for r in report["results"] if r["check_id"] != "fake.logging.group.retention")
    # tier attainment is exactly what the scan without the framework says
    assert report["attainment"] == plain["attainment"]


def test_recommendation_statuses_follow_their_checks(fake_framework: Path, tmp_path: Path) -> None:
    report = _scan(tmp_path, "--framework", "fake-bench-1.0")
    (section,) = report["frameworks"]
    recs = {r["id"]: r for r in section["recommendations"]}
    # bob has console access without MFA in 111...; 222... denied the user listing
    assert recs["1.1"]["scopes"] == {"111111111111": "fail", "222222222222": "not_assessed"}
    assert recs["1.1"]["status"] == "fail"
    assert recs["2.1"]["scopes"] == {"111111111111": "fail", "222222222222": "pass"}
    assert recs["3.2"]["status"] == "not_assessed" and recs["3.2"]["reason"] == "No check yet"
    assert recs["4.1"]["status"] == "manual"
    fingerprints = {r["fingerprint"]: r for r in report["results"]}
    for rec in section["recommendations"]:
        for entry in rec["results"]:
            assert entry["fingerprint"] in fingerprints
    assert section["summary"] == {"pass": 0, "fail": 4, "manual": 1, "not_assessed": 1, "not_applicable": 0,
                                  "score": 0.0}


def test_the_benchmark_parameters_decide_the_recommendation_whatever_the_tier_sets(fake_framework: Path,
                                                                                   tmp_path: Path) -> None:
    # the 200-day-old key passes the narrow tier (catalogue default 365 days) but not the benchmark's 90
    report = _scan(tmp_path, "--framework", "fake-bench-1.0")
    key = [r for r in report["results"] if r["check_id"] == "fake.iam.key.rotated"]
    assert [r["status"] for r in key] == ["pass"]
    rec = next(r for r in report["frameworks"][0]["recommendations"] if r["id"] == "1.2")
    assert rec["status"] == "fail" and rec["parameters"] == {"max_access_key_age_days": 90}
    assert [e["fingerprint"] for e in rec["results"]] == [key[0]["fingerprint"]]
    assert rec["results"][0]["status"] == "fail"


def test_console_html_and_sarif_carry_the_framework(fake_framework: Path, tmp_path: Path) -> None:
    report = _scan(tmp_path, "--framework", "fake-bench-1.0")
    assert "Fake Benchmark 1.0 (fake-bench-1.0)" in report["_console"]
    assert "fake:111111111111" in report["_console"]
    assert 'id="framework-fake-bench-1.0"' in report["_html"] and "Keys are younger than 90 days" in report["_html"]
    sarif = report["_sarif"]
    assert_valid_sarif(sarif)
    rules = {r["id"]: r for r in sarif["runs"][0]["tool"]["driver"]["rules"]}
    assert "fake-bench-1.0/1.1" in rules["fake.iam.user.mfa"]["properties"]["tags"]
    assert "framework-only" in rules["fake.logging.group.retention"]["properties"]["tags"]


def test_evaluate_reproduces_the_framework_section_of_the_scan(fake_framework: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    facts = tmp_path / "facts.jsonl"
    r = runner.invoke(cli, ["scan", "-p", "fake", "--tier", "narrow", "--format", "json", "-o", str(tmp_path / "s"),
                            "--no-store", "--framework", "fake-bench-1.0", "--save-facts", str(facts)])
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli, ["evaluate", str(facts), "--tier", "narrow", "--format", "json", "-o", str(tmp_path / "e"),
                            "--framework", "fake-bench-1.0"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "s" / "posture-report.json").read_bytes() == (tmp_path / "e" / "posture-report.json").read_bytes()


def test_evaluating_facts_collected_without_the_framework_leaves_its_checks_not_assessed(
        fake_framework: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    facts = tmp_path / "facts.jsonl"
    r = runner.invoke(cli, ["collect", "-p", "fake", "--tier", "narrow", "--output", str(facts)])
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli, ["evaluate", str(facts), "--tier", "narrow", "--format", "json", "-o", str(tmp_path / "e"),
                            "--framework", "fake-bench-1.0"])
    assert r.exit_code == 0, r.output
    data = json.loads((tmp_path / "e" / "posture-report.json").read_text())
    assert_valid_report(data)
    rec = next(r for r in data["frameworks"][0]["recommendations"] if r["id"] == "3.1")
    assert rec["status"] == "not_assessed" and set(rec["scopes"].values()) == {"not_assessed"}


def test_report_adds_a_section_from_saved_results_and_waivers_turn_failures_into_passes(
        fake_framework: Path, tmp_path: Path) -> None:
    plain_dir = tmp_path / "plain"
    r = CliRunner().invoke(cli, ["scan", "-p", "fake", "--tier", "narrow", "--format", "json", "-o", str(plain_dir),
                                 "--no-store"])
    assert r.exit_code == 0, r.output
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text("waivers:\n  - id: W-1\n    check: fake.storage.bucket.not_public\n    resource: 'bucket/*'\n"
                       "    justification: a public website\n    owner: web-team\n    expires: 2099-01-01\n")
    out = tmp_path / "rendered.json"
    r = CliRunner().invoke(cli, ["report", str(plain_dir / "posture-report.json"), "--framework", "fake-bench-1.0",
                                 "--waivers", str(waivers), "--json", str(out), "--html", str(tmp_path / "r.html")])
    assert r.exit_code == 0, r.output
    data = json.loads(out.read_text())
    assert_valid_report(data)
    recs = {r["id"]: r for r in data["frameworks"][0]["recommendations"]}
    assert recs["2.1"]["status"] == "pass" and recs["2.1"]["results_by_status"] == {"pass": 2, "waived": 1}
    # the saved report never evaluated the retention check: not assessed, never silently passed
    assert recs["3.1"]["status"] == "not_assessed" and "fake.logging.group.retention" in recs["3.1"]["reason"]
    assert "fake-bench-1.0" in (tmp_path / "r.html").read_text()
