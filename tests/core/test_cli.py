"""The command line: SDK-free help, exit codes, clear errors, offline evaluation."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from posture.cli import cli

SDK_PREFIXES = ("boto3", "botocore", "moto", "azure", "google", "googleapiclient", "grpc",
                "celery", "kombu", "amqp", "redis")  # the distributed executor loads only when asked for


def imported_modules_after(argv: list[str]) -> set[str]:
    code = (
        "import sys\n"
        "from posture.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('@@MODULES@@', ' '.join(sorted(sys.modules)))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    return set(proc.stdout.split("@@MODULES@@", 1)[1].split())


@pytest.mark.parametrize("argv", [["--help"], ["scan", "--help"], ["worker", "--help"], ["plugins"]])
def test_help_and_plugin_listing_import_no_cloud_sdk(argv: list[str]) -> None:
    modules = imported_modules_after(argv)
    leaked = sorted(m for m in modules if m.split(".")[0] in SDK_PREFIXES)
    assert leaked == [], f"`posture {' '.join(argv)}` imported cloud SDK modules: {leaked[:10]}"


def test_help_lists_every_builtin_command() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in ("scan", "collect", "evaluate", "tiers", "checks", "plugins"):
        assert name in result.output


def test_posture_help_lists_the_demo_command_the_aws_plugin_contributes() -> None:
    code = "from posture.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
    env = {k: v for k, v in os.environ.items() if k != "POSTURE_PLUGINS"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True,
                         env=env).stdout
    assert re.search(r"^  demo +Scan an embedded mock AWS account", out, re.M), out


@pytest.fixture
def fact_file(fake_cloud, tmp_path: Path) -> Path:
    path = tmp_path / "facts.jsonl"
    result = CliRunner().invoke(cli, ["collect", "--provider", "fake", "--output", str(path)])
    assert result.exit_code == 0, result.output
    return path


def test_scan_writes_json_and_sarif_and_evaluate_reproduces_it(fake_cloud, tmp_path: Path) -> None:
    runner = CliRunner()
    scan_dir, eval_dir = tmp_path / "scan", tmp_path / "eval"
    facts = tmp_path / "facts.jsonl"
    r = runner.invoke(cli, ["scan", "-p", "fake", "--tier", "tier-2", "--format", "json,sarif", "-o", str(scan_dir),
                            "--save-facts", str(facts), "--no-store"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli, ["evaluate", str(facts), "--tier", "tier-2", "--format", "json,sarif", "-o", str(eval_dir)])
    assert r.exit_code == 0, r.output
    for name in ("posture-report.json", "posture-report.sarif"):
        assert (scan_dir / name).read_bytes() == (eval_dir / name).read_bytes()


def test_fail_on_exits_1_when_failures_reach_the_threshold(fact_file: Path, tmp_path: Path) -> None:
    r = CliRunner().invoke(cli, ["evaluate", str(fact_file), "--format", "json", "-o", str(tmp_path),
                                 "--fail-on", "high"])
    assert r.exit_code == 1


def test_fail_on_ignores_failures_below_the_threshold(fake_cloud, tmp_path: Path) -> None:
    fake_cloud.WORLD["111111111111"]["fake.iam.user"] = []
    fake_cloud.WORLD["111111111111"]["fake.storage.bucket"] = []
    facts = tmp_path / "f.jsonl"
    assert CliRunner().invoke(cli, ["collect", "-p", "fake", "-o", str(facts)]).exit_code == 0
    r = CliRunner().invoke(cli, ["evaluate", str(facts), "--tier", "tier-2", "--format", "json", "-o",
                                 str(tmp_path), "--fail-on", "critical"])
    assert r.exit_code == 0, r.output


def test_strict_exits_3_when_the_scan_is_incomplete(fact_file: Path, tmp_path: Path) -> None:
    r = CliRunner().invoke(cli, ["evaluate", str(fact_file), "--format", "json", "-o", str(tmp_path), "--strict"])
    assert r.exit_code == 3


def test_unknown_tier_is_a_usage_error_without_traceback(fact_file: Path, tmp_path: Path) -> None:
    r = CliRunner().invoke(cli, ["evaluate", str(fact_file), "--tier", "tier-99", "-o", str(tmp_path)])
    assert r.exit_code == 2
    assert "tier-99" in r.output and "Traceback" not in r.output


def test_unknown_format_is_a_usage_error(fact_file: Path, tmp_path: Path) -> None:
    r = CliRunner().invoke(cli, ["evaluate", str(fact_file), "--format", "pdf", "-o", str(tmp_path)])
    assert r.exit_code == 2
    assert "unknown format(s) pdf" in r.output


def test_malformed_fact_file_names_file_and_line(fake_cloud, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"kind": "header", "schema": "posture.facts/v1"}\n{not json\n')
    r = CliRunner().invoke(cli, ["evaluate", str(bad), "-o", str(tmp_path)])
    assert r.exit_code == 2
    assert f"{bad}:2: not valid JSON" in r.output


def test_unknown_provider_is_a_usage_error(fake_cloud, tmp_path: Path) -> None:
    r = CliRunner().invoke(cli, ["scan", "-p", "nosuchcloud", "-o", str(tmp_path)])
    assert r.exit_code == 2
    assert "unknown provider(s): nosuchcloud" in r.output


def test_plugins_command_lists_builtin_outputs_as_plugins(fake_cloud) -> None:
    r = CliRunner().invoke(cli, ["plugins", "--json"])
    assert r.exit_code == 0
    data = json.loads(r.output)
    names = {p["plugin"] for p in data["plugins"]}
    assert {"json", "sarif", "console", "fake"} <= names


def test_scan_records_history_by_default_and_fills_baseline_on_the_next_scan(fake_cloud, tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    store = tmp_path / "history.sqlite"
    runner = CliRunner(env={"POSTURE_STORE": str(store)})
    args = ["scan", "-p", "fake", "--tier", "tier-2", "--format", "sarif", "-o", str(tmp_path)]
    assert runner.invoke(cli, args).exit_code == 0
    first = json.loads((tmp_path / "posture-report.sarif").read_text())
    assert all("baselineState" not in r for r in first["runs"][0]["results"])
    fake_cloud.WORLD["111111111111"]["fake.storage.bucket"][1][2]["public"] = True  # a new failure
    monkeypatch.setattr("posture.collect._now", lambda: "2026-01-02T00:00:00Z")  # a day later
    assert runner.invoke(cli, args).exit_code == 0
    second = json.loads((tmp_path / "posture-report.sarif").read_text())
    states = {(r["ruleId"], r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]): r["baselineState"]
              for r in second["runs"][0]["results"]}
    assert states[("fake.storage.bucket.not_public", "bucket/private")] == "new"
    assert states[("fake.storage.bucket.not_public", "bucket/public-site")] == "unchanged"
    history = runner.invoke(cli, ["history", "--json"])
    assert history.exit_code == 0 and len(json.loads(history.output)) == 2


def test_no_store_skips_the_history(fake_cloud, tmp_path: Path) -> None:
    store = tmp_path / "history.sqlite"
    runner = CliRunner(env={"POSTURE_STORE": str(store)})
    r = runner.invoke(cli, ["scan", "-p", "fake", "--format", "json", "-o", str(tmp_path), "--no-store"])
    assert r.exit_code == 0
    assert not store.exists()


def test_scan_without_a_provider_asks_for_one_instead_of_scanning_every_cloud(fresh_plugins, tmp_path: Path) -> None:
    r = CliRunner().invoke(cli, ["scan", "-o", str(tmp_path), "--no-store"])
    assert r.exit_code == 2
    assert "choose what to scan with --provider" in r.output


def test_interrupted_scan_still_writes_partial_results(fake_cloud, tmp_path: Path, monkeypatch) -> None:
    original = fake_cloud.PROVIDER.collect

    def collect(unit):
        if unit.fact_types == ("fake.storage.bucket",) and unit.scope == "222222222222":
            raise KeyboardInterrupt  # what Ctrl-C looks like to the collector loop
        return original(unit)

    monkeypatch.setattr(fake_cloud.PROVIDER, "collect", collect)
    r = CliRunner().invoke(cli, ["scan", "-p", "fake", "--format", "json", "-o", str(tmp_path), "--concurrency", "1"])
    assert r.exit_code == 130, r.output
    data = json.loads((tmp_path / "posture-report.json").read_text())
    assert data["metadata"]["interrupted"] is True
    assert any(e["code"] == "Interrupted" for e in data["coverage"]["errors"])
    assert any(res["status"] == "fail" for res in data["results"])  # what was collected was evaluated


def test_a_report_given_as_fact_file_gets_a_hint(fake_cloud, tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["scan", "-p", "fake", "--format", "json", "-o", str(tmp_path), "--no-store"]).exit_code == 0
    r = runner.invoke(cli, ["evaluate", str(tmp_path / "posture-report.json"), "-o", str(tmp_path)])
    assert r.exit_code == 2
    assert "(posture.report/v1), not a fact file" in r.output


def test_an_unwritable_output_path_is_a_clear_error_not_a_traceback(fake_cloud, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where a directory should be", encoding="utf-8")
    r = CliRunner().invoke(cli, ["scan", "-p", "fake", "--no-store", "-o", str(blocker / "out")])
    assert r.exit_code == 2, r.output
    assert f"posture: error: cannot create directory {blocker / 'out'}" in r.output
    assert r.exception is None or isinstance(r.exception, SystemExit)


def test_scan_outside_a_terminal_reports_progress_as_plain_lines(fake_cloud, tmp_path: Path) -> None:
    r = CliRunner().invoke(cli, ["scan", "-p", "fake", "--no-store", "--format", "json", "-o", str(tmp_path)])
    assert r.exit_code == 0, r.output
    assert re.search(r"^collected fake: \d+ work units in \d+\.\d s$", r.output, re.MULTILINE), r.output


def test_progress_lines_report_partial_progress_between_intervals(capsys) -> None:
    from posture.cli.scan_cmd import progress_lines

    update = progress_lines(every_s=0)
    update("aws", 1, 4)
    update("aws", 4, 4)
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "collecting aws: 1/4 work units (25%)"
    assert err[1].startswith("collected aws: 4 work units in ")


def test_a_failing_output_costs_no_other_output(fake_cloud, tmp_path: Path, monkeypatch) -> None:
    from dataclasses import replace

    from posture.plugins import registry

    def broken(report, path, console) -> None:
        raise RuntimeError("terminal on fire")

    outputs = registry().outputs
    monkeypatch.setitem(outputs, "console", replace(outputs["console"], write=broken))
    r = CliRunner().invoke(cli, ["scan", "-p", "fake", "--no-store", "--format", "console,json,sarif",
                                 "-o", str(tmp_path)])
    assert r.exit_code == 2, r.output
    assert "posture: error: output 'console' failed: RuntimeError: terminal on fire" in r.output
    assert (tmp_path / "posture-report.json").is_file() and (tmp_path / "posture-report.sarif").is_file()
