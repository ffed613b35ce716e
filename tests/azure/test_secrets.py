"""Secrets planted in tags, app settings and custom data of the fixture subscription reach no file posture writes.

The fixtures carry them (see tests/fixtures/azure): a VM tag named like a password, a storage tag holding a
connection string with an account key, a web app tag named like a token, an app setting and VM custom data.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from posture.secrets import MARKER
from tests.azure.fake_arm import CREDENTIAL_SPEC, SUB_MAIN
from tests.helpers import assert_no_secret_in_any_file, scan_writing_every_file

PLANTED = ("hunter2-azure-vm-tag", "PLANTEDazureACCOUNTkey0123456789abcdefGHIJ", "azure-planted-webapp-token-9f8e7d",
           "hunter2-azure-app-setting", "cGFzc3dvcmQ9aHVudGVyMi1henVyZS1jdXN0b20tZGF0YQ==")


def test_no_planted_secret_in_reports_fact_file_history_or_logs(
        fake_arm_server: Any, arm_tls: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("POSTURE_AZURE_ARM_ENDPOINT", fake_arm_server.url)
    monkeypatch.setenv("POSTURE_AZURE_CA_BUNDLE", arm_tls.ca)
    monkeypatch.setenv("POSTURE_AZURE_CREDENTIAL", CREDENTIAL_SPEC)
    caplog.set_level(logging.INFO)
    r = scan_writing_every_file(["-p", "azure", "--subscription", SUB_MAIN, "--tier", "tier-3"], tmp_path)
    assert r.exit_code == 0, r.output
    files = assert_no_secret_in_any_file(tmp_path, r.output + caplog.text, PLANTED)
    assert len(files) == 6  # json, sarif, html, junit, fact file, history database
    facts = [json.loads(line) for line in (tmp_path / "facts.jsonl").read_text(encoding="utf-8").splitlines()]
    vm = next(f for f in facts if f.get("name") == "vm-good" and f.get("type") == "azure.compute.vm")
    # the key stays (required-tag checks read keys), the value is a marker
    assert vm["attributes"]["tags"] == {"owner": "ops", "db_password": MARKER}
