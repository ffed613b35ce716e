"""Scan history: record/previous/list/get, baselineState, diff, on SQLite and the real PostgreSQL."""

from __future__ import annotations

import copy
import json
import socket
import sys
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parents[1] / "fixtures" / "reports"))
from posture_report_factory import aws_org, azure_org  # noqa: E402

from posture.history import Store, StoreError, default_store_url, diff, fill_baseline, track  # noqa: E402
from posture.report import Report  # noqa: E402

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BUCKET = "arn:aws:s3:::acme-payroll-exports"
SG = "arn:aws:ec2:eu-west-1:222222222222:security-group/sg-0dead"
USER = "arn:aws:iam::111111111111:user/alice"


def second_scan(first: Report) -> Report:
    """A week later: the bucket was fixed, the dev SG is still open, alice lost her MFA."""
    r = copy.deepcopy(first)
    r.started_at, r.finished_at = "2025-03-08T10:00:00+00:00", "2025-03-08T10:04:00+00:00"
    for res in r.results:
        res.baseline_state = ""
        if res.resource_id == BUCKET:
            res.status = "pass"
        if res.resource_id == USER:
            res.status = "fail"
    return r


def _pg_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request, tmp_path: Path):
    if request.param == "sqlite":
        s = Store(str(tmp_path / "history.sqlite"))
    else:
        if not _pg_reachable():
            pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
        s = Store(PG_URL, table_prefix=f"t{uuid.uuid4().hex[:10]}_")
    yield s
    s.drop()


def test_record_keeps_failing_and_error_results_whole_and_every_other_status_packed(store: Store) -> None:
    report = aws_org()
    scan_id = store.record(report)
    got = store.get(scan_id)
    assert got.metadata["scan_id"] == scan_id
    kept = [r.to_dict() for r in report.results if r.status in ("fail", "waived", "error")]
    assert [r.to_dict() for r in got.results] == kept and kept
    assert got.attainment == report.attainment and got.tier == report.tier and got.scopes == report.scopes
    statuses = store.statuses(scan_id)
    others = [r for r in report.results if r.status not in ("fail", "waived", "error")]
    assert len(statuses) == len(others) and others
    assert all(statuses.get(r.fingerprint) == r.status for r in others)
    assert statuses.get("0" * 32) is None
    # no copy of the whole report: the header has no results
    assert "results" not in store.headers()[0]


def test_previous_is_latest_earlier_scan_of_same_scopes_and_tier(store: Store) -> None:
    first = aws_org()
    assert store.previous(first) is None
    first_id = store.record(first)
    store.record(azure_org())  # other scopes: never a baseline for AWS
    other_tier = aws_org()
    other_tier.tier = {**other_tier.tier, "id": "tier-1"}
    other_tier.started_at = "2025-03-05T00:00:00+00:00"
    store.record(other_tier)  # other tier: never a baseline either
    second = second_scan(first)
    prev = store.previous(second)
    assert prev is not None and prev.metadata["scan_id"] == first_id
    second_id = store.record(second)
    third = second_scan(first)
    third.started_at = "2025-03-15T10:00:00+00:00"
    assert store.previous(third).metadata["scan_id"] == second_id


def test_list_shows_counts_most_recent_first(store: Store) -> None:
    a = store.record(aws_org())
    b = store.record(second_scan(aws_org()))
    scans = store.list(10)
    assert [s.id for s in scans] == [b, a]
    assert (scans[1].tier, scans[1].passed, scans[1].failed, scans[1].errors) == ("tier-2", 4, 4, 1)
    assert scans[1].scopes == ["aws:111111111111", "aws:222222222222"]
    assert (scans[0].passed, scans[0].failed) == (4, 4)  # one fixed, one broken


def test_results_table_is_keyed_by_fingerprint(store: Store) -> None:
    report = aws_org()
    scan_id = store.record(report)
    expected = {r.fingerprint for r in report.results if r.status == "fail"}
    assert store.failing_fingerprints(scan_id) == expected and len(expected) == 4


def test_fill_baseline_marks_new_unchanged_and_lists_absent(store: Store) -> None:
    first = aws_org()
    track_first = store.record(first)
    second = second_scan(first)
    fill_baseline(second, store.previous(second))
    states = {r.resource_id: r.baseline_state for r in second.results if r.status == "fail"}
    assert states[USER] == "new"
    assert states[SG] == "unchanged"
    assert all(r.baseline_state == "" for r in second.results if r.status == "pass")
    absent = second.coverage["absent"]
    assert [a["resource_id"] for a in absent] == [BUCKET]
    assert absent[0]["baseline_state"] == "absent" and absent[0]["status_now"] == "pass"
    assert absent[0]["fingerprint"] == next(r.fingerprint for r in first.results if r.resource_id == BUCKET)
    assert second.coverage["baseline"] == {"scan_id": track_first, "started_at": first.started_at,
                                           "new": 1, "unchanged": 3, "absent": 1}
    # The shape survives the JSON round trip the SARIF writer reads.
    again = Report.from_dict(json.loads(json.dumps(second.to_dict())))
    assert {r.resource_id: r.baseline_state for r in again.results if r.status == "fail"} == states


def test_fill_baseline_without_previous_sets_nothing() -> None:
    report = aws_org()
    assert fill_baseline(report, None) is None
    assert all(r.baseline_state == "" for r in report.results)
    assert "absent" not in report.coverage


def test_waived_failure_is_still_unchanged_not_fixed() -> None:
    first = aws_org()
    second = second_scan(first)
    sg = next(r for r in second.results if r.resource_id == SG)
    sg.status = "waived"
    d = diff(first, second)
    assert SG in {r.resource_id for r in d.unchanged}
    assert SG not in {r.resource_id for r in d.fixed}


def test_resource_that_disappeared_is_fixed_with_status_absent() -> None:
    first = aws_org()
    second = second_scan(first)
    second.results = [r for r in second.results if r.resource_id != SG]
    d = diff(first, second)
    fixed = {r.resource_id: d.now_status[r.fingerprint] for r in d.fixed}
    assert fixed == {BUCKET: "pass", SG: "absent"}


def test_a_failure_the_next_scan_could_not_assess_is_not_reported_as_fixed() -> None:
    from posture.report import Result

    first = aws_org()
    second = second_scan(first)
    [sg] = [r for r in second.results if r.resource_id == SG]
    second.results.remove(sg)  # the security-group call was throttled this time: an error result instead
    second.results.append(Result(sg.check_id, "error", sg.provider, sg.scope, sg.region,
                                 f"aws/{sg.scope}/{sg.region}/aws.ec2.security_group", "", "aws.ec2.security_group",
                                 sg.controls, sg.severity, error_code="Throttling"))
    d = fill_baseline(second, first)
    assert [r.resource_id for r in d.unassessed] == [SG]
    assert SG not in {r.resource_id for r in d.fixed}
    assert SG not in {a["resource_id"] for a in second.coverage["absent"]}
    assert second.coverage["baseline"]["unassessed"] == 1


def test_track_records_with_baseline(tmp_path: Path) -> None:
    url = str(tmp_path / "h.sqlite")
    first = aws_org()
    assert track(first, url) == 1
    second = second_scan(first)
    assert track(second, url) == 2
    assert second.coverage["baseline"]["scan_id"] == 1
    assert Store(url).get(2).coverage["absent"][0]["resource_id"] == BUCKET


def test_default_store_is_sqlite_under_xdg_data_home_or_env(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv("POSTURE_STORE", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_store_url() == str(tmp_path / "posture" / "history.sqlite")
    monkeypatch.setenv("POSTURE_STORE", "postgresql+psycopg://u@db/x")
    assert default_store_url() == "postgresql+psycopg://u@db/x"


def test_unknown_scan_id_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no scan 42"):
        Store(str(tmp_path / "h.sqlite")).get(42)


def test_bad_store_url_is_a_store_error_without_password() -> None:
    with pytest.raises(StoreError) as info:
        Store("nosuchdialect://user:s3cret@host/db")
    assert "s3cret" not in str(info.value)


# -------------------------------------------------------------------- CLI
def _recorded(tmp_path: Path) -> tuple[str, Report, Report]:
    url = str(tmp_path / "cli.sqlite")
    first = aws_org()
    track(first, url)
    second = second_scan(first)
    track(second, url)
    return url, first, second


def test_history_command_lists_scans(tmp_path: Path) -> None:
    from posture.cli import cli

    url, _, _ = _recorded(tmp_path)
    res = CliRunner().invoke(cli, ["history", "--store", url, "--json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    assert [r["id"] for r in rows] == [2, 1]
    assert rows[0]["tier"] == "tier-2" and rows[0]["failed"] == 4
    table = CliRunner().invoke(cli, ["history", "--store", url], env={"COLUMNS": "250"})
    assert table.exit_code == 0 and "aws:111111111111" in table.output


def test_diff_command_by_scan_ids_json(tmp_path: Path) -> None:
    from posture.cli import cli

    url, _, _ = _recorded(tmp_path)
    res = CliRunner().invoke(cli, ["diff", "1", "2", "--store", url, "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["counts"] == {"new": 1, "fixed": 1, "unchanged": 3}
    assert out["new"][0]["resource_id"] == USER
    assert out["fixed"][0]["resource_id"] == BUCKET and out["fixed"][0]["status_now"] == "pass"


def test_diff_command_by_report_paths_and_fail_on_new(tmp_path: Path) -> None:
    from posture.cli import cli

    _, first, second = _recorded(tmp_path)
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(first.to_dict()))
    b.write_text(json.dumps(second.to_dict()))
    res = CliRunner().invoke(cli, ["diff", str(a), str(b), "--fail-on-new"], env={"COLUMNS": "250"})
    assert res.exit_code == 1
    assert "New failures (1)" in res.output and "Fixed (1)" in res.output and "acme-payroll-exports" in res.output
    assert CliRunner().invoke(cli, ["diff", str(b), str(b), "--fail-on-new"]).exit_code == 0


def test_diff_command_bad_reference_exits_2(tmp_path: Path) -> None:
    from posture.cli import cli

    url, _, _ = _recorded(tmp_path)
    res = CliRunner().invoke(cli, ["diff", "1", "99", "--store", url])
    assert res.exit_code == 2 and "no scan 99" in res.output and "Traceback" not in res.output
    res = CliRunner().invoke(cli, ["diff", "nope.json", "1", "--store", url])
    assert res.exit_code == 2 and "neither a report file nor a scan id" in res.output


def test_baselined_waived_report_is_schema_valid_and_sarif_carries_baseline_states() -> None:
    from datetime import date

    import jsonschema

    from posture.outputs import sarif
    from posture.waivers import Waiver, apply_waivers

    first = aws_org()
    second = second_scan(first)
    apply_waivers(second, [Waiver(id="RISK-1", resource="*", owner="netops", justification="bastion until Q2",
                                  expires=date(2030, 1, 1), control="NET-01")], today=date(2025, 3, 8))
    fill_baseline(second, first)
    schema = json.loads((Path(__file__).parents[2] / "posture/schemas/report.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(second.to_dict())
    results = sarif.render(second)["runs"][0]["results"]
    states = sorted((r["ruleId"], r.get("baselineState"), "suppressions" in r) for r in results)
    assert states == [
        ("aws.ec2.security_group.admin_ports", "unchanged", True),
        ("aws.iam.access_key.age", "unchanged", False),
        ("aws.iam.user.console_mfa", "new", False),
        ("aws.iam.user.console_mfa", "unchanged", False),
        ("aws.s3.bucket.public_access", "absent", False),
    ]


def test_history_on_a_new_machine_says_nothing_is_recorded_and_creates_nothing(tmp_path: Path) -> None:
    from posture.cli import cli

    where = tmp_path / "not-yet" / "history.sqlite"
    res = CliRunner().invoke(cli, ["history", "--store", str(where)])
    assert res.exit_code == 0, res.output
    assert f"no scans recorded yet: there is no history store at {where}" in res.output
    as_json = CliRunner().invoke(cli, ["history", "--store", str(where), "--json"])
    assert (as_json.exit_code, json.loads(as_json.stdout)) == (0, [])
    assert not (tmp_path / "not-yet").exists()


def test_diff_of_scan_ids_without_a_store_is_a_clear_error(tmp_path: Path) -> None:
    from posture.cli import cli

    where = tmp_path / "history.sqlite"
    res = CliRunner().invoke(cli, ["diff", "1", "2", "--store", str(where)])
    assert res.exit_code == 2
    assert "no scans recorded yet" in res.output and "Traceback" not in res.output
    assert not where.exists()
