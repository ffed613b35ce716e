"""``posture keys`` / ``attest`` / ``verify``: signed assessment results another organisation can check."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from posture.cli import cli
from posture.signing import pae

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def assessed(fake_cloud, tmp_path: Path) -> dict[str, Path]:
    """A real scan (fake provider) against tier-2 with its fact file, and a fresh Ed25519 key pair."""
    out, facts = tmp_path / "out", tmp_path / "facts.jsonl"
    r = run("scan", "-p", "fake", "--tier", "tier-2", "--format", "json", "-o", out, "--save-facts", facts,
            "--no-store")
    assert r.exit_code == 0, r.output
    r = run("keys", "generate", "-o", tmp_path / "keys")
    assert r.exit_code == 0, r.output
    return {"report": out / "posture-report.json", "facts": facts, "key": tmp_path / "keys" / "posture-signing.key",
            "pub": tmp_path / "keys" / "posture-signing.pub", "dir": tmp_path}


def attest(a: dict[str, Path], *extra: str) -> Path:
    target = a["dir"] / "report.intoto.json"
    r = run("attest", a["report"], "--key", a["key"], "--facts", a["facts"], "--organisation", "ACME", "-o", target,
            *extra)
    assert r.exit_code == 0, r.output
    return target


def verify(a: dict[str, Path], attestation: Path, *extra: str):
    return run("verify", attestation, "--report", a["report"], "--public-key", a["pub"], "--facts", a["facts"], *extra)


def test_pae_matches_the_dsse_specification_example() -> None:
    # https://github.com/secure-systems-lab/dsse/blob/master/protocol.md (test vector)
    assert pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world")


def test_generated_private_key_is_owner_only_and_never_printed(tmp_path: Path) -> None:
    r = run("keys", "generate", "-o", tmp_path / "k")
    assert r.exit_code == 0, r.output
    key = tmp_path / "k" / "posture-signing.key"
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    body = key.read_text().splitlines()[1]
    assert body not in r.output and "PRIVATE KEY" not in r.output
    again = run("keys", "generate", "-o", tmp_path / "k")
    assert again.exit_code == 2 and "already exists" in again.output


def test_attestation_is_an_in_toto_statement_in_a_dsse_envelope(assessed: dict[str, Path]) -> None:
    envelope = json.loads(attest(assessed).read_text())
    assert envelope["payloadType"] == "application/vnd.in-toto+json" and len(envelope["signatures"]) == 1
    statement = json.loads(base64.b64decode(envelope["payload"]))
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    import hashlib

    digests = {s["annotations"]["posture"]: s["digest"]["sha256"] for s in statement["subject"]}
    assert digests == {"report": hashlib.sha256(assessed["report"].read_bytes()).hexdigest(),
                       "facts": hashlib.sha256(assessed["facts"].read_bytes()).hexdigest()}
    p = statement["predicate"]
    report = json.loads(assessed["report"].read_text())
    assert p["organisation"] == "ACME" and p["tier"]["id"] == "tier-2" and len(p["tier"]["digest"]["sha256"]) == 64
    assert p["scopes"] and {(a["tier"], a["scope"]) for a in p["attainment"]} == {
        (a["tier"], a["scope"]) for a in report["attainment"]}
    assert p["results"]["total"] == len(report["results"]) and p["tool"]["name"] == "posture"
    assert p["collection"] == {"started_at": report["started_at"], "finished_at": report["finished_at"]}
    assert "PRIVATE" not in json.dumps(envelope)


def test_round_trip_verifies(assessed: dict[str, Path]) -> None:
    r = verify(assessed, attest(assessed))
    assert r.exit_code == 0, r.output
    assert "verified:" in r.output and "ACME" in r.output


def test_flipping_one_result_fails_naming_the_digest_and_the_attainment(assessed: dict[str, Path]) -> None:
    target = attest(assessed)
    report = json.loads(assessed["report"].read_text())
    failed = next(r for r in report["results"] if r["status"] == "fail")
    failed["status"] = "pass"
    assessed["report"].write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    r = verify(assessed, target)
    assert r.exit_code == 1
    assert "report digest" in r.output
    assert "its results give" in r.output  # the recomputed attainment differs from the recorded one
    assert "result counts" in r.output


def test_a_changed_tier_file_fails_naming_the_tier_digest_and_parameter(assessed: dict[str, Path]) -> None:
    target = attest(assessed)
    changed = assessed["dir"] / "tier-2.yaml"
    text = (ROOT / "tiers" / "tier-2.yaml").read_text()
    assert "max_access_key_age_days: 90" in text
    changed.write_text(text.replace("max_access_key_age_days: 90", "max_access_key_age_days: 60"))
    r = verify(assessed, target, "--tier", changed)
    assert r.exit_code == 1
    assert "tier digest" in r.output and "max_access_key_age_days: 90 in the report, 60 in the tier" in r.output


def test_another_key_fails_naming_the_signature(assessed: dict[str, Path]) -> None:
    target = attest(assessed)
    assert run("keys", "generate", "-o", assessed["dir"] / "other").exit_code == 0
    r = run("verify", target, "--report", assessed["report"], "--public-key",
            assessed["dir"] / "other" / "posture-signing.pub")
    assert r.exit_code == 1 and "signature does not verify" in r.output


def test_an_edited_attestation_payload_fails_the_signature(assessed: dict[str, Path]) -> None:
    target = attest(assessed)
    envelope = json.loads(target.read_text())
    statement = json.loads(base64.b64decode(envelope["payload"]))
    statement["predicate"]["organisation"] = "Someone else"
    envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    target.write_text(json.dumps(envelope))
    r = verify(assessed, target)
    assert r.exit_code == 1 and "signature does not verify" in r.output


def test_a_report_whose_attainment_does_not_follow_from_its_results_is_caught_even_when_signed(
        assessed: dict[str, Path]) -> None:
    report = json.loads(assessed["report"].read_text())
    tier2 = next(a for a in report["attainment"] if a["tier"] == "tier-2")
    tier2["status"] = "attained"
    assessed["report"].write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    r = verify(assessed, attest(assessed))  # signed after the edit: digests match
    assert r.exit_code == 1 and "report digest" not in r.output
    assert "the report says attained" in r.output


def test_ecdsa_p256_keys_sign_and_verify(assessed: dict[str, Path]) -> None:
    assert run("keys", "generate", "-o", assessed["dir"] / "ec", "--algorithm", "ecdsa-p256").exit_code == 0
    assessed["key"] = assessed["dir"] / "ec" / "posture-signing.key"
    assessed["pub"] = assessed["dir"] / "ec" / "posture-signing.pub"
    assert verify(assessed, attest(assessed)).exit_code == 0


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_a_key_readable_by_others_is_refused_without_printing_it(assessed: dict[str, Path]) -> None:
    assessed["key"].chmod(0o644)
    r = run("attest", assessed["report"], "--key", assessed["key"])
    assert r.exit_code == 2
    assert "accessible by group or others" in r.output and "chmod 600" in r.output
    assert assessed["key"].read_text().splitlines()[1] not in r.output


def test_an_encrypted_key_needs_its_passphrase(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               assessed: dict[str, Path]) -> None:
    monkeypatch.setenv("KEY_PASS", "correct horse")
    assert run("keys", "generate", "-o", tmp_path / "enc", "--passphrase-env", "KEY_PASS").exit_code == 0
    key = tmp_path / "enc" / "posture-signing.key"
    r = run("attest", assessed["report"], "--key", key)
    assert r.exit_code == 2 and "encrypted" in r.output
    r = run("attest", assessed["report"], "--key", key, "--passphrase-env", "KEY_PASS", "-o", tmp_path / "a.json")
    assert r.exit_code == 0, r.output
    assert "correct horse" not in r.output


def test_attesting_with_a_tier_that_is_not_the_reports_is_refused(assessed: dict[str, Path]) -> None:
    r = run("attest", assessed["report"], "--key", assessed["key"], "--tier", "tier-1")
    assert r.exit_code == 2 and "does not match the report's" in r.output


def test_verify_json_lists_the_problems(assessed: dict[str, Path]) -> None:
    target = attest(assessed)
    ok = json.loads(verify(assessed, target, "--json").output)
    assert ok["status"] == "verified" and ok["problems"] == [] and ok["organisation"] == "ACME"


def test_unreadable_attestation_is_a_usage_error(assessed: dict[str, Path]) -> None:
    bad = assessed["dir"] / "bad.json"
    bad.write_text("{}")
    r = run("verify", bad, "--report", assessed["report"], "--public-key", assessed["pub"])
    assert r.exit_code == 2 and "not a DSSE envelope" in r.output


def test_an_ancestor_tiers_counts_are_recomputed_where_its_parameters_are_the_same(
        assessed: dict[str, Path]) -> None:
    report = json.loads(assessed["report"].read_text())
    tier1 = next(a for a in report["attainment"] if a["tier"] == "tier-1" and any(
        c["control"] == "IAM-01" and c["failed"] for c in a["controls"]))
    iam01 = next(c for c in tier1["controls"] if c["control"] == "IAM-01")
    iam01.update(passed=iam01["passed"] + iam01["failed"], failed=0, status="pass", failing=[])
    assessed["report"].write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    r = verify(assessed, attest(assessed))
    assert r.exit_code == 1
    assert f"attainment of tier-1 for fake/{tier1['scope']}: control IAM-01 is pass" in r.output


def test_a_report_with_waived_failures_verifies(fake_cloud, tmp_path: Path) -> None:
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text("version: 1\nwaivers:\n  - id: RISK-1\n    check: fake.storage.bucket.not_public\n"
                       "    resource: \"bucket/public-site\"\n    owner: web@acme.example\n"
                       "    justification: Public website bucket.\n    expires: 2099-12-31\n")
    out = tmp_path / "out"
    r = run("scan", "-p", "fake", "--tier", "tier-2", "--format", "json", "-o", out, "--waivers", waivers,
            "--no-store")
    assert r.exit_code == 0, r.output
    report = out / "posture-report.json"
    assert any(x["status"] == "waived" for x in json.loads(report.read_text())["results"])
    assert run("keys", "generate", "-o", tmp_path / "k").exit_code == 0
    assert run("attest", report, "--key", tmp_path / "k" / "posture-signing.key").exit_code == 0
    r = run("verify", out / "posture-report.json.intoto.json", "--report", report, "--public-key",
            tmp_path / "k" / "posture-signing.pub")
    assert r.exit_code == 0, r.output
