"""The CLI reaches the fake ARM server through the documented environment variables only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.azure.fake_arm import CREDENTIAL_SPEC, SUB_MAIN


def test_cli_scan_via_environment_variables_writes_reports(fake_arm_server: Any, arm_tls: Any,
                                                           tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from posture import plugins
    from posture.cli import cli

    monkeypatch.setenv("POSTURE_AZURE_ARM_ENDPOINT", fake_arm_server.url)
    monkeypatch.setenv("POSTURE_AZURE_CA_BUNDLE", arm_tls.ca)
    monkeypatch.setenv("POSTURE_AZURE_CREDENTIAL", CREDENTIAL_SPEC)
    plugins.reset()
    try:
        r = CliRunner().invoke(cli, ["scan", "-p", "azure", "--subscription", SUB_MAIN, "--tier", "tier-1",
                                     "--format", "json,sarif", "-o", str(tmp_path)])
    finally:
        plugins.reset()
    assert r.exit_code == 0, r.output
    report = json.loads((tmp_path / "posture-report.json").read_text(encoding="utf-8"))
    statuses = {(x["check_id"], x["resource_name"]): x["status"] for x in report["results"]}
    assert statuses[("azure.storage.account.blob_public_access_disabled", "stbad")] == "fail"
    assert statuses[("azure.network.nsg.admin_ports_closed", "nsg-good")] == "pass"
    assert (tmp_path / "posture-report.sarif").exists()


def test_no_usable_credential_is_one_clear_line_naming_each_credential_tried(
        fake_arm_server: Any, arm_tls: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from posture import plugins
    from posture.cli import cli

    monkeypatch.setenv("POSTURE_AZURE_ARM_ENDPOINT", fake_arm_server.url)
    monkeypatch.setenv("POSTURE_AZURE_CA_BUNDLE", arm_tls.ca)
    monkeypatch.setenv("POSTURE_AZURE_CREDENTIAL", "tests.azure.fake_arm:UnavailableCredential")
    plugins.reset()
    try:
        r = CliRunner().invoke(cli, ["scan", "-p", "azure", "--subscription", SUB_MAIN, "--no-store",
                                     "-o", str(tmp_path)])
    finally:
        plugins.reset()
    assert r.exit_code == 2, r.output
    error = [line for line in r.output.splitlines() if line.startswith("posture: error:")]
    assert len(error) == 1, r.output
    assert "azure: no usable Azure credential" in error[0]
    assert "EnvironmentCredential: EnvironmentCredential authentication unavailable" in error[0]
    assert "AzureCliCredential: Azure CLI not found on path" in error[0]
    assert "az login" in error[0] and "Traceback" not in r.output
