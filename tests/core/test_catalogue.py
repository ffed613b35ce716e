"""The control catalogue: complete references, stable parameters, and precise errors when malformed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from posture.tiers import TierError, load_catalogue, load_tier

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "tiers" / "controls.yaml"
NIST = re.compile(r"^[A-Z]{2}-\d{1,2}(\(\d{1,2}\))?$")
ISO = re.compile(r"^A\.[5-8]\.\d{1,2}$")
CIS = re.compile(r"^\d+(\.\d+){1,2}$")


def test_catalogue_validates_against_its_schema() -> None:
    schema = json.loads((ROOT / "tiers" / "controls.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(yaml.safe_load(CATALOGUE.read_text()))) == []


def test_catalogue_has_controls_in_every_domain() -> None:
    cat = load_catalogue()
    assert 30 <= len(cat.controls) <= 60
    assert {c.domain for c in cat.controls.values()} == set(cat.domains)


def test_every_control_has_a_rationale_and_nist_and_iso_references() -> None:
    for cid, spec in load_catalogue().controls.items():
        assert len(spec.rationale) > 40, cid
        assert spec.references.get("nist_800_53"), cid
        assert spec.references.get("iso_27001"), cid
        assert all(NIST.match(r) for r in spec.references["nist_800_53"]), (cid, spec.references)
        assert all(ISO.match(r) for r in spec.references["iso_27001"]), (cid, spec.references)
        for key in ("cis_aws_v3", "cis_gcp_v2"):
            assert all(CIS.match(r) for r in spec.references.get(key, [])), (cid, key)
        assert set(spec.references) <= {"cis_aws_v3", "cis_gcp_v2", "nist_800_53", "iso_27001"}, cid


def test_well_known_references_are_where_they_belong() -> None:
    cat = load_catalogue()
    assert "IA-2(1)" in cat.controls["IAM-01"].references["nist_800_53"]
    assert "1.5" in cat.controls["IAM-02"].references["cis_aws_v3"]  # root MFA
    assert "SC-28" in cat.controls["DP-03"].references["nist_800_53"]
    assert "SC-8" in cat.controls["DP-04"].references["nist_800_53"]
    assert "AU-11" in cat.controls["LOG-04"].references["nist_800_53"]
    assert "CP-9" in cat.controls["BAK-01"].references["nist_800_53"]
    assert "A.8.13" in cat.controls["BAK-01"].references["iso_27001"]
    assert "SC-12" in cat.controls["KEY-01"].references["nist_800_53"]


def test_parameters_have_defaults_of_their_type_and_unique_names() -> None:
    cat = load_catalogue()
    names = [p.name for c in cat.controls.values() for p in c.parameters.values()]
    assert len(names) == len(set(names))
    assert cat.controls["IAM-05"].parameters["max_access_key_age_days"].default == 365
    tls = cat.controls["DP-04"].parameters["min_tls_version"]
    assert (tls.type, tls.value_type, tls.tighter) == ("string", "version", "higher")


def test_not_applicable_entries_name_known_providers_with_a_reason() -> None:
    for cid, spec in load_catalogue().controls.items():
        for provider, reason in spec.not_applicable.items():
            assert provider in {"aws", "azure", "gcp"} and len(reason) > 30, cid


def test_load_catalogue_is_cached() -> None:
    assert load_catalogue() is load_catalogue(CATALOGUE)


BASE = """
catalogue: test
version: 1
baseline: {mfa: MFA}
domains: {identity: Identity}
controls:
"""

CATALOGUE_ERRORS = {
    "missing field": ("  - {id: A-01, domain: identity, severity: high, baseline: [mfa]}\n",
                      6, "$.controls[0]", "missing required field 'title'"),
    "wrong severity": ("  - {id: A-01, title: A, domain: identity, severity: urgent, baseline: [mfa]}\n",
                       6, "$.controls[0].severity", "'urgent' is not one of 'critical'"),
    "duplicate id": ("  - {id: A-01, title: A, domain: identity, severity: high, baseline: [mfa]}\n"
                     "  - {id: A-01, title: B, domain: identity, severity: high, baseline: [mfa]}\n",
                     7, "$.controls[1].id", "duplicate control id 'A-01'"),
    "unknown baseline": ("  - {id: A-01, title: A, domain: identity, severity: high, baseline: [luck]}\n",
                         6, "$.controls[0].baseline[0]", "unknown baseline item 'luck' (known: mfa)"),
    "default of the wrong type": (
        "  - id: A-01\n    title: A\n    domain: identity\n    severity: high\n    baseline: [mfa]\n"
        "    parameters:\n      max_days: {type: integer, default: soon, tighter: lower, description: D}\n",
        12, "$.controls[0].parameters.max_days.default", "parameter 'max_days' must be an integer"),
    "parameter name reused": (
        "  - id: A-01\n    title: A\n    domain: identity\n    severity: high\n    baseline: [mfa]\n"
        "    parameters:\n      max_days: {type: integer, default: 1, tighter: lower, description: D}\n"
        "  - id: A-02\n    title: B\n    domain: identity\n    severity: high\n    baseline: [mfa]\n"
        "    parameters:\n      max_days: {type: integer, default: 1, tighter: lower, description: D}\n",
        19, "$.controls[1].parameters.max_days", "parameter 'max_days' is already defined by A-01"),
    "list parameter tightening lower": (
        "  - id: A-01\n    title: A\n    domain: identity\n    severity: high\n    baseline: [mfa]\n"
        "    parameters:\n      ports: {type: ports, default: [22], tighter: lower, description: D}\n",
        12, "$.controls[0].parameters.ports.tighter", "a ports parameter can only tighten as a superset"),
}


@pytest.mark.parametrize("case", list(CATALOGUE_ERRORS), ids=lambda c: c.replace(" ", "_"))
def test_malformed_catalogue_gives_file_line_path_and_problem(tmp_path: Path, case: str) -> None:
    body, line, path_in_file, problem = CATALOGUE_ERRORS[case]
    path = tmp_path / "controls.yaml"
    path.write_text(BASE.lstrip("\n") + body)
    with pytest.raises(TierError) as info:
        load_catalogue(path)
    err = info.value
    assert (err.line, err.json_path) == (line, path_in_file), str(err)
    assert problem in err.problem


def test_a_tier_can_be_resolved_against_another_catalogue(tmp_path: Path) -> None:
    cat_path = tmp_path / "controls.yaml"
    cat_path.write_text(BASE.lstrip("\n") + "  - {id: A-01, title: A, domain: identity, severity: high, "
                                             "baseline: [mfa]}\n")
    tier_path = tmp_path / "t.yaml"
    tier_path.write_text("id: t\ntitle: T\ncontrols:\n  A-01: {}\n  IAM-01: {}\n")
    cat = load_catalogue(cat_path)
    with pytest.raises(TierError, match="unknown control 'IAM-01'"):
        load_tier(tier_path, catalogue=cat)
    tier_path.write_text("id: t\ntitle: T\ncontrols:\n  A-01: {}\n")
    assert [c.id for c in load_tier(tier_path, catalogue=cat).active_controls()] == ["A-01"]
