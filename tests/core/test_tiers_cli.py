"""``posture tiers``: list, show, diff, validate, for-classification."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from posture.cli import cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = str(ROOT / "tiers" / "examples" / "acme-corp.yaml")


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_tiers_list_json_lists_the_standard_tiers() -> None:
    result = run("tiers", "list", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [(r["id"], r["extends"]) for r in rows] == [("tier-1", None), ("tier-2", "tier-1"), ("tier-3", "tier-2")]
    assert rows[2]["controls"] == 57 and rows[0]["classifications"] == ["public", "internal"]


def test_tiers_list_table_shows_titles() -> None:
    result = run("tiers", "list")
    assert result.exit_code == 0
    for word in ("Foundational", "Enhanced", "High"):
        assert word in result.output


def test_tiers_show_prints_every_control_with_the_source_of_each_value() -> None:
    result = run("tiers", "show", "tier-2")
    assert result.exit_code == 0, result.output
    assert "tier-1 -> tier-2" in result.output
    assert "max_access_key_age_days = 90 <- tier-2" in result.output
    assert "min_tls_version = 1.2 <- tier-1" in result.output
    data = json.loads(run("tiers", "show", "tier-2", "--json").output)
    assert len(data["controls"]) == 47
    iam05 = next(c for c in data["controls"] if c["id"] == "IAM-05")
    assert iam05["parameters"] == {"max_access_key_age_days": {"value": 90, "source": "tier-2"}}
    assert iam05["introduced_by"] == "tier-1"


def test_tiers_show_reports_excluded_controls_with_their_justification() -> None:
    result = run("tiers", "show", EXAMPLE)
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if line.strip("│ ").startswith("IAM-04"))
    assert "excluded by acme-corp: All human access" in row
    data = json.loads(run("tiers", "show", EXAMPLE, "--json").output)
    iam04 = next(c for c in data["controls"] if c["id"] == "IAM-04")
    assert iam04["excluded"] is True and iam04["justification"].startswith("All human access")


def test_tiers_diff_shows_what_a_step_up_demands() -> None:
    data = json.loads(run("tiers", "diff", "tier-1", "tier-2", "--json").output)
    assert data["from"] == "tier-1" and data["to"] == "tier-2"
    assert "KEY-01" in {c["id"] for c in data["added"]}
    change = next(c for c in data["changed"] if c["parameter"] == "max_access_key_age_days")
    assert (change["from"], change["to"], change["tighter"]) == (365, 90, True)
    text = run("tiers", "diff", "tier-1", "tier-2")
    assert text.exit_code == 0
    assert "29 controls added" in text.output
    assert "max_access_key_age_days" in text.output and "tighter" in text.output


def test_tiers_diff_lists_controls_an_org_tier_drops() -> None:
    data = json.loads(run("tiers", "diff", "tier-2", EXAMPLE, "--json").output)
    assert [d["id"] for d in data["dropped"]] == ["IAM-04"]
    assert data["dropped"][0]["excluded_by"] == "acme-corp"


def test_tiers_validate_reports_valid_files() -> None:
    result = run("tiers", "validate", EXAMPLE, str(ROOT / "tiers" / "tier-3.yaml"),
                 str(ROOT / "tiers" / "controls.yaml"))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].endswith("valid (tier acme-corp (tier-1 -> tier-2 -> acme-corp), 47 controls, 1 excluded)")
    assert "tier-3.yaml: valid" in lines[1]
    assert "controls.yaml: valid (catalogue posture-controls" in lines[2]


def test_tiers_validate_exits_2_with_the_precise_message(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\ntitle: X\nextends: tier-1\nexclude:\n  - control: IAM-04\n")
    result = run("tiers", "validate", str(bad))
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"posture: error: {bad.resolve()}:5: at $.exclude[0]: missing required field 'justification': "
        "an excluded control needs a written justification")
    assert "Traceback" not in result.output
    data = json.loads(run("tiers", "validate", str(bad), "--json").output)
    assert data[0]["valid"] is False and data[0]["error"]["line"] == 5


def test_tiers_validate_rejects_a_broken_catalogue(tmp_path: Path) -> None:
    cat = tmp_path / "controls.yaml"
    cat.write_text("catalogue: c\nversion: 1\nbaseline: {}\ndomains: {x: X}\ncontrols:\n"
                   "  - {id: A-01, title: A, domain: y, severity: high, baseline: []}\n")
    result = run("tiers", "validate", str(cat))
    assert result.exit_code == 2
    assert ":6: at $.controls[0].domain: unknown domain 'y' (known: x)" in result.stderr


def test_unknown_tier_exits_2_without_traceback() -> None:
    result = run("tiers", "show", "tier-9")
    assert result.exit_code == 2
    assert result.stderr.startswith("posture: error: tier-9: at $: unknown tier 'tier-9'")


def test_tiers_for_classification_prints_the_tier_id() -> None:
    assert run("tiers", "for-classification", "confidential").output == "tier-2\n"
    assert run("tiers", "for-classification", "Strictly Confidential").output == "tier-3\n"
    data = json.loads(run("tiers", "for-classification", "pii", "--json").output)
    assert (data["classification"], data["tier"]) == ("confidential", "tier-2")
    bad = run("tiers", "for-classification", "cosmic")
    assert bad.exit_code == 2 and "unknown classification level 'cosmic'" in bad.stderr
