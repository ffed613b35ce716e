"""``posture oscal catalog|profile|components``: OSCAL documents that load with compliance-trestle's models."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from posture.cli import cli
from posture.plugins import registry
from posture.tiers import load_catalogue, load_tier

pytest.importorskip("trestle", reason="OSCAL output needs the oscal extra (compliance-trestle)")
from trestle.oscal.catalog import Catalog  # noqa: E402
from trestle.oscal.component import ComponentDefinition  # noqa: E402
from trestle.oscal.profile import Profile  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
ACME = ROOT / "tiers" / "examples" / "acme-corp.yaml"


def write(tmp_path: Path, *args: str, name: str = "out.json") -> Path:
    target = tmp_path / name
    result = CliRunner().invoke(cli, ["oscal", *args, "-o", str(target)])
    assert result.exit_code == 0, result.output
    return target


def props_of(obj, name: str) -> list:
    return [p for p in (obj.props or []) if p.name == name]


def test_catalog_loads_with_trestle_and_holds_every_control_and_parameter(tmp_path: Path) -> None:
    catalog = Catalog.oscal_read(write(tmp_path, "catalog"))
    cat = load_catalogue()
    controls = {c.id: c for g in catalog.groups for c in g.controls}
    assert set(controls) == set(cat.controls)
    for cid, spec in cat.controls.items():
        assert {p.id for p in controls[cid].params or []} == set(spec.parameters)
        refs = {(p.class_, p.value) for p in props_of(controls[cid], "reference")}
        assert refs == {(fw, r) for fw, rs in spec.references.items() for r in rs}
    iam03 = controls["IAM-03"]
    assert {p.value for p in props_of(iam03, "not-applicable")} == set(cat.controls["IAM-03"].not_applicable)


def test_profile_of_a_standard_tier_selects_its_controls_and_sets_its_parameters(tmp_path: Path) -> None:
    profile = Profile.oscal_read(write(tmp_path, "profile", "tier-2"))
    tier = load_tier("tier-2")
    assert profile.imports[0].href == "posture-catalog.json"
    assert profile.imports[0].include_controls[0].with_ids == [c.id for c in tier.active_controls()]
    values = {s.param_id: s.values for s in profile.modify.set_parameters}
    assert values["max_access_key_age_days"] == ["90"]
    digest = props_of(profile.metadata, "tier-digest")[0].value
    from posture.attest import tier_digest

    assert digest == tier_digest(tier)


def test_profile_of_an_organisation_tier_keeps_exclusions_with_their_justification(tmp_path: Path) -> None:
    profile = Profile.oscal_read(write(tmp_path, "profile", str(ACME)))
    assert profile.imports[0].exclude_controls[0].with_ids == ["IAM-04"]
    assert "IAM-04" not in profile.imports[0].include_controls[0].with_ids
    exclusion = props_of(profile.metadata, "excluded-control")[0]
    assert exclusion.value == "IAM-04" and "federated" in exclusion.remarks
    sets = {s.param_id: s for s in profile.modify.set_parameters}
    assert sets["min_log_retention_days"].values == ["400"]
    assert props_of(sets["min_log_retention_days"], "set-by")[0].value == "acme-corp"


def test_components_list_per_cloud_the_checks_that_assess_each_control(tmp_path: Path) -> None:
    definition = ComponentDefinition.oscal_read(write(tmp_path, "components"))
    reg = registry()
    assert {props_of(c, "provider")[0].value for c in definition.components} == set(reg.providers)
    for component in definition.components:
        provider = props_of(component, "provider")[0].value
        rules = {p.value for p in props_of(component, "Rule_Id")}
        assert rules == {cid for cid, c in reg.checks.items() if c.provider == provider}
        for req in component.control_implementations[0].implemented_requirements:
            for rule in props_of(req, "Rule_Id"):
                assert req.control_id in reg.checks[rule.value].controls


def test_same_input_gives_the_same_file_bar_last_modified(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for args in (["catalog"], ["profile", str(ACME)], ["components"]):
        monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
        first = json.loads(write(tmp_path, *args, name="a.json").read_text())
        monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
        second = write(tmp_path, *args, name="b.json").read_bytes()
        third = write(tmp_path, *args, name="c.json").read_bytes()
        assert second == third  # reproducible with SOURCE_DATE_EPOCH
        root = next(iter(first))
        assert json.loads(second)[root]["metadata"]["last-modified"].startswith("2026-01-01T00:00:00")
        first[root]["metadata"]["last-modified"] = json.loads(second)[root]["metadata"]["last-modified"]
        assert first == json.loads(second)  # without it, only last-modified differs


def test_without_trestle_the_command_says_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "trestle.oscal", None)
    result = CliRunner().invoke(cli, ["oscal", "catalog", "-o", str(tmp_path / "c.json")])
    assert result.exit_code == 2
    assert "pip install 'tiered-posture[oscal]'" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "c.json").exists()
