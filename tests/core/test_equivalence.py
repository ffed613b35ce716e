"""``posture tiers equivalence``: tier coverage of the official NIST SP 800-53B baselines."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from posture.cli import cli
from posture.equivalence import BASELINES, display_id, equivalence, load_baseline, oscal_control_id
from posture.plugins import registry
from posture.tiers import load_tier

ROOT = Path(__file__).resolve().parents[2]
#: the official sizes of the SP 800-53B baselines (rev5.1.1)
OFFICIAL_SIZES = {"nist-800-53b-low": 149, "nist-800-53b-moderate": 287, "nist-800-53b-high": 370}


@pytest.mark.parametrize("name", sorted(OFFICIAL_SIZES))
def test_vendored_baselines_have_the_official_number_of_controls(name: str) -> None:
    baseline = load_baseline(name)
    assert len(baseline.controls) == OFFICIAL_SIZES[name]
    assert baseline.version.startswith("5.1.1")


def test_vendored_baselines_load_with_trestles_profile_model() -> None:
    trestle_profile = pytest.importorskip("trestle.oscal.profile", reason="needs the oscal extra")
    from posture.equivalence import BASELINE_DIR

    for file in BASELINES.values():
        profile = trestle_profile.Profile.oscal_read(BASELINE_DIR / file)
        assert profile.imports[0].include_controls[0].with_ids


def test_references_map_onto_nist_oscal_ids_and_back() -> None:
    assert oscal_control_id("IA-2(1)") == "ia-2.1"
    assert oscal_control_id("SC-7") == "sc-7"
    assert oscal_control_id("not a control") is None
    assert display_id("ac-6.5") == "AC-6(5)"


def test_tier2_vs_moderate_json_splits_the_287_controls_into_covered_and_uncovered() -> None:
    result = CliRunner().invoke(cli, ["tiers", "equivalence", "tier-2", "--baseline", "nist-800-53b-moderate",
                                      "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    covered = {c["id"] for c in data["covered"]}
    uncovered = {c["id"] for c in data["uncovered"]}
    assert len(covered) + len(uncovered) == 287
    assert covered | uncovered == set(load_baseline("nist-800-53b-moderate").controls)
    assert covered and not covered & uncovered
    assert data["summary"]["covered"] == len(covered) and data["summary"]["uncovered"] == len(uncovered)


def test_a_covered_control_is_referenced_by_a_tier_control_that_a_check_of_that_cloud_implements() -> None:
    tier, reg = load_tier("tier-2"), registry()
    data = equivalence(tier, load_baseline("nist-800-53b-moderate"), reg.checks, sorted(reg.providers))
    for provider, entries in data["covered_by_provider"].items():
        for entry in entries:
            for cid in entry["tier_controls"]:
                refs = {oscal_control_id(r) for r in tier.controls[cid].spec.references.get("nist_800_53", [])}
                assert entry["id"] in refs
                assert any(c.provider == provider and cid in c.controls for c in reg.checks.values())
    for entry in data["uncovered"]:
        assert entry["reason"]


def test_without_checks_nothing_is_covered_and_with_one_check_its_references_are() -> None:
    tier, baseline = load_tier("tier-1"), load_baseline("nist-800-53b-moderate")
    none = equivalence(tier, baseline, {}, ["aws"])
    assert none["summary"]["covered"] == 0 and none["summary"]["uncovered"] == 287

    class OneCheck:
        provider, controls = "aws", ("IAM-01",)

    one = equivalence(tier, baseline, {"x": OneCheck()}, ["aws", "gcp"])
    assert {c["label"] for c in one["covered"]} == {"IA-2(1)", "IA-2(2)"}
    assert one["summary"]["covered_by_provider"] == {"aws": 2, "gcp": 0}
    reasons = {c["label"]: c["reason"] for c in one["uncovered"]}
    assert "but no check implements it" in reasons["IA-5(1)"]


def test_tier_controls_referencing_nothing_in_the_low_baseline_are_listed_as_beyond_it() -> None:
    reg = registry()
    data = equivalence(load_tier("tier-2"), load_baseline("nist-800-53b-low"), reg.checks, sorted(reg.providers))
    beyond = {c["control"] for c in data["beyond_baseline"]}
    low = set(load_baseline("nist-800-53b-low").controls)
    for cid in beyond:
        refs = {oscal_control_id(r) for r in load_tier("tier-2").controls[cid].spec.references.get("nist_800_53", [])}
        assert not refs & low
    assert "DP-03" in beyond  # SC-28 (encryption at rest) is not a LOW control


def test_human_output_states_the_coverage_and_that_it_is_not_a_certification() -> None:
    result = CliRunner().invoke(cli, ["tiers", "equivalence", "tier-1", "--baseline", "nist-800-53b-low"])
    assert result.exit_code == 0, result.output
    assert "of 149 controls checked automatically" in result.output
    assert "not a certification" in result.output


def test_an_unknown_baseline_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["tiers", "equivalence", "tier-1", "--baseline", "iso-27001"])
    assert result.exit_code == 2 and "nist-800-53b-moderate" in result.output


def test_docs_table_matches_the_catalogue_and_checks() -> None:
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "equivalence_table.py")], capture_output=True,
                         text=True, check=True).stdout.strip()
    doc = (ROOT / "docs" / "tiers.md").read_text(encoding="utf-8")
    assert out in doc, "docs/tiers.md equivalence table is stale: run scripts/equivalence_table.py --write"
