"""Check selection narrows what the tier selects, collects less, and says the attainment is partial."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from posture.cli import cli
from posture.cli.common import installed_pipeline
from posture.engine import evaluate
from posture.facts import write_fact_file
from posture.plugins import registry
from posture.selection import Selection, SelectionError
from posture.tiers import load_tier
from tests.helpers import assert_valid_report


@pytest.fixture(scope="module")
def fact_file(mixed_facts, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("facts") / "facts.jsonl"
    write_fact_file(path, mixed_facts)
    return path


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_selection_narrows_the_tier_and_the_fact_types_collected() -> None:
    whole = installed_pipeline().plan("tier-2", ["aws"])
    s3_high = installed_pipeline().plan("tier-2", ["aws"], selection=Selection.from_options(services=["s3"],
                                                                             severities=["critical,high"]))
    assert s3_high.checks and {c.id for c in s3_high.checks} < {c.id for c in whole.checks}
    assert all(c.fact_type.startswith("aws.s3.") for c in s3_high.checks)
    assert s3_high.fact_types < whole.fact_types
    excluded = installed_pipeline().plan("tier-2", ["aws"], selection=Selection.from_options(exclude_checks=["aws.s3.*"]))
    assert not any(c.id.startswith("aws.s3.") for c in excluded.checks)
    assert len(excluded.checks) == len(whole.checks) - len([c for c in whole.checks if c.id.startswith("aws.s3.")])


def test_report_records_the_selection_and_attainment_is_partial(mixed_facts) -> None:
    tier = load_tier("tier-2")
    selection = Selection.from_options(controls=["IAM-*"])
    report = evaluate(mixed_facts, tier, registry().checks, providers=["aws"], selection=selection)
    data = report.to_dict()
    assert_valid_report(data)
    assert data["selection"] == {"controls": ["IAM-*"]}
    assert report.results and all(any(c.startswith("IAM-") for c in r.controls) for r in report.results)
    assert report.attainment and all(a.partial for a in report.attainment)
    assert all(c.control.startswith("IAM-") for a in report.attainment for c in a.controls)
    whole = evaluate(mixed_facts, tier, registry().checks, providers=["aws"])
    assert "selection" not in whole.to_dict() and not any(a.partial for a in whole.attainment)
    assert "partial" not in json.dumps(whole.to_dict()["attainment"])


def test_evaluate_cli_with_check_and_severity_filters(fact_file, tmp_path) -> None:
    out = tmp_path / "out"
    res = run("evaluate", str(fact_file), "--tier", "tier-2", "--severity", "critical", "--format", "json,console",
              "--output-dir", str(out))
    assert res.exit_code == 0, res.output
    report = json.loads((out / "posture-report.json").read_text())
    assert report["selection"] == {"severities": ["critical"]}
    assert report["results"] and {r["severity"] for r in report["results"]} == {"critical"}
    assert "partial" in res.output and "Selection: severities: critical" in res.output
    res = run("evaluate", str(fact_file), "--check", "aws.s3.bucket.*", "--exclude-check",
              "aws.s3.bucket.versioning", "--format", "json", "--output-dir", str(out))
    checks = {r["check_id"] for r in json.loads((out / "posture-report.json").read_text())["results"]}
    assert checks and all(c.startswith("aws.s3.bucket.") for c in checks) and "aws.s3.bucket.versioning" not in checks


@pytest.mark.parametrize(("args", "message"), [
    (["--check", "aws.nosuch.check"], "matches no installed check"),
    (["--service", "nosuch"], "valid: "),
    (["--severity", "urgent"], "unknown severity urgent"),
    (["--control", "ZZ-99"], "matches no control of the catalogue"),
])
def test_a_selection_naming_nothing_is_a_usage_error(fact_file, tmp_path, args, message) -> None:
    res = run("evaluate", str(fact_file), *args, "--output-dir", str(tmp_path))
    assert res.exit_code == 2 and message in res.output


def test_checks_list_takes_the_same_filters_and_prints_json() -> None:
    res = run("checks", "list", "--tier", "tier-1", "--service", "aws.s3", "--severity", "critical", "--json")
    rows = json.loads(res.output)
    assert rows and all(r["service"] == "s3" and r["provider"] == "aws" and r["severity"] == "critical"
                        for r in rows)
    plan = installed_pipeline().plan("tier-1", ["aws"], selection=Selection.from_options(services=["aws.s3"], severities=["critical"]))
    assert [r["id"] for r in rows] == [c.id for c in plan.checks]


def test_selection_validates_names_against_installed_checks() -> None:
    with pytest.raises(SelectionError, match="--exclude-check"):
        Selection.from_options(exclude_checks=["gcp.nothing.*"]).validate(registry().checks, ["IAM-01"])
