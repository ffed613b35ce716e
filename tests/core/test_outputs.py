"""JSON and SARIF outputs: valid, stable and deterministic."""

from __future__ import annotations

import json

from posture.cli.common import installed_pipeline
from posture.outputs import json_output, sarif
from tests.helpers import assert_valid_report, assert_valid_sarif, github_sarif_problems


def test_json_report_validates_against_its_schema(fake_cloud) -> None:
    report = installed_pipeline().run("tier-2", ["fake"])
    data = json.loads(json_output.dumps(report))
    assert_valid_report(data)
    assert data["schema"] == "posture.report/v1"
    assert data["summary"]["by_status"]["fail"] >= 2


def test_sarif_validates_against_the_official_schema_and_github_rules(fake_cloud, tmp_path) -> None:
    report = installed_pipeline().run("tier-2", ["fake"])
    log = sarif.render(report)
    assert_valid_sarif(log)
    path = tmp_path / "scan.sarif"
    sarif.write(report, path)
    assert github_sarif_problems(path) is None


def test_sarif_maps_failures_rules_levels_and_locations(fake_cloud) -> None:
    log = sarif.render(installed_pipeline().run("tier-2", ["fake"]))
    run = log["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    results = {(r["ruleId"], r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]): r
               for r in run["results"]}
    public = results[("fake.storage.bucket.not_public", "bucket/public-site")]
    assert public["level"] == "error"  # DP-01 is critical
    assert rules["fake.storage.bucket.not_public"]["properties"]["security-severity"] == "9.5"
    assert "control:DP-01" in rules["fake.storage.bucket.not_public"]["properties"]["tags"]
    assert public["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == \
        "fake/111111111111/global/storage.bucket/public-site"
    assert run["tool"]["driver"]["rules"][public["ruleIndex"]]["id"] == public["ruleId"]
    # passes are not SARIF results; collection errors are notifications
    assert ("fake.storage.bucket.not_public", "bucket/private") not in results
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert [n["descriptor"]["id"] for n in notes] == ["AccessDenied"]
    assert run["invocations"][0]["executionSuccessful"] is False
    assert run["automationDetails"]["id"] == "posture/tier-2/2-scopes-" + run["automationDetails"]["id"].split(
        "2-scopes-")[1]


def test_sarif_fingerprints_are_stable_and_output_byte_identical_across_runs(fake_cloud) -> None:
    first = sarif.dumps(installed_pipeline().run("tier-2", ["fake"]))
    second = sarif.dumps(installed_pipeline().run("tier-2", ["fake"]))
    assert first == second
    prints = [r["partialFingerprints"] for r in json.loads(first)["runs"][0]["results"]]
    assert len({json.dumps(p) for p in prints}) == len(prints)


def test_sarif_fingerprint_depends_only_on_scope_check_and_resource(fake_cloud, monkeypatch) -> None:
    before = {r["partialFingerprints"]["postureResource/v2"]
              for r in sarif.render(installed_pipeline().run("tier-2", ["fake"]))["runs"][0]["results"]}
    world = fake_cloud.WORLD
    world["111111111111"]["fake.storage.bucket"][0][2]["extra"] = "changed"
    after = {r["partialFingerprints"]["postureResource/v2"]
             for r in sarif.render(installed_pipeline().run("tier-2", ["fake"]))["runs"][0]["results"]}
    assert before == after


def test_sarif_over_the_github_results_limit_keeps_the_most_severe_and_says_what_it_left_out(
        fake_cloud, monkeypatch) -> None:
    report = installed_pipeline().run("tier-2", ["fake"])
    failing = sorted((r for r in report.results if r.status == "fail"), key=lambda r: r.sort_key)
    assert len(failing) >= 3 and {r.severity for r in failing} != {failing[0].severity}
    monkeypatch.setenv(sarif.MAX_RESULTS_ENV, "2")
    log = sarif.render(report)
    assert_valid_sarif(log)
    run = log["runs"][0]
    severity = {cid: report.checks[cid]["severity"] for cid in report.checks}
    kept = sorted(sarif.SEVERITY_ORDER[severity[r["ruleId"]]] for r in run["results"])
    assert len(kept) == 2
    assert kept == sorted(sarif.SEVERITY_ORDER[r.severity] for r in failing)[-2:]
    [note] = [n for n in run["invocations"][0]["toolExecutionNotifications"]
              if n["descriptor"]["id"] == "ResultsLimit"]
    assert note["message"]["text"].startswith(f"{len(failing) - 2} lower-severity results were left out")
    monkeypatch.setenv(sarif.MAX_RESULTS_ENV, "0")
    assert len(sarif.render(report)["runs"][0]["results"]) == len(failing)


def test_console_shows_names_with_brackets_as_written(fake_cloud) -> None:
    import io

    from rich.console import Console

    from posture.outputs import console as console_output

    report = installed_pipeline().run("tier-2", ["fake"])
    failing = next(r for r in report.results if r.status == "fail")
    failing.resource_name = "batch[/tmp] worker [red]prod"
    out = io.StringIO()
    console_output.write(report, None, Console(file=out, width=200))
    assert "batch[/tmp] worker [red]prod" in out.getvalue()


def test_strict_completeness_ignores_apis_that_are_simply_not_enabled(fake_cloud) -> None:
    report = installed_pipeline().run("tier-2", ["fake"])
    report.coverage["errors"] = [{"provider": "fake", "scope": "s", "region": "global", "fact_type": "fake.iam.user",
                                  "code": "SERVICE_DISABLED", "message": "", "not_applicable": True}]
    report.results = [r for r in report.results if r.status != "error"]
    assert report.summary["complete"] is True
    report.coverage["errors"][0]["not_applicable"] = False
    assert report.summary["complete"] is False


def test_the_same_resource_id_in_two_accounts_gives_two_fingerprints() -> None:
    from posture.report import Result

    def admin_policy(account: str) -> Result:
        return Result("aws.iam.policy.no_full_admin", "fail", "aws", account, "global",
                      "arn:aws:iam::aws:policy/AdministratorAccess", "AdministratorAccess", "aws.iam.policy",
                      ["PRIV-01"], "high")

    assert admin_policy("111111111111").fingerprint != admin_policy("222222222222").fingerprint


def test_pseudo_paths_never_contain_dot_segments() -> None:
    from posture.report import Result

    for name in (".", "..", "a/../b"):
        r = Result("aws.ec2.instance.imdsv2_required", "fail", "aws", "111122223333", "us-east-1", "i-0abc", name,
                   "aws.ec2.instance", ["NET-01"], "medium")
        assert not {".", ".."} & set(sarif.pseudo_path(r).split("/")), sarif.pseudo_path(r)


def test_sarif_can_leave_out_what_github_would_show_as_open_alerts(fake_cloud, monkeypatch) -> None:
    report = installed_pipeline().run("tier-2", ["fake"])
    waived = next(r for r in report.results if r.status == "fail")
    waived.status, waived.waiver = "waived", {"id": "W-1", "owner": "o", "justification": "j", "expires": "2099-01-01"}
    fixed = next(r for r in report.results if r.status == "fail").to_dict()
    report.coverage["absent"] = [{**fixed, "resource_id": "bucket/deleted", "baseline_state": "absent"}]
    states = [r.get("baselineState") for r in sarif.render(report)["runs"][0]["results"]]
    assert "absent" in states
    monkeypatch.setenv(sarif.OMIT_ENV, "absent,waived")
    results = sarif.render(report)["runs"][0]["results"]
    assert all("suppressions" not in r and r.get("baselineState") != "absent" for r in results)
    assert len(results) == sum(r.status == "fail" for r in report.results)


def test_report_renders_a_saved_report_with_the_scans_own_writers(fake_cloud, tmp_path) -> None:
    """`posture report --json/--junit` write what `posture scan --format json,junit` wrote: one renderer each."""
    from click.testing import CliRunner

    from posture.cli import cli

    scanned = tmp_path / "scan"
    assert CliRunner().invoke(cli, ["scan", "-p", "fake", "--format", "json", "--no-store",
                                    "-o", str(scanned)]).exit_code == 0
    saved = scanned / "posture-report.json"
    res = CliRunner().invoke(cli, ["report", str(saved), "--json", str(tmp_path / "again.json")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "again.json").read_bytes() == saved.read_bytes()
    # the fake cloud loads the json, sarif and console outputs only: no junit, and the command does not bypass them
    res = CliRunner().invoke(cli, ["report", str(saved), "--junit", str(tmp_path / "r.xml")])
    assert res.exit_code == 2 and "no installed output writes a report as junit" in res.output
    assert not (tmp_path / "r.xml").exists()
