"""Planted secrets (Lambda env values, EC2 user data, tag values) never reach facts or reports."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from posture_aws.testing.seed import PLANTED_SECRETS

from posture.facts import FactSet, FactWriter
from posture.report import Report
from tests.aws.helpers import scan_options


@pytest.fixture(scope="module")
def tier3_report(aws_mock: dict[str, Any]) -> Report:
    from posture.cli.common import installed_pipeline

    return installed_pipeline().run(tier="tier-3", providers=["aws"], options=scan_options(aws_mock), concurrency=8)


def _assert_clean(text: str, where: str) -> None:
    for secret in PLANTED_SECRETS:
        assert secret not in text, f"planted secret leaked into {where}"


def test_facts_carry_no_planted_secret(mixed_facts: FactSet) -> None:
    buf = io.StringIO()
    FactWriter(buf).write_set(mixed_facts)
    _assert_clean(buf.getvalue(), "the fact file")


def test_json_and_sarif_reports_carry_no_planted_secret(tier3_report: Report) -> None:
    from posture.outputs import json_output, sarif

    _assert_clean(json.dumps(json_output.render(tier3_report)), "the JSON report")
    _assert_clean(json.dumps(sarif.render(tier3_report)), "the SARIF report")


def test_full_tier3_scan_reports_failures_with_aws_codes_and_requests(tier3_report: Report) -> None:
    statuses = {r.status for r in tier3_report.results}
    assert {"pass", "fail"} <= statuses
    assert "error" not in statuses
    failed = {r.check_id for r in tier3_report.results if r.status == "fail"}
    assert {"aws.ec2.security_group.admin_ports_closed", "aws.lambda.function.no_secrets_in_env",
            "aws.s3.bucket.policy_not_public"} <= failed
    assert tier3_report.requests > 0
