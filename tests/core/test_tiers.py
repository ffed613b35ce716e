"""Tier loading, inheritance, tightening, exclusions and the precise error messages."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from posture import tiers
from posture.tiers import CATALOGUE_DEFAULT, TierError, load_tier

ROOT = Path(__file__).resolve().parents[2]
TIERS_DIR = ROOT / "tiers"
EXAMPLE = TIERS_DIR / "examples" / "acme-corp.yaml"
STANDARD = ["tier-1", "tier-2", "tier-3"]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text.lstrip("\n"), encoding="utf-8")
    return path


def error_for(path: Path | str) -> TierError:
    with pytest.raises(TierError) as info:
        load_tier(path if isinstance(path, str) else Path(path))
    return info.value


# ------------------------------------------------------------------ standard tiers
@pytest.mark.parametrize("path", [TIERS_DIR / f"{t}.yaml" for t in STANDARD] + [EXAMPLE], ids=lambda p: p.stem)
def test_standard_and_example_tiers_validate_against_the_schema(path: Path) -> None:
    schema = json.loads((ROOT / "posture" / "schemas" / "tier.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(yaml.safe_load(path.read_text())))
    assert errors == []
    assert tiers.validate_tier_file(path).path == path.resolve()


def test_list_tiers_returns_the_three_standard_tiers_but_not_examples() -> None:
    assert [t.id for t in tiers.list_tiers()] == STANDARD


def test_each_standard_tier_extends_the_one_below() -> None:
    t1, t2, t3 = (load_tier(t) for t in STANDARD)
    assert (t1.chain, t2.chain, t3.chain) == (["tier-1"], ["tier-1", "tier-2"], STANDARD)
    assert [lvl.id for lvl in t3.levels] == STANDARD
    assert t3.levels[-1] is t3


def test_higher_tiers_keep_every_control_and_only_tighten_parameters() -> None:
    for lower_id, higher_id in [("tier-1", "tier-2"), ("tier-2", "tier-3")]:
        lower, higher = load_tier(lower_id), load_tier(higher_id)
        diff = tiers.diff_tiers(lower, higher)
        assert diff["dropped"] == []
        assert diff["added"], f"{higher_id} adds no control"
        assert diff["changed"], f"{higher_id} tightens no parameter"
        assert all(c["tighter"] for c in diff["changed"]), diff["changed"]
        assert {c.id for c in lower.active_controls()} < {c.id for c in higher.active_controls()}


def test_access_key_age_is_365_90_45_across_the_standard_tiers() -> None:
    ages = [load_tier(t).parameters_for("IAM-05")["max_access_key_age_days"] for t in STANDARD]
    assert ages == [365, 90, 45]


def test_tier_3_selects_the_whole_catalogue() -> None:
    assert {c.id for c in load_tier("tier-3").active_controls()} == set(tiers.load_catalogue().controls)


def test_tier_1_serves_every_minimum_baseline_item() -> None:
    cat = tiers.load_catalogue()
    served = {b for c in load_tier("tier-1").active_controls() for b in c.spec.baseline}
    assert served == set(cat.baseline)


def test_sources_name_the_tier_that_set_each_parameter() -> None:
    t3 = load_tier("tier-3")
    assert t3.controls["IAM-05"].sources == {"max_access_key_age_days": "tier-3"}
    assert t3.controls["DP-04"].sources == {"min_tls_version": "tier-1"}
    assert t3.controls["KEY-01"].introduced_by == "tier-2"
    assert t3.controls["IAM-01"].introduced_by == "tier-1"


def test_a_control_selected_without_parameters_gets_the_catalogue_default(tmp_path: Path) -> None:
    path = write(tmp_path, "t.yaml", """
id: mini
title: Mini
controls:
  DP-04: {}
  IAM-01:
""")
    tier = load_tier(path)
    assert tier.parameters_for("DP-04") == {"min_tls_version": "1.2"}
    assert tier.controls["DP-04"].sources == {"min_tls_version": CATALOGUE_DEFAULT}
    assert tier.parameters_for("IAM-01") == {}
    # a control the tier does not select: catalogue defaults, so a check can still be evaluated
    assert tier.parameters_for("IAM-05") == {"max_access_key_age_days": 365}
    with pytest.raises(KeyError):
        tier.parameters_for("NOPE-01")


def test_json_tier_files_load_and_report_lines(tmp_path: Path) -> None:
    ok = write(tmp_path, "ok.json", json.dumps({"id": "j", "title": "J", "extends": "tier-1",
                                               "controls": {"DP-10": {}}}, indent=2))
    assert load_tier(ok).chain == ["tier-1", "j"]
    bad = write(tmp_path, "bad.json", '{\n  "id": "j",\n  "title": "J",\n  "controls": {\n    "XX-01": {}\n  }\n}\n')
    err = error_for(bad)
    assert (err.line, err.json_path) == (5, "$.controls['XX-01']")
    syntax = write(tmp_path, "syntax.json", '{\n  "id": "j",\n  "title": \n}\n')
    err = error_for(syntax)
    assert err.line == 4 and "invalid JSON at line 4" in err.problem


# ------------------------------------------------------------ organisation tiers
def test_example_org_tier_adds_raises_and_excludes_with_justification() -> None:
    org = load_tier(str(EXAMPLE))
    assert org.chain == ["tier-1", "tier-2", "acme-corp"]
    assert org.controls["DP-10"].introduced_by == "acme-corp"
    assert org.parameters_for("LOG-04") == {"min_log_retention_days": 400}
    assert org.controls["LOG-04"].sources["min_log_retention_days"] == "acme-corp"
    excluded = org.controls["IAM-04"]
    assert excluded.excluded and excluded.excluded_by == "acme-corp"
    assert "federated" in excluded.justification
    assert "IAM-04" not in {c.id for c in org.active_controls()}
    assert [c.id for c in org.excluded_controls()] == ["IAM-04"]
    # every level keeps its own parameters: tier attainment is judged per level
    assert [lvl.parameters_for("LOG-04")["min_log_retention_days"] for lvl in org.levels] == [90, 365, 400]
    assert not org.levels[1].controls["IAM-04"].excluded


def test_exclusions_are_inherited_and_can_be_re_included(tmp_path: Path) -> None:
    write(tmp_path, "base.yaml", """
id: base
title: Base
extends: tier-1
exclude:
  - control: LOG-04
    justification: logs are shipped to the SIEM which keeps them for 10 years
""")
    child = write(tmp_path, "child.yaml", """
id: child
title: Child
extends: ./base.yaml
""")
    back = write(tmp_path, "back.yaml", """
id: back
title: Back
extends: ./child.yaml
controls:
  LOG-04: {}
""")
    c = load_tier(child)
    assert c.controls["LOG-04"].excluded and c.controls["LOG-04"].excluded_by == "base"
    b = load_tier(back)
    assert not b.controls["LOG-04"].excluded
    assert b.parameters_for("LOG-04") == {"min_log_retention_days": 90}


def test_loosening_with_an_override_justification_is_accepted_and_recorded(tmp_path: Path) -> None:
    path = write(tmp_path, "legacy.yaml", """
id: legacy
title: Legacy estate
extends: tier-2
controls:
  IAM-05:
    parameters: {max_access_key_age_days: 180}
    override:
      justification: vendor appliance cannot rotate keys more often; replaced in Q3
""")
    tier = load_tier(path)
    rc = tier.controls["IAM-05"]
    assert rc.parameters == {"max_access_key_age_days": 180}
    assert rc.overrides == {"max_access_key_age_days": "vendor appliance cannot rotate keys more often; replaced in Q3"}
    change = tiers.diff_tiers(load_tier("tier-2"), tier)["changed"]
    assert change == [{"control": "IAM-05", "parameter": "max_access_key_age_days", "from": 90, "to": 180,
                       "source": "legacy", "tighter": False, "override": rc.overrides["max_access_key_age_days"]}]


def test_tightening_each_parameter_kind_needs_no_override(tmp_path: Path) -> None:
    path = write(tmp_path, "tight.yaml", """
id: tight
title: Tight
extends: tier-1
controls:
  IAM-05: {parameters: {max_access_key_age_days: 30}}
  LOG-04: {parameters: {min_log_retention_days: 3650}}
  DP-04: {parameters: {min_tls_version: "1.3"}}
  NET-01: {parameters: {admin_ports: [22, 3389, 5432]}}
  INV-03: {parameters: {required_tags: [owner, cost-centre]}}
""")
    tier = load_tier(path)
    assert tier.parameters_for("NET-01") == {"admin_ports": [22, 3389, 5432]}
    assert tier.controls["DP-04"].overrides == {}


@pytest.mark.parametrize("control,param,value,inherited", [
    ("IAM-05", "max_access_key_age_days", "400", "365"),
    ("LOG-04", "min_log_retention_days", "30", "90"),
    ("DP-04", "min_tls_version", '"1.10"', None),  # 1.10 > 1.2 numerically: tighter, accepted
    ("DP-04", "min_tls_version", '"1.1"', "1.2"),
    ("NET-01", "admin_ports", "[22]", "[22, 3389]"),
    ("INV-03", "required_tags", "[team]", "[owner]"),
])
def test_loosening_without_override_names_the_parameter_and_both_values(
        tmp_path: Path, control: str, param: str, value: str, inherited: str | None) -> None:
    path = write(tmp_path, "loose.yaml", f"""
id: loose
title: Loose
extends: tier-1
controls:
  {control}:
    parameters:
      {param}: {value}
""")
    if inherited is None:
        load_tier(path)
        return
    err = error_for(path)
    assert err.line == 7
    assert err.json_path == f"$.controls['{control}'].parameters.{param}"
    assert f"loosens {param} from {inherited} (set by tier-1)" in err.problem
    assert "override" in err.problem
    assert str(err).startswith(f"{path.resolve()}:7: at $.controls['{control}'].parameters.{param}: loosens")


# ------------------------------------------------------------ precise error messages
ERROR_CASES = {
    "missing field": ("""
title: No id
controls:
  IAM-01: {}
""", 1, "$", "missing required field 'id'"),
    "wrong type": ("""
id: x
title: 5
controls:
  IAM-01: {}
""", 2, "$.title", "wrong type: expected string, got integer 5"),
    "wrong type of a selection": ("""
id: x
title: X
controls:
  IAM-01: [a]
""", 4, "$.controls['IAM-01']", "wrong type: expected object or null, got array"),
    "unknown field": ("""
id: x
title: X
extends: tier-1
contrls: {}
""", 4, "$.contrls", "unknown field 'contrls'"),
    "unknown control": ("""
id: x
title: X
controls:
  IAM-01: {}
  IAM-99: {}
""", 5, "$.controls['IAM-99']", "unknown control 'IAM-99' (not in the catalogue"),
    "unknown parameter for a control": ("""
id: x
title: X
controls:
  IAM-05:
    parameters:
      max_key_age_days: 90
""", 6, "$.controls['IAM-05'].parameters.max_key_age_days",
        "unknown parameter 'max_key_age_days' for control IAM-05 (IAM-05 takes: max_access_key_age_days)"),
    "parameter of another control": ("""
id: x
title: X
controls:
  IAM-01:
    parameters: {min_log_retention_days: 90}
""", 5, "$.controls['IAM-01'].parameters.min_log_retention_days",
        "IAM-01 takes no parameters); 'min_log_retention_days' belongs to LOG-04"),
    "parameter of the wrong type": ("""
id: x
title: X
controls:
  IAM-05:
    parameters:
      max_access_key_age_days: "ninety"
""", 6, "$.controls['IAM-05'].parameters.max_access_key_age_days",
        "parameter 'max_access_key_age_days' must be an integer, got string 'ninety'"),
    "ports of the wrong type": ("""
id: x
title: X
controls:
  NET-01:
    parameters: {admin_ports: [22, "ssh"]}
""", 5, "$.controls['NET-01'].parameters.admin_ports", "must be a list of TCP ports"),
    "version of the wrong shape": ("""
id: x
title: X
controls:
  DP-04:
    parameters: {min_tls_version: "TLS1_2"}
""", 5, "$.controls['DP-04'].parameters.min_tls_version", "must be a dotted version such as \"1.2\""),
    "unknown parent": ("""
id: x
title: X
extends: tier-9
""", 3, "$.extends", "unknown parent tier 'tier-9' (known tiers: tier-1, tier-2, tier-3"),
    "unknown parent file": ("""
id: x
title: X
extends: ./nowhere.yaml
""", 3, "$.extends", "unknown parent tier './nowhere.yaml': no such file"),
    "invalid YAML syntax": ("""
id: x
title: X
controls:
  IAM-01: {
  IAM-02: {}
""", 6, "$", "invalid YAML at line 6, column 1: expected ',' or '}'"),
    "invalid YAML indentation": ("""
id: x
title: X
 controls: {}
""", 3, "$", "invalid YAML at line 3, column 10: mapping values are not allowed here"),
    "excluding without justification": ("""
id: x
title: X
extends: tier-1
exclude:
  - control: IAM-04
""", 5, "$.exclude[0]", "missing required field 'justification': an excluded control needs a written justification"),
    "excluding with a blank justification": ("""
id: x
title: X
extends: tier-1
exclude:
  - control: IAM-04
    justification: "   "
""", 6, "$.exclude[0].justification", "an excluded control needs a written justification"),
    "excluding an unknown control": ("""
id: x
title: X
extends: tier-1
exclude:
  - control: IAM-42
    justification: because
""", 5, "$.exclude[0].control", "cannot exclude unknown control 'IAM-42'"),
    "excluding a control the parent does not select": ("""
id: x
title: X
extends: tier-1
exclude:
  - control: DP-10
    justification: because
""", 5, "$.exclude[0].control", "cannot exclude DP-10: it is not selected by tier tier-1; nothing to exclude"),
    "selecting and excluding the same control": ("""
id: x
title: X
extends: tier-1
controls:
  IAM-04: {}
exclude:
  - control: IAM-04
    justification: because
""", 7, "$.exclude[0].control", "control IAM-04 is both selected under controls and excluded"),
    "override without justification": ("""
id: x
title: X
extends: tier-1
controls:
  IAM-05:
    parameters: {max_access_key_age_days: 400}
    override: {}
""", 7, "$.controls['IAM-05'].override", "missing required field 'justification': an override needs"),
    "root tier without controls": ("""
id: x
title: X
""", 1, "$", "a tier without 'extends' must select at least one control"),
    "id reused from an ancestor": ("""
id: tier-1
title: Mine
extends: tier-2
""", 1, "$.id", "tier id 'tier-1' is already used by an ancestor (tier-1 -> tier-2)"),
    "top level not a mapping": ("""
- id: x
""", 1, "$", "a tier file must be a mapping at the top level, got array"),
    "a control id YAML reads as a number": ("""
id: x
title: X
controls:
  IAM-01: {}
  123: {}
""", 5, "$.controls[123]", "unknown control '123' (not in the catalogue"),
}


@pytest.mark.parametrize("case", list(ERROR_CASES), ids=lambda c: c.replace(" ", "_"))
def test_invalid_tier_gives_file_line_path_and_problem(tmp_path: Path, case: str) -> None:
    text, line, path_in_file, problem = ERROR_CASES[case]
    path = write(tmp_path, "bad.yaml", text)
    err = error_for(path)
    assert (err.file, err.line, err.json_path) == (str(path.resolve()), line, path_in_file), str(err)
    assert problem in err.problem
    assert str(err) == f"{path.resolve()}:{line}: at {path_in_file}: {err.problem}"


def test_cycle_in_extends_names_the_whole_chain(tmp_path: Path) -> None:
    for name, parent in [("a", "b"), ("b", "c"), ("c", "a")]:
        write(tmp_path, f"{name}.yaml", f"id: {name}\ntitle: {name.upper()}\nextends: ./{parent}.yaml\n")
    err = error_for(tmp_path / "a.yaml")
    assert err.problem == "cycle in extends: a -> b -> c -> a"
    assert (Path(err.file).name, err.line, err.json_path) == ("c.yaml", 3, "$.extends")


def test_a_tier_extending_itself_is_a_cycle(tmp_path: Path) -> None:
    path = write(tmp_path, "self.yaml", "id: me\ntitle: Me\nextends: ./self.yaml\n")
    assert error_for(path).problem == "cycle in extends: me -> me"


def test_errors_in_a_parent_file_name_the_parent(tmp_path: Path) -> None:
    write(tmp_path, "parent.yaml", "id: p\ntitle: P\nextends: tier-1\ncontrols:\n  NOPE-01: {}\n")
    child = write(tmp_path, "child.yaml", "id: c\ntitle: C\nextends: ./parent.yaml\n")
    err = error_for(child)
    assert Path(err.file).name == "parent.yaml" and err.line == 5


def test_unknown_tier_name_lists_the_known_tiers() -> None:
    err = error_for("tier-7")
    assert err.file == "tier-7"
    assert "unknown tier 'tier-7' (known tiers: tier-1, tier-2, tier-3" in err.problem
    assert str(err).startswith("tier-7: at $: unknown tier")


def test_missing_tier_file_is_a_tier_error(tmp_path: Path) -> None:
    err = error_for(str(tmp_path / "nope.yaml"))
    assert err.problem == "no such tier file" and err.line is None


# ------------------------------------------------------------------- search path
def test_tiers_path_env_adds_directories_but_cannot_shadow_standard_tiers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    extra = tmp_path / "org-tiers"
    extra.mkdir()
    write(extra, "prod.yaml", "id: prod\ntitle: Prod\nextends: tier-2\ncontrols:\n  DP-10: {}\n")
    write(extra, "tier-1.yaml", "id: tier-1\ntitle: Fake\ncontrols:\n  IAM-01: {}\n")
    monkeypatch.setenv(tiers.TIERS_PATH_ENV, f"{tmp_path / 'missing'}{__import__('os').pathsep}{extra}")
    assert load_tier("prod").chain == ["tier-1", "tier-2", "prod"]
    assert load_tier("tier-1").title == "Foundational"
    assert [t.id for t in tiers.list_tiers()] == STANDARD
    assert [t.id for t in tiers.list_tiers(include_extra=True)] == ["prod", *STANDARD]


def test_a_tier_file_whose_id_differs_from_its_name_is_rejected(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "prod.yaml", "id: production\ntitle: Prod\nextends: tier-1\n")
    monkeypatch.setenv(tiers.TIERS_PATH_ENV, str(tmp_path))
    err = error_for("prod")
    assert (err.json_path, err.line) == ("$.id", 1)
    assert "declares id 'production', expected 'prod'" in err.problem


# ----------------------------------------------------------------- classification
@pytest.mark.parametrize("level,tier", [
    ("public", "tier-1"), ("internal", "tier-1"), ("confidential", "tier-2"), ("PII", "tier-2"),
    ("personal data", "tier-2"), ("strictly confidential", "tier-3"), ("Strictly_Confidential", "tier-3"),
    ("restricted", "tier-3"),
])
def test_classification_levels_map_to_standard_tiers(level: str, tier: str) -> None:
    assert tiers.tier_for_classification(level) == tier


def test_classification_map_agrees_with_the_tiers_classifications() -> None:
    for lvl in tiers.load_classification():
        assert lvl.id in load_tier(lvl.tier).classifications, lvl


def test_unknown_classification_level_is_a_tier_error() -> None:
    with pytest.raises(TierError, match="unknown classification level 'galactic' \\(known: public, internal"):
        tiers.tier_for_classification("galactic")


# ------------------------------------------------------- the engine honours tiers
def _engine_inputs():
    from posture.checks import Check
    from posture.facts import Coverage, Fact, FactSet

    checks = {c.id: c for c in [
        Check(id="t.account.password_length", title="Password length", provider="t", fact_type="t.account",
              controls=("IAM-04",), condition={"key": "min_length", "op": "ge",
                                               "value": {"param": "min_password_length"}}),
        Check(id="t.logs.retention", title="Log retention", provider="t", fact_type="t.account",
              controls=("LOG-04",), condition={"key": "retention_days", "op": "ge",
                                               "value": {"param": "min_log_retention_days"}}),
    ]}
    facts = FactSet(
        facts=[Fact("t", "acct", "global", "t.account", "acct", "acct", {"min_length": 8, "retention_days": 380})],
        coverage=[Coverage("t", "acct", "global", "t.account")],
        scopes=[{"provider": "t", "id": "acct", "name": "acct", "kind": "account", "parent": ""}],
    )
    return facts, checks


def test_engine_reports_excluded_controls_with_their_justification_and_uses_org_parameters() -> None:
    from posture.engine import evaluate

    facts, checks = _engine_inputs()
    org = load_tier(str(EXAMPLE))
    by_check = {r.check_id: r for r in evaluate(facts, org, checks).results}
    excluded = by_check["t.account.password_length"]
    assert excluded.status == "excluded"
    assert excluded.justification == org.controls["IAM-04"].justification
    # 380 days of retention: enough for tier-2 (365), not for acme-corp (400)
    assert by_check["t.logs.retention"].status == "fail"
    plain = {r.check_id: r for r in evaluate(facts, load_tier("tier-2"), checks).results}
    assert plain["t.logs.retention"].status == "pass"
    assert plain["t.account.password_length"].status == "fail"
