"""History answers honestly: what a scan did not cover is never 'fixed', unlike scans are not diffed,
a scan is recorded only with its outputs, a store opens safely under concurrency, old stores upgrade."""

from __future__ import annotations

import copy
import json
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parents[1] / "fixtures" / "reports"))
from posture_report_factory import aws_org  # noqa: E402

from posture.history import Store, diff, fill_baseline, track  # noqa: E402
from posture.report import Report  # noqa: E402

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SG = "arn:aws:ec2:eu-west-1:222222222222:security-group/sg-0dead"
BUCKET = "arn:aws:s3:::acme-payroll-exports"


def _pg_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


def _collected(report: Report, *, drop_region: str | None = None) -> dict:
    """coverage["collected"] as a scan of ``report``'s results would record it (minus one region)."""
    out: dict = {}
    for r in report.results:
        if r.region != drop_region:
            out.setdefault(f"{r.provider}:{r.scope}", {}).setdefault(r.region, set()).add(r.resource_type)
    return {s: {reg: sorted(t) for reg, t in regs.items()} for s, regs in out.items()}


def _later(first: Report, *, without_region: str | None = None) -> Report:
    """A week later, the same failures; optionally a scan that left one region out."""
    r = copy.deepcopy(first)
    r.started_at, r.finished_at = "2025-03-08T10:00:00+00:00", "2025-03-08T10:04:00+00:00"
    if without_region:
        r.results = [x for x in r.results if x.region != without_region]
    r.coverage["collected"] = _collected(first, drop_region=without_region)
    for x in r.results:
        x.baseline_state = ""
    return r


def test_a_scan_of_fewer_regions_reports_the_others_as_not_assessed_never_fixed() -> None:
    first = aws_org()
    first.coverage["collected"] = _collected(first)
    assert any(r.region == "eu-west-1" and r.status == "fail" for r in first.results)
    second = _later(first, without_region="eu-west-1")
    d = fill_baseline(second, first)
    left_out = {r.resource_id for r in first.results if r.region == "eu-west-1" and r.status == "fail"}
    assert {r.resource_id for r in d.unassessed} == left_out
    assert not {r.resource_id for r in d.fixed} & left_out
    assert not {a["resource_id"] for a in second.coverage["absent"]} & left_out  # no SARIF 'absent'
    assert second.coverage["baseline"]["unassessed"] == len(left_out)


def test_a_failure_in_a_scope_the_new_scan_left_out_is_not_assessed() -> None:
    first = aws_org()
    second = _later(first)
    second.scopes = [s for s in second.scopes if s["id"] != "222222222222"]
    second.results = [r for r in second.results if r.scope != "222222222222"]
    d = diff(first, second)
    assert {r.scope for r in d.unassessed} == {"222222222222"}
    assert all(r.scope != "222222222222" for r in d.fixed)


def _two_scans(tmp_path: Path, second: Report) -> str:
    url = str(tmp_path / "h.sqlite")
    first = aws_org()
    track(first, url)
    track(second, url)
    return url


def test_diff_refuses_scans_of_different_tiers_without_force_and_says_what_differs(tmp_path: Path) -> None:
    from posture.cli import cli

    other = _later(aws_org())
    other.tier = {**other.tier, "id": "tier-1"}
    url = _two_scans(tmp_path, other)
    res = CliRunner().invoke(cli, ["diff", "1", "2", "--store", url])
    assert res.exit_code == 2
    assert "not the same scan" in res.output and "tier 'tier-2' vs 'tier-1'" in res.output
    forced = CliRunner().invoke(cli, ["diff", "1", "2", "--store", url, "--force", "--json"])
    assert forced.exit_code == 0, forced.output
    assert json.loads(forced.output)["differences"] == ["tier 'tier-2' vs 'tier-1'"]


def test_diff_refuses_scans_of_different_scopes_naming_them(tmp_path: Path) -> None:
    from posture.cli import cli

    other = _later(aws_org())
    other.scopes = [s for s in other.scopes if s["id"] != "222222222222"]
    url = _two_scans(tmp_path, other)
    res = CliRunner().invoke(cli, ["diff", "1", "2", "--store", url])
    assert res.exit_code == 2 and "only in the old scan: aws:222222222222" in res.output


def test_diff_json_keeps_both_scans_metadata_beside_the_new_failures(tmp_path: Path) -> None:
    from posture.cli import cli

    url = _two_scans(tmp_path, _later(aws_org()))
    out = json.loads(CliRunner().invoke(cli, ["diff", "1", "2", "--store", url, "--json"]).output)
    assert out["scans"]["old"]["scan_id"] == 1 and out["scans"]["new"]["scan_id"] == 2
    assert out["scans"]["new"]["started_at"] == "2025-03-08T10:00:00+00:00"
    assert out["scans"]["old"]["tier"] == out["scans"]["new"]["tier"] == "tier-2"
    assert isinstance(out["new"], list)  # the failures list no longer overwrites the scan's reference


def test_a_scan_whose_outputs_cannot_be_written_is_not_recorded(tmp_path: Path) -> None:
    from posture.atomic import WriteError
    from posture.cli.common import finish

    url = str(tmp_path / "h.sqlite")
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the output directory should be")
    with pytest.raises((WriteError, SystemExit)):
        finish(aws_org(), ["json"], blocker / "out", "none", False, None, url)
    store = Store(url)
    assert store.list() == []
    with store.engine.connect() as conn:  # not even a pending row is left behind
        assert conn.execute(sa.select(sa.func.count()).select_from(store.scans)).scalar() == 0


def test_a_recorded_scan_carries_its_id_in_the_outputs_written_before_recording(tmp_path: Path) -> None:
    from posture.cli.common import finish

    url = str(tmp_path / "h.sqlite")
    assert finish(aws_org(), ["json"], tmp_path / "out", "none", False, None, url) == 0
    written = json.loads((tmp_path / "out" / "posture-report.json").read_text())
    [scan] = Store(url).list()
    assert written["metadata"]["scan_id"] == scan.id


_OPEN_AT_ONCE = """
import sys, time
from posture.history import Store
url, prefix, at = sys.argv[1], sys.argv[2], float(sys.argv[3])
while time.time() < at:
    time.sleep(0.001)
Store(url, table_prefix=prefix).engine.dispose()
"""


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_several_processes_opening_a_new_store_at_once_all_succeed(backend: str, tmp_path: Path) -> None:
    if backend == "postgres" and not _pg_reachable():
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    url = str(tmp_path / "h.sqlite") if backend == "sqlite" else PG_URL
    prefix = f"c{uuid.uuid4().hex[:10]}_"
    at = time.time() + 3  # every process imports first, then all open the store in the same millisecond
    procs = [subprocess.Popen([sys.executable, "-c", _OPEN_AT_ONCE, url, prefix, str(at)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(6)]
    outcomes = [(p.wait(timeout=120), p.stderr.read()[-600:]) for p in procs]
    try:
        assert outcomes == [(0, "")] * 6
    finally:
        Store(url, table_prefix=prefix).drop()


def test_a_store_of_the_first_layout_is_upgraded_and_keeps_its_scans(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config

    import posture.history as history

    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    engine = sa.create_engine(url)
    report = aws_org()
    with engine.begin() as conn:  # what a store written before migrations looks like
        cfg = Config()
        cfg.set_main_option("script_location", str(Path(history.__file__).parent / "migrations"))
        cfg.attributes.update(connection=conn, table_prefix="posture_")
        command.upgrade(cfg, "0001")
        conn.execute(sa.text('DROP TABLE "posture_alembic_version"'))
        conn.execute(sa.text(
            "INSERT INTO posture_scans (scan_key, tier, scopes, started_at, finished_at, recorded_at, passed, "
            "failed, errors, waived, results, report) VALUES (:k, 'tier-2', :s, :t, :t, :t, 4, 4, 1, 0, 9, :r)"),
            {"k": history.scan_key(report), "s": json.dumps(history.scope_keys(report)), "t": report.started_at,
             "r": json.dumps(report.to_dict())})
    engine.dispose()
    store = Store(url)
    got = store.get(1)
    assert {r.fingerprint for r in got.results} == {
        r.fingerprint for r in report.results if r.status in ("fail", "waived", "error")}
    passing = [r for r in report.results if r.status == "pass"]
    assert all(store.statuses(1).get(r.fingerprint) == "pass" for r in passing) and passing
    later = _later(report)
    later.results = [r for r in later.results if r.resource_id != BUCKET]
    assert store.previous(later).metadata["scan_id"] == 1
