"""posture compare: three organisations on three clouds, schema, anonymisation that leaks nothing."""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import sys
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parents[1] / "fixtures" / "reports"))
from posture_report_factory import aws_org, azure_org, gcp_org  # noqa: E402

from posture.cli import cli  # noqa: E402
from posture.compare import compare  # noqa: E402
from posture.outputs.html import render_compare  # noqa: E402

FIXTURES = Path(__file__).parents[1] / "fixtures" / "reports"
PATHS = [str(FIXTURES / n) for n in ("aws-acme.json", "azure-globex.json", "gcp-initech.json")]
SCHEMA = json.loads((Path(__file__).parents[2] / "posture" / "schemas" / "compare.schema.json").read_text())
SALT = "correct horse battery staple"


def validate(comparison: dict) -> None:
    jsonschema.Draft202012Validator(SCHEMA).validate(comparison)


@pytest.fixture(scope="module")
def reports():
    return [aws_org(), azure_org(), gcp_org()]


def test_fixture_files_match_the_factory(reports) -> None:
    for path, report in zip(PATHS, reports, strict=True):
        assert json.loads(Path(path).read_text()) == json.loads(json.dumps(report.to_dict()))


def test_three_clouds_line_up_per_control(reports) -> None:
    c = compare(reports, ["Acme", "Globex", None])
    validate(c)
    assert [o["label"] for o in c["organisations"]] == ["Acme", "Globex", "Initech"]
    assert [o["providers"] for o in c["organisations"]] == [["aws"], ["azure"], ["gcp"]]
    rows = {ctrl["control"]: ctrl["results"] for ctrl in c["controls"]}
    assert set(rows) == {"DP-01", "IAM-01", "IAM-05", "KEY-01", "LOG-01", "NET-01"}
    dp = rows["DP-01"]
    assert (dp["Acme"]["pass"], dp["Acme"]["fail"], dp["Acme"]["status"]) == (1, 1, "fail")
    assert (dp["Globex"]["pass"], dp["Globex"]["fail"], dp["Globex"]["status"]) == (0, 1, "fail")
    assert (dp["Initech"]["pass"], dp["Initech"]["fail"], dp["Initech"]["status"]) == (1, 0, "pass")
    assert rows["LOG-01"]["Acme"]["error"] == 1 and rows["LOG-01"]["Acme"]["status"] == "error"
    assert rows["KEY-01"]["Acme"]["excluded"] == 2 and rows["KEY-01"]["Acme"]["status"] == "excluded"
    assert rows["IAM-05"]["Globex"]["status"] == "not_assessed"


def test_tier_matrix_gives_status_and_mean_pass_rate(reports) -> None:
    c = compare(reports, ["Acme", "Globex"])
    att = {(a["organisation"], a["tier"]): a for a in c["attainment"]}
    assert c["tiers"] == ["tier-1", "tier-2"]
    assert att[("Initech", "tier-1")]["status"] == "attained" and att[("Initech", "tier-1")]["pass_rate"] == 1.0
    assert att[("Initech", "tier-2")]["status"] == "not_attained"
    acme = att[("Acme", "tier-1")]
    assert (acme["status"], acme["scopes"], acme["scopes_attained"]) == ("not_attained", 2, 0)
    assert acme["pass_rate"] == pytest.approx((0.5 + 0.3333) / 2, abs=1e-4)


def test_label_falls_back_to_scope_ids(reports) -> None:
    c = compare(reports[1:2])
    assert c["organisations"][0]["label"] == "0b1f6471-1bf0-4dda-aec3-cb9272f09590"


def test_reports_with_the_same_label_merge_into_one_row() -> None:
    c = compare([aws_org(), azure_org()], ["Conglomerate", "Conglomerate"])
    assert [o["label"] for o in c["organisations"]] == ["Conglomerate"]
    assert c["organisations"][0]["providers"] == ["aws", "azure"]
    assert c["controls"][0]["results"]["Conglomerate"]["fail"] == 2  # DP-01: one AWS + one Azure bucket


def test_group_by_scope_gives_one_row_per_account(reports) -> None:
    c = compare(reports, group_by="scope")
    validate(c)
    assert [o["label"] for o in c["organisations"]][:2] == ["Acme Corp / acme-prod (111111111111)",
                                                            "Acme Corp / acme-dev (222222222222)"]
    att = {(a["organisation"], a["tier"]): a["status"] for a in c["attainment"]}
    assert att[("Acme Corp / acme-dev (222222222222)", "tier-1")] == "not_attained"


def _identifiers(reports) -> set[str]:
    """Everything that identifies an organisation or a resource in the inputs."""
    found: set[str] = {"Acme Corp", "Acme", "Globex", "Initech"}
    for r in reports:
        found.update(str(v) for v in r.metadata.values())
        for s in r.scopes:
            found.update({s["id"], s["name"], s["parent"]})
        for res in r.results:
            found.update({res.resource_id, res.resource_name, res.scope})
    found.discard("")
    return found


def test_anonymised_comparison_leaks_no_identifier(reports) -> None:
    c = compare(reports, ["Acme", "Globex"], salt=SALT)
    validate(c)
    outputs = {"json": json.dumps(c), "html": render_compare(c)}
    c_scope = compare(reports, salt=SALT, group_by="scope")
    outputs["json-by-scope"] = json.dumps(c_scope)
    outputs["html-by-scope"] = render_compare(c_scope)
    secrets = _identifiers(reports)
    assert len(secrets) > 40
    for name, text in outputs.items():
        lowered = text.lower()
        for secret in secrets:
            for form in {secret, html.escape(secret), json.dumps(secret)[1:-1]}:
                assert form.lower() not in lowered, f"{name} output leaks {secret!r}"
    assert c["anonymised"] is True


def test_pseudonyms_are_hmac_sha256_of_the_salt_and_stable(reports) -> None:
    expected = "org-" + hmac.new(SALT.encode(), b"org\x00Acme", hashlib.sha256).hexdigest()[:12]
    a = compare(reports, ["Acme"], salt=SALT)
    b = compare(list(reversed(reports)), [None, None, "Acme"], salt=SALT)
    assert a["organisations"][0]["label"] == expected
    assert expected in [o["label"] for o in b["organisations"]]
    other = compare(reports, ["Acme"], salt="another salt")
    assert other["organisations"][0]["label"] != expected


def test_anonymising_without_a_salt_is_refused(reports) -> None:
    with pytest.raises(ValueError, match="salt is required"):
        compare(reports, salt="")


# -------------------------------------------------------------------- CLI
def test_compare_command_writes_json_html_and_console(tmp_path: Path) -> None:
    out_json, out_html = tmp_path / "c.json", tmp_path / "c.html"
    res = CliRunner().invoke(cli, ["compare", *PATHS, "--label", "Acme", "--json", str(out_json),
                                   "--html", str(out_html)], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    validate(json.loads(out_json.read_text()))
    assert "Tier attainment" in res.output and "Initech" in res.output and "attained 100%" in res.output
    page = out_html.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page
    assert "<script" not in page and "http://" not in page and "https://" not in page


def test_compare_command_anonymises_with_salt_from_env(tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, ["compare", *PATHS, "--anonymise", "--salt-env", "ORG_SALT", "--json", "-"],
                             env={"ORG_SALT": SALT})
    assert res.exit_code == 0, res.output
    c = json.loads(res.output)
    assert c["anonymised"] and all(o["label"].startswith("org-") for o in c["organisations"])
    for secret in ("Acme Corp", "Initech", "111111111111", "0b1f6471-1bf0-4dda-aec3-cb9272f09590"):
        assert secret not in res.output


def test_compare_command_prompts_for_salt_and_refuses_an_empty_one(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("posture.cli.compare_cmd._interactive", lambda: True)  # as on a terminal
    ok = CliRunner().invoke(cli, ["compare", *PATHS, "--anonymise", "--json", "-"], input=f"{SALT}\n")
    assert ok.exit_code == 0, ok.output
    assert "org-" in ok.output
    empty = CliRunner().invoke(cli, ["compare", *PATHS, "--anonymise", "--json", "-"], input="\n")
    assert empty.exit_code == 2 and "needs a salt" in empty.output
    unset = CliRunner().invoke(cli, ["compare", *PATHS, "--anonymise", "--salt-env", "NO_SUCH_SALT_VAR"])
    assert unset.exit_code == 2 and "NO_SUCH_SALT_VAR" in unset.output


def test_compare_command_bad_input_exits_2_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    res = CliRunner().invoke(cli, ["compare", PATHS[0], str(bad)])
    assert res.exit_code == 2 and "not valid JSON" in res.output and "Traceback" not in res.output
    res = CliRunner().invoke(cli, ["compare", str(tmp_path / "missing.json")])
    assert res.exit_code == 2 and "cannot read report" in res.output
    res = CliRunner().invoke(cli, ["compare", PATHS[0], "--label", "a", "--label", "b"])
    assert res.exit_code == 2 and "2 --label values for 1 reports" in res.output


def test_anonymise_without_salt_env_outside_a_terminal_is_one_line_and_exit_2() -> None:
    res = CliRunner().invoke(cli, ["compare", *PATHS, "--anonymise", "--json", "-"])  # stdin is not a terminal
    assert res.exit_code == 2, res.output
    assert res.output.strip().splitlines() == [
        "posture: error: --anonymise needs a salt: outside a terminal give --salt-env VAR (an environment variable "
        "holding it); there is no default"]


def test_compare_renders_through_the_output_plugins_and_names_a_missing_one(tmp_path: Path, fresh_plugins,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTURE_PLUGINS", "json,console")  # no html output installed
    fresh_plugins.reset()
    out_html, out_json = tmp_path / "c.html", tmp_path / "c.json"
    res = CliRunner().invoke(cli, ["compare", *PATHS, "--json", str(out_json), "--html", str(out_html)])
    assert res.exit_code == 2
    assert "no installed output writes a comparison as html" in res.output
    assert not out_json.exists() and not out_html.exists()  # refused before anything was written
    res = CliRunner().invoke(cli, ["compare", *PATHS, "--json", str(out_json)])
    assert res.exit_code == 0, res.output
    text = out_json.read_text(encoding="utf-8")
    written = json.loads(text)
    assert text == json.dumps(written, indent=2) + "\n"
    expected = compare([aws_org(), azure_org(), gcp_org()])
    assert written.pop("generated_at") and expected.pop("generated_at")  # the clock may tick between the two
    assert written == expected
