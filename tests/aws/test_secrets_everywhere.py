"""Secrets planted in tag values, Lambda environment values and EC2 user data reach no file posture writes."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from posture_aws.testing.seed import PLANTED_SECRETS

from tests.helpers import assert_no_secret_in_any_file, scan_writing_every_file


def test_no_planted_secret_in_reports_fact_file_history_or_logs(aws_mock: dict[str, Any], tmp_path: Path,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    regions = [arg for region in aws_mock["region"] for arg in ("--region", region)]
    r = scan_writing_every_file(["-p", "aws", "--tier", "tier-3", *regions], tmp_path)
    assert r.exit_code == 0, r.output
    files = assert_no_secret_in_any_file(tmp_path, r.output + caplog.text, PLANTED_SECRETS)
    assert {p.name for p in files} >= {"posture-report.json", "posture-report.sarif", "posture-report.html",
                                       "posture-report.xml", "facts.jsonl", "history.sqlite"}
