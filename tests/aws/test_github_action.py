"""The GitHub Action: action.yml wires inputs to scripts/github-action.sh, which the tests run for real
against the seeded demo account (moto on 127.0.0.1)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from posture_aws.testing.mock import MOCK_ACCOUNT, mock_env

from tests.helpers import assert_valid_report, assert_valid_sarif

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "github-action.sh"


def action() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "action.yml").read_text())


def run_action(tmp_path: Path, aws_mock: dict[str, Any], **inputs: str) -> tuple[subprocess.CompletedProcess,
                                                                                    dict[str, str]]:
    outputs, summary = tmp_path / "github_output", tmp_path / "summary.md"
    env = {**os.environ, **mock_env(aws_mock["endpoint"], aws_mock["region"][0]),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "POSTURE_PYTHON": sys.executable, "XDG_DATA_HOME": str(tmp_path / "data"),
           "GITHUB_OUTPUT": str(outputs), "GITHUB_STEP_SUMMARY": str(summary), "INPUT_INSTALL": "false",
           "INPUT_OUTPUT_DIR": str(tmp_path / "out"), "NO_COLOR": "1",
           **{f"INPUT_{k.upper()}": v for k, v in inputs.items()}}
    proc = subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=600,
                          cwd=tmp_path)
    values = dict(line.split("=", 1) for line in outputs.read_text().splitlines()) if outputs.exists() else {}
    return proc, values


def test_action_is_composite_with_the_documented_inputs_and_outputs() -> None:
    spec = action()
    assert spec["runs"]["using"] == "composite"
    assert {"provider", "tier", "framework", "args", "fail-on"} <= set(spec["inputs"])
    assert {"report-json", "sarif-file", "category", "exit-code"} <= set(spec["outputs"])
    steps = spec["runs"]["steps"]
    scan = next(s for s in steps if s.get("id") == "scan")
    assert "scripts/github-action.sh" in scan["run"]
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif@"))
    assert upload["with"]["category"] == "${{ steps.scan.outputs.category }}"
    assert "always()" in upload["if"]
    # The job fails only after the upload, from the scan's exit code.
    assert steps.index(upload) < len(steps) - 1 and "exit-code" in steps[-1]["if"]


def test_no_input_is_interpolated_into_shell() -> None:
    """`${{ inputs.x }}` inside `run:` is script injection; inputs reach the shell through env only."""
    for step in action()["runs"]["steps"]:
        assert not re.search(r"\$\{\{\s*inputs\.", step.get("run", "")), step


def test_script_scans_the_demo_account_and_hands_over_report_sarif_and_category(tmp_path, aws_mock) -> None:
    proc, out = run_action(tmp_path, aws_mock, provider="aws", tier="tier-1", fail_on="high",
                           args="--region us-east-1 --region 'eu-west-1' --no-store")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert out["exit-code"] == "1"  # the demo account has high-severity failures; the action fails later
    report = json.loads(Path(out["report-json"]).read_text())
    assert_valid_report(report)
    assert [s["id"] for s in report["scopes"]] == [MOCK_ACCOUNT]
    assert report["summary"]["failures_by_severity"]["high"] > 0
    sarif = json.loads(Path(out["sarif-file"]).read_text())
    assert_valid_sarif(sarif)
    assert out["category"] == f"posture/tier-1/aws-{MOCK_ACCOUNT}/"
    assert sarif["runs"][0]["automationDetails"]["id"] == out["category"]
    summary = (tmp_path / "summary.md").read_text()
    assert f"| aws:{MOCK_ACCOUNT} | tier-1 |" in summary


def test_script_refuses_an_unknown_provider_before_installing_anything(tmp_path, aws_mock) -> None:
    proc, out = run_action(tmp_path, aws_mock, provider="oracle", install="true")
    assert proc.returncode == 2 and "provider must be aws, azure or gcp" in proc.stderr
    assert out == {}


@pytest.mark.parametrize("args", ["--tier-typo x", "--region"])
def test_a_scan_that_writes_no_report_fails_the_step_with_its_exit_code(tmp_path, aws_mock, args) -> None:
    proc, out = run_action(tmp_path, aws_mock, provider="aws", args=args)
    assert proc.returncode == 2 and out["exit-code"] == "2" and "report-json" not in out
