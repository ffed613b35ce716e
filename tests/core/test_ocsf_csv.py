"""OCSF Compliance Findings and CSV rows: valid against the official OCSF schema, waivers honoured,
evidence marked sensitive never exported."""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import date
from functools import lru_cache
from pathlib import Path

import jsonschema
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "fixtures" / "reports"))
from posture_report_factory import aws_org, azure_org, gcp_org  # noqa: E402

from posture.outputs import csv_output, ocsf  # noqa: E402
from posture.outputs.exports import REDACTED  # noqa: E402
from posture.waivers import Waiver, apply_waivers  # noqa: E402

SECRET = "203.0.113.77/32"


@lru_cache(maxsize=2)
def ocsf_validator(version: str) -> jsonschema.Draft202012Validator:
    """The Compliance Finding JSON schema generated from the official OCSF schema export of ``version``."""
    schema_lib = pytest.importorskip("ocsf_json_schema", reason="ocsf-json-schema (dev extra) is not installed")
    schema = schema_lib.OcsfJsonSchemaEmbedded(schema_lib.get_ocsf_schema(version=version))
    assert schema.lookup_class_name_from_uid(2003) == "compliance_finding"
    return jsonschema.Draft202012Validator(schema.get_class_schema("compliance_finding", profiles=["cloud"]))


def errors_of(event: dict, version: str = ocsf.OCSF_VERSION) -> list[str]:
    return [f"{e.json_path}: {e.message}" for e in ocsf_validator(version).iter_errors(event)]


def waived_report():
    report = aws_org()
    failing = next(r for r in report.results if r.status == "fail")
    apply_waivers(report, [Waiver(id="RISK-7", resource=failing.resource_id, owner="secops",
                                  justification="accepted until the migration", expires=date(2099, 1, 1))])
    return report, failing


def with_sensitive_evidence(report):
    """Mark the evidence key ``allowed_cidrs`` sensitive on one check and put a value there."""
    target = next(r for r in report.results if r.status == "fail" and r.check_id != "aws.s3.bucket.public_access")
    target.evidence = {"allowed_cidrs": [SECRET], "port": 22}
    report.checks[target.check_id]["sensitive_evidence"] = ["allowed_*"]
    return target


@pytest.mark.parametrize("factory", [aws_org, azure_org, gcp_org])
def test_every_result_is_a_valid_ocsf_compliance_finding(factory) -> None:
    report = factory()
    events = ocsf.render(report)
    assert len(events) == len(report.results)
    for ev in events:
        assert ev["class_uid"] == 2003 and ev["type_uid"] == 200301 and ev["category_uid"] == 2
        assert errors_of(ev) == [], (ev["finding_info"]["uid"], errors_of(ev)[:5])


def test_ocsf_maps_statuses_severity_and_stable_uid() -> None:
    report, waived = waived_report()
    events = {ev["finding_info"]["uid"]: ev for ev in ocsf.render(report)}
    by_status = {r.status: events[r.fingerprint] for r in report.results}
    assert by_status["pass"]["compliance"]["status_id"] == 1
    assert by_status["fail"]["compliance"]["status_id"] == 3 and by_status["fail"]["status_id"] == 1
    assert "remediation" in by_status["fail"]
    error = by_status["error"]
    assert error["compliance"]["status_id"] == 0 and "AccessDenied" in error["compliance"]["status_detail"]
    suppressed = events[waived.fingerprint]
    assert suppressed["status_id"] == 3 and suppressed["status"] == "Suppressed"
    assert suppressed["compliance"]["status_id"] == 3  # still non-compliant, only accepted
    assert "RISK-7" in suppressed["status_detail"] and "secops" in suppressed["status_detail"]
    assert suppressed["unmapped"]["posture"]["waiver"]["id"] == "RISK-7"
    critical = next(r for r in report.results if r.severity == "critical")
    assert events[critical.fingerprint]["severity_id"] == 5
    assert events[critical.fingerprint]["cloud"]["provider"] == "AWS"
    assert events[critical.fingerprint]["cloud"]["account"]["uid"] == critical.scope
    assert ocsf.dumps(report) == ocsf.dumps(report)  # deterministic


def test_csv_has_one_row_per_result_and_names_waivers() -> None:
    report, waived = waived_report()
    rows = list(csv.DictReader(io.StringIO(csv_output.render_string(report))))
    assert len(rows) == len(report.results)
    assert tuple(rows[0]) == csv_output.COLUMNS
    row = next(r for r in rows if r["fingerprint"] == waived.fingerprint)
    assert (row["status"], row["waiver_id"], row["waiver_owner"], row["waiver_expires"]) == (
        "waived", "RISK-7", "secops", "2099-01-01")
    assert row["justification"] == "accepted until the migration"
    assert sorted(r["status"] for r in rows) == sorted(r.status for r in report.results)


def test_sensitive_evidence_never_reaches_ocsf_or_csv() -> None:
    report = aws_org()
    target = with_sensitive_evidence(report)
    ocsf_text, csv_text = ocsf.dumps(report), csv_output.render_string(report)
    assert SECRET not in ocsf_text and SECRET not in csv_text
    ev = next(e for e in ocsf.render(report) if e["finding_info"]["uid"] == target.fingerprint)
    assert ev["resources"][0]["data"]["evidence"] == {"allowed_cidrs": REDACTED, "port": 22}
    row = next(r for r in csv.DictReader(io.StringIO(csv_text)) if r["fingerprint"] == target.fingerprint)
    assert json.loads(row["evidence"]) == {"allowed_cidrs": REDACTED, "port": 22}
    assert target.evidence["allowed_cidrs"] == [SECRET]  # the full JSON report still has it


def test_csv_cells_a_spreadsheet_would_run_as_formulas_are_neutralised() -> None:
    report = aws_org()
    report.results[0].resource_name = "=HYPERLINK(\"http://evil\",\"x\")"
    rows = list(csv.DictReader(io.StringIO(csv_output.render_string(report))))
    names = [r["resource_name"] for r in rows]
    assert "'=HYPERLINK(\"http://evil\",\"x\")" in names and not any(n.startswith("=") for n in names)


def test_reports_are_written_as_ocsf_and_csv_files_by_the_registered_output_plugins(tmp_path) -> None:
    from posture.cli.common import finish
    from posture.plugins import registry

    assert {"ocsf", "csv"} <= set(registry().outputs)
    report = aws_org()
    failing = next(r for r in report.results if r.status == "fail")
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(f"""waivers:
  - id: RISK-8
    resource: "{failing.resource_id}"
    check: {failing.check_id}
    owner: secops
    justification: accepted for the test
    expires: 2099-12-31
""")
    finish(report, ["ocsf", "csv"], tmp_path / "out", "none", False, waivers, None)
    events = json.loads((tmp_path / "out" / "posture-report.ocsf.json").read_text())
    assert len(events) == len(report.results) and all(errors_of(ev) == [] for ev in events)
    assert next(e for e in events if e["finding_info"]["uid"] == failing.fingerprint)["status"] == "Suppressed"
    rows = list(csv.DictReader(io.StringIO((tmp_path / "out" / "posture-report.csv").read_text())))
    assert next(r for r in rows if r["fingerprint"] == failing.fingerprint)["waiver_id"] == "RISK-8"
