"""Honest exits and safe text: what a new user or an attacker tries (issue 18)."""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

from posture.cli import cli

ORG_TIER_WITHOUT_LOGGING = """\
id: org-no-logging
title: Org without the logging control
extends: tier-1
exclude:
  - control: LOG-04
    justification: logs are kept by the SIEM
"""


def test_evaluating_facts_collected_for_a_smaller_tier_is_not_assessed_and_strict_exits_3(
        fake_cloud, tmp_path: Path) -> None:
    org = tmp_path / "org.yaml"
    org.write_text(ORG_TIER_WITHOUT_LOGGING, encoding="utf-8")
    facts = tmp_path / "facts.jsonl"
    r = CliRunner().invoke(cli, ["collect", "-p", "fake", "--tier", str(org), "-o", str(facts)])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(cli, ["evaluate", str(facts), "--tier", "tier-1", "--strict", "--format", "json",
                                 "-o", str(tmp_path / "out")])
    assert r.exit_code == 3, r.output
    report = json.loads((tmp_path / "out" / "posture-report.json").read_text(encoding="utf-8"))
    missing = [x for x in report["results"] if x.get("error_code") == "NotCollected"]
    assert {x["check_id"] for x in missing} == {"fake.logging.group.retention"}
    assert all(x["status"] == "error" and "fact type fake.logging.group was never collected" in x["message"]
               and "collected for org-no-logging" in x["message"] for x in missing)


def test_a_complete_fact_file_is_not_reported_as_missing_anything(fake_cloud, tmp_path: Path) -> None:
    facts = tmp_path / "facts.jsonl"
    assert CliRunner().invoke(cli, ["collect", "-p", "fake", "--tier", "tier-1", "-o", str(facts)]).exit_code == 0
    r = CliRunner().invoke(cli, ["evaluate", str(facts), "--tier", "tier-1", "--format", "json",
                                 "-o", str(tmp_path / "out")])
    report = json.loads((tmp_path / "out" / "posture-report.json").read_text(encoding="utf-8"))
    assert r.exit_code == 0 and not [x for x in report["results"] if x.get("error_code") == "NotCollected"]


def test_an_unwritable_output_dir_is_refused_before_anything_is_collected(fake_cloud, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("in the way", encoding="utf-8")
    r = CliRunner().invoke(cli, ["scan", "-p", "fake", "--no-store", "-o", str(blocker / "out")])
    assert r.exit_code == 2, r.output
    assert r.output.strip().splitlines() == [f"posture: error: cannot create directory {blocker / 'out'}: "
                                             "Not a directory"]
    assert fake_cloud.PROVIDER.collected == []  # nothing collected


def test_a_waiver_naming_an_unknown_control_is_refused_before_the_scan_collects(fake_cloud, tmp_path: Path) -> None:
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text("version: 1\nwaivers:\n  - id: RISK-7\n    control: IAM-1\n    resource: '*'\n"
                       "    owner: a@b.example\n    justification: a typo in the control id\n    expires: 2999-01-01\n", encoding="utf-8")
    r = CliRunner().invoke(cli, ["scan", "-p", "fake", "--no-store", "-o", str(tmp_path / "out"),
                                 "--waivers", str(waivers)])
    assert r.exit_code == 2, r.output
    assert "waivers.yaml:4: at $.waivers[0].control: unknown control 'IAM-1'; did you mean IAM-01" in r.output
    assert fake_cloud.PROVIDER.collected == []  # refused before any collection started


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("POSTURE_SARIF_OMIT", "absent,waved", "POSTURE_SARIF_OMIT='absent,waved': unknown value(s) 'waved'; valid: "
                                           "a comma-separated list of absent, waived"),
    ("POSTURE_SARIF_MAX_RESULTS", "abc", "POSTURE_SARIF_MAX_RESULTS='abc': not a whole number; valid: 0 (no "
                                         "limit) or a positive whole number"),
    ("POSTURE_AZURE_CLOUD", "gov", "POSTURE_AZURE_CLOUD='gov': valid: one of public, usgov, china"),
    ("POSTURE_GCP_API_ENDPOINT", "localhost:8080", "POSTURE_GCP_API_ENDPOINT='localhost:8080': not a URL"),
    ("POSTURE_AZURE_READ_TIMEOUT", "0", "POSTURE_AZURE_READ_TIMEOUT='0': valid: a number of seconds greater than 0"),
])
def test_an_invalid_environment_value_is_exit_2_naming_the_valid_values(
        fake_cloud, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str) -> None:
    monkeypatch.setenv(name, value)
    r = CliRunner().invoke(cli, ["scan", "-p", "fake", "--no-store", "-o", str(tmp_path)])
    assert r.exit_code == 2, r.output
    assert r.output.strip().splitlines()[0].startswith(f"posture: error: {expected}")
    assert fake_cloud.PROVIDER.collected == []


def test_sarif_reads_the_validated_values(fake_cloud, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from posture.environment import EnvironmentValueError
    from posture.outputs import sarif

    monkeypatch.setenv("POSTURE_SARIF_OMIT", "Absent, waived")
    monkeypatch.setenv("POSTURE_SARIF_MAX_RESULTS", "0")
    assert sarif.omitted() == {"absent", "waived"} and sarif.max_results() == 0
    monkeypatch.setenv("POSTURE_SARIF_MAX_RESULTS", "-5")
    with pytest.raises(EnvironmentValueError):
        sarif.max_results()


# ------------------------------------------------------------------ Ctrl-C: always 130, never "Aborted!"

def _assert_interrupted(r) -> None:
    assert r.exit_code == 130, r.output
    assert "Aborted!" not in r.output and "Traceback" not in r.output


def test_ctrl_c_while_planning_is_130_with_a_partial_report(fake_cloud, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    def plan(*args, **kwargs):
        raise KeyboardInterrupt  # the first second: credentials, scope discovery

    monkeypatch.setattr(fake_cloud.PROVIDER, "plan", plan)
    r = CliRunner().invoke(cli, ["scan", "-p", "fake", "--format", "json", "--no-store", "-o", str(tmp_path)])
    _assert_interrupted(r)
    report = json.loads((tmp_path / "posture-report.json").read_text(encoding="utf-8"))
    assert report["metadata"]["interrupted"] is True
    assert {e["code"] for e in report["coverage"]["errors"]} == {"Interrupted"}


def test_ctrl_c_while_loading_the_tier_is_130_not_aborted(fake_cloud, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    def load(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("posture.cli.scan_cmd.load_tier_or_exit", load)
    r = CliRunner().invoke(cli, ["scan", "-p", "fake", "--no-store", "-o", str(tmp_path)])
    _assert_interrupted(r)
    assert "posture: interrupted" in r.output


def test_ctrl_c_while_writing_the_reports_is_130(fake_cloud, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def write(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("posture.pipeline.Pipeline.write", write)
    r = CliRunner().invoke(cli, ["scan", "-p", "fake", "--format", "json,sarif", "--no-store", "-o", str(tmp_path)])
    _assert_interrupted(r)


def _with_plugin_commands() -> None:
    """``posture demo`` comes from the AWS plugin: ``main()`` adds plugin commands, CliRunner does not."""
    from posture.cli import _add_plugin_commands

    _add_plugin_commands()


def test_ctrl_c_while_the_demo_seeds_is_130(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("posture_aws.testing.mock")
    _with_plugin_commands()

    @contextmanager
    def seeding(**kwargs):
        raise KeyboardInterrupt
        yield {}

    monkeypatch.setattr("posture_aws.testing.mock.mock_account", seeding)
    _assert_interrupted(CliRunner().invoke(cli, ["demo", "-o", str(tmp_path)]))


def test_the_demo_does_not_ignore_ctrl_c_during_collection(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("posture_aws.testing.mock")
    _with_plugin_commands()
    from posture.facts import CollectionError, FactSet

    @contextmanager
    def account(**kwargs):
        yield {"region": ["us-east-1"]}

    def collect(providers, fact_types, options, **kwargs):
        return FactSet(errors=[CollectionError("aws", "123456789012", "us-east-1", ft, "Interrupted", "Ctrl-C")
                               for ft in sorted(fact_types)], metadata={"interrupted": True})

    monkeypatch.setattr("posture_aws.testing.mock.mock_account", account)
    monkeypatch.setattr("posture.pipeline.collect", collect)
    r = CliRunner().invoke(cli, ["demo", "--format", "json", "-o", str(tmp_path)])
    _assert_interrupted(r)
    assert json.loads((tmp_path / "posture-report.json").read_text(encoding="utf-8"))["metadata"]["interrupted"]


# ------------------------------------------------------------------ identifiers and hostile names

LONG_CHECK = "fake.storage.bucket.not_public"


def test_the_scan_summary_outside_a_terminal_never_cuts_or_splits_an_identifier(fake_cloud, tmp_path: Path) -> None:
    long_name = "bucket-" + "x" * 150
    fake_cloud.WORLD["111111111111"]["fake.storage.bucket"].append((f"bucket/{long_name}", long_name,
                                                                    {"public": True}))
    r = CliRunner().invoke(cli, ["scan", "-p", "fake", "--format", "console", "--no-store", "-o", str(tmp_path)])
    lines = r.output.splitlines()
    assert any(LONG_CHECK in line and long_name in line for line in lines), r.output


def test_history_outside_a_terminal_keeps_timestamps_and_scopes_whole(fake_cloud, tmp_path: Path) -> None:
    store = str(tmp_path / "h.sqlite")
    assert CliRunner().invoke(cli, ["scan", "-p", "fake", "--format", "json", "--store", store,
                                    "-o", str(tmp_path)]).exit_code == 0
    r = CliRunner().invoke(cli, ["history", "--store", store])
    row = next(line for line in r.output.splitlines() if "2026-01-01T00:00:00Z" in line)
    assert "fake:111111111111, fake:222222222222" in row or "111111111111, 222222222222" in row, r.output


def test_checks_coverage_outside_a_terminal_keeps_check_ids_whole() -> None:
    r = CliRunner().invoke(cli, ["checks", "coverage", "--tier", "tier-3"])
    assert r.exit_code in (0, 1), r.output
    from posture.plugins import registry

    for check_id in registry().checks:
        if registry().checks[check_id].provider == "aws":
            assert check_id in r.output  # whole, on one line


def test_terminal_escape_sequences_in_resource_names_never_reach_the_console(fake_cloud, tmp_path: Path) -> None:
    hostile = "evil\x1b]0;pwned\x07\x1b[31mred\x9b"
    fake_cloud.WORLD["111111111111"]["fake.storage.bucket"].append(("bucket/evil", hostile, {"public": True}))
    r = CliRunner().invoke(cli, ["scan", "-p", "fake", "--format", "console,json", "--no-store", "-o", str(tmp_path)])
    assert "\x1b" not in r.output and "\x07" not in r.output and "\x9b" not in r.output
    assert "evil\\x1b]0;pwned\\x07\\x1b[31mred\\x9b" in r.output  # shown, escaped
    # the JSON keeps the exact name (JSON escapes it); only terminals are protected
    report = json.loads((tmp_path / "posture-report.json").read_text(encoding="utf-8"))
    assert any(x["resource_name"] == hostile for x in report["results"])


def test_a_50_mb_resource_name_is_capped_with_a_marked_truncation_in_every_output(fake_cloud, tmp_path: Path) -> None:
    from posture.textsafe import MAX_IDENTIFIER

    huge = "n" * (50 * 1024 * 1024)
    fake_cloud.WORLD["111111111111"]["fake.storage.bucket"].append((f"bucket/{huge}", huge, {"public": True}))
    r = CliRunner().invoke(cli, ["scan", "-p", "fake", "--format", "console,json,sarif", "--no-store",
                                 "-o", str(tmp_path), "--save-facts", str(tmp_path / "facts.jsonl")])
    assert r.exit_code == 0, r.output[:2000]
    for path in tmp_path.iterdir():
        assert path.stat().st_size < 1_000_000, path.name
    report = json.loads((tmp_path / "posture-report.json").read_text(encoding="utf-8"))
    capped = next(x for x in report["results"] if x["resource_name"].startswith("nnnn"))
    assert len(capped["resource_name"]) <= MAX_IDENTIFIER
    assert "...[truncated: 52428800 characters, sha256 " in capped["resource_name"]
    assert len(r.output) < 1_000_000


def test_diff_outside_a_terminal_keeps_check_ids_and_resource_names_whole(fake_cloud, tmp_path: Path) -> None:
    store = str(tmp_path / "h.sqlite")
    assert CliRunner().invoke(cli, ["scan", "-p", "fake", "--format", "json", "--store", store,
                                    "-o", str(tmp_path)]).exit_code == 0
    long_name = "bucket-" + "y" * 150
    fake_cloud.WORLD["111111111111"]["fake.storage.bucket"].append((f"bucket/{long_name}", long_name,
                                                                    {"public": True}))
    assert CliRunner().invoke(cli, ["scan", "-p", "fake", "--format", "json", "--store", store,
                                    "-o", str(tmp_path)]).exit_code == 0
    r = CliRunner().invoke(cli, ["diff", "1", "2", "--store", store])
    assert r.exit_code == 0, r.output
    assert any(LONG_CHECK in line and long_name in line for line in r.output.splitlines()), r.output


def test_ctrl_c_during_collect_writes_the_fact_file_and_exits_130(fake_cloud, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    original = fake_cloud.PROVIDER.collect

    def collect(unit):
        if unit.scope == "222222222222":
            raise KeyboardInterrupt
        return original(unit)

    monkeypatch.setattr(fake_cloud.PROVIDER, "collect", collect)
    out = tmp_path / "facts.jsonl"
    r = CliRunner().invoke(cli, ["collect", "-p", "fake", "-o", str(out), "--concurrency", "1"])
    _assert_interrupted(r)
    assert '"code":"Interrupted"' in out.read_text(encoding="utf-8")


SIGINT_SCRIPT = """
import sys, time
from pathlib import Path
from posture import plugins
from tests.core import fake_provider
marker = Path(sys.argv[1])
def plan(fact_types, options):
    marker.write_text("planning")
    time.sleep(30)  # a slow credential chain or scope discovery: Ctrl-C arrives here
fake_provider.PROVIDER.plan = plan
plugins.register_plugin(fake_provider, "fake")
from posture.cli import main
main(["scan", "-p", "fake", "--format", "json", "--no-store", "-o", sys.argv[2]])
"""


def test_a_real_sigint_while_the_scan_starts_is_exit_130_with_a_partial_report(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.helpers import ROOT

    marker, out = tmp_path / "planning", tmp_path / "out"
    env = {**os.environ, "POSTURE_PLUGINS": "json,console"}
    proc = subprocess.Popen([sys.executable, "-c", SIGINT_SCRIPT, str(marker), str(out)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(600):  # wait (up to a minute on a loaded machine) until planning has begun
            if marker.exists() or proc.poll() is not None:
                break
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, stderr
    assert "Aborted!" not in stderr and "Traceback" not in stderr
    report = json.loads((out / "posture-report.json").read_text(encoding="utf-8"))
    assert report["metadata"]["interrupted"] is True
