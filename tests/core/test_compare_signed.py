"""``posture compare --trusted-keys``: each organisation verified or unverified in console, JSON and HTML."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from posture.cli import cli

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "posture" / "schemas" / "compare.schema.json").read_text())


def run(*args, code: int = 0):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == code, result.output
    return result


@pytest.fixture
def orgs(fake_cloud, fresh_plugins, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Path]:
    """Two organisations' reports of the same fake cloud: ACME signs its report, Globex does not."""
    run("scan", "-p", "fake", "--tier", "tier-2", "--format", "json", "-o", tmp_path / "acme", "--no-store")
    shutil.copytree(tmp_path / "acme", tmp_path / "globex")
    run("keys", "generate", "-o", tmp_path / "acme-keys")
    run("attest", tmp_path / "acme" / "posture-report.json", "--key", tmp_path / "acme-keys" / "posture-signing.key",
        "--organisation", "ACME")
    trusted = tmp_path / "trusted"
    trusted.mkdir()
    shutil.copy(tmp_path / "acme-keys" / "posture-signing.pub", trusted / "acme.pub")
    # the outputs render the comparison, its HTML page included (the fake cloud loads json, sarif, console)
    monkeypatch.setenv("POSTURE_PLUGINS", "json,console,html")
    fresh_plugins.reset()
    return {"acme": tmp_path / "acme" / "posture-report.json", "globex": tmp_path / "globex" / "posture-report.json",
            "trusted": trusted, "dir": tmp_path}


def test_compare_marks_signed_and_unsigned_organisations_in_console_json_and_html(orgs: dict[str, Path]) -> None:
    out, html = orgs["dir"] / "cmp.json", orgs["dir"] / "cmp.html"
    r = run("compare", orgs["acme"], orgs["globex"], "--label", "", "--label", "Globex",
            "--trusted-keys", orgs["trusted"], "--json", out, "--html", html)
    comparison = json.loads(out.read_text())
    jsonschema.Draft202012Validator(SCHEMA).validate(comparison)
    status = {o["label"]: o["verification"]["status"] for o in comparison["organisations"]}
    assert status == {"ACME": "verified", "Globex": "unverified"}  # ACME's label comes from its attestation
    globex = next(o for o in comparison["organisations"] if o["label"] == "Globex")
    assert "no attestation" in globex["verification"]["reports"][0]["problems"][0]
    assert "Signed" in r.output and "verified" in r.output and "unverified Globex: no attestation" in r.output
    page = html.read_text()
    assert ">verified<" in page and ">unverified<" in page


def test_a_tampered_report_with_its_attestation_is_unverified_with_the_reason(orgs: dict[str, Path]) -> None:
    data = json.loads(orgs["acme"].read_text())
    next(r for r in data["results"] if r["status"] == "fail")["status"] = "pass"
    orgs["acme"].write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    out = orgs["dir"] / "cmp.json"
    run("compare", orgs["acme"], "--label", "ACME", "--trusted-keys", orgs["trusted"], "--json", out)
    entry = json.loads(out.read_text())["organisations"][0]["verification"]
    assert entry["status"] == "unverified"
    assert any("report digest" in p for p in entry["reports"][0]["problems"])


def test_a_signature_by_an_untrusted_key_is_unverified(orgs: dict[str, Path]) -> None:
    run("keys", "generate", "-o", orgs["dir"] / "other")
    other = orgs["dir"] / "other-trusted"
    other.mkdir()
    shutil.copy(orgs["dir"] / "other" / "posture-signing.pub", other / "other.pub")
    out = orgs["dir"] / "cmp.json"
    run("compare", orgs["acme"], "--trusted-keys", other, "--json", out)
    entry = json.loads(out.read_text())["organisations"][0]["verification"]
    assert entry["status"] == "unverified" and "signature does not verify" in entry["reports"][0]["problems"][0]


def test_a_label_other_than_the_attested_organisation_is_not_verified(orgs: dict[str, Path]) -> None:
    out = orgs["dir"] / "cmp.json"
    run("compare", orgs["acme"], "--label", "Initech", "--trusted-keys", orgs["trusted"], "--json", out)
    entry = json.loads(out.read_text())["organisations"][0]["verification"]
    assert entry["status"] == "unverified" and "is not the attested organisation 'ACME'" in entry["reports"][0]["problems"][0]


def test_attestations_given_explicitly_are_matched_by_report_digest(orgs: dict[str, Path]) -> None:
    moved = orgs["dir"] / "elsewhere.intoto.json"
    (orgs["acme"].parent / "posture-report.json.intoto.json").rename(moved)
    out = orgs["dir"] / "cmp.json"
    run("compare", orgs["acme"], orgs["globex"], "--label", "", "--label", "Globex", "--trusted-keys", orgs["trusted"],
        "--attestation", moved, "--json", out)
    status = {o["label"]: o["verification"]["status"] for o in json.loads(out.read_text())["organisations"]}
    assert status == {"ACME": "verified", "Globex": "unverified"}


def test_require_signed_refuses_unverified_reports_and_writes_nothing(orgs: dict[str, Path]) -> None:
    out = orgs["dir"] / "cmp.json"
    r = run("compare", orgs["acme"], orgs["globex"], "--trusted-keys", orgs["trusted"], "--require-signed",
            "--json", out, code=1)
    assert "not verified" in r.output and str(orgs["globex"]) in r.output and not out.exists()
    run("compare", orgs["acme"], "--trusted-keys", orgs["trusted"], "--require-signed", "--json", out)
    assert out.exists()


def test_require_signed_without_trusted_keys_is_a_usage_error(orgs: dict[str, Path]) -> None:
    r = run("compare", orgs["acme"], "--require-signed", code=2)
    assert "--trusted-keys" in r.output


def test_anonymised_comparison_keeps_only_the_verification_status(orgs: dict[str, Path],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SALT", "s3cret")
    out = orgs["dir"] / "cmp.json"
    run("compare", orgs["acme"], "--trusted-keys", orgs["trusted"], "--anonymise", "--salt-env", "SALT", "--json", out)
    text = out.read_text()
    comparison = json.loads(text)
    jsonschema.Draft202012Validator(SCHEMA).validate(comparison)
    assert comparison["organisations"][0]["verification"] == {"status": "verified", "reports": [{"status": "verified"}]}
    assert "ACME" not in text


def test_a_private_key_in_the_trusted_keys_directory_is_refused_without_printing_it(orgs: dict[str, Path]) -> None:
    key = orgs["dir"] / "acme-keys" / "posture-signing.key"
    shutil.copy(key, orgs["trusted"] / "oops.pem")
    r = run("compare", orgs["acme"], "--trusted-keys", orgs["trusted"], code=2)
    assert "is a private key" in r.output and key.read_text().splitlines()[1] not in r.output
