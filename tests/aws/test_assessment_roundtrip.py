"""Mutual recognition end to end on the moto account: scan -> OSCAL results -> attest -> verify."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from posture.cli import cli
from posture.facts import FactSet, write_fact_file


def run(*args, code: int = 0):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == code, result.output
    return result


def test_scan_results_attest_verify_round_trip(mixed_facts: FactSet, tmp_path: Path) -> None:
    trestle_ar = pytest.importorskip("trestle.oscal.assessment_results", reason="needs the oscal extra")
    facts = tmp_path / "facts.jsonl"
    write_fact_file(facts, mixed_facts)
    run("evaluate", facts, "--tier", "tier-2", "--format", "json", "-o", tmp_path / "out")
    report = tmp_path / "out" / "posture-report.json"

    run("oscal", "results", report, "-o", tmp_path / "ar.json", "--organisation", "Example Agency")
    ar = trestle_ar.AssessmentResults.oscal_read(tmp_path / "ar.json")
    assert {r.props[0].value for r in ar.results} == {"tier-1", "tier-2"}

    run("keys", "generate", "-o", tmp_path / "keys")
    key, pub = tmp_path / "keys" / "posture-signing.key", tmp_path / "keys" / "posture-signing.pub"
    run("attest", report, "--key", key, "--facts", facts, "--organisation", "Example Agency")
    attestation = tmp_path / "out" / "posture-report.json.intoto.json"
    ok = run("verify", attestation, "--report", report, "--public-key", pub, "--facts", facts)
    assert "verified:" in ok.output and "Example Agency" in ok.output

    # one result flipped from fail to pass: digest and recomputed attainment both say so
    data = json.loads(report.read_text())
    flipped = next(r for r in data["results"] if r["status"] == "fail")
    flipped["status"] = "pass"
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    bad = run("verify", attestation, "--report", edited, "--public-key", pub, code=1)
    assert "report digest" in bad.output and "its results give" in bad.output

    # a fact file that is not the one evaluated
    facts.write_text(facts.read_text() + "\n")
    bad = run("verify", attestation, "--report", report, "--public-key", pub, "--facts", facts, code=1)
    assert "fact file digest" in bad.output
