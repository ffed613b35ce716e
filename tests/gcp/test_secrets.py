"""Secrets planted in labels and instance metadata of the fixture project reach no file posture writes."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from posture.secrets import MARKER
from tests.helpers import assert_no_secret_in_any_file, scan_writing_every_file

PLANTED = ("hunter2-gcp-project-label", "gcp-planted-bucket-label-token", "hunter2-gcp-instance-label",
           "hunter2-gcp-user-data", "gcp-planted-metadata-token-77")


def test_no_planted_secret_in_reports_fact_file_history_or_logs(fake_gcp: Any, tmp_path: Path,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    r = scan_writing_every_file(["-p", "gcp", "--project", "good-project", "--tier", "tier-3",
                                 "--gcp-api-endpoint", fake_gcp.url], tmp_path)
    assert r.exit_code == 0, r.output
    assert_no_secret_in_any_file(tmp_path, r.output + caplog.text, PLANTED)
    facts = [json.loads(line) for line in (tmp_path / "facts.jsonl").read_text(encoding="utf-8").splitlines()]
    bucket = next(f for f in facts if f.get("type") == "gcp.storage.bucket" and f.get("name") == "good-data")
    assert bucket["attributes"]["labels"] == {"owner": "team-a", "api-token": MARKER}
    assert "api-token" in bucket["attributes"]["label_keys"]
