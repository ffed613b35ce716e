"""``posture attest`` and ``posture verify``: signed assessment results another organisation can check."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from posture.cli import EXIT_FINDINGS
from posture.cli.common import fail
from posture.cli.keys_cmd import passphrase_from_env


def resolve_tier(tier: str | None, report_path: Path, attested_id: str | None = None) -> Any:
    """``--tier`` when given, else the tier id the report (or the attestation) names, on the tier search path."""
    from posture.tiers import TierError, load_tier

    name = tier or attested_id
    if name is None:
        try:
            name = json.loads(report_path.read_text(encoding="utf-8"))["tier"]["id"]
        except (OSError, ValueError, KeyError, TypeError):
            fail(f"{report_path}: cannot tell which tier the report was evaluated against; give --tier")
    try:
        return load_tier(name)
    except (TierError, FileNotFoundError) as exc:
        fail(f"tier {name!r}: {exc} (give --tier FILE, or put the file on POSTURE_TIERS_PATH)")


@click.command()
@click.argument("report", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--key", "key_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Private signing key (PEM, readable by its owner only: chmod 600).")
@click.option("--output", "-o", "output", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the DSSE envelope (default: REPORT.intoto.json).")
@click.option("--tier", help="The tier the report was evaluated against (default: its id, on the tier search path).")
@click.option("--facts", "facts_path", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="The fact file the report was evaluated from: its SHA-256 becomes a second subject.")
@click.option("--organisation", "--organization", "organisation",
              help="Organisation label (default: the report's metadata.organisation, else its scope ids).")
@click.option("--passphrase-env", metavar="VAR", help="Environment variable holding the key's passphrase.")
def attest(report: Path, key_path: Path, output: Path | None, tier: str | None, facts_path: Path | None,
           organisation: str | None, passphrase_env: str | None) -> None:
    """Sign a JSON report: an in-toto Statement v1 in a DSSE envelope.

    The statement's subject is the report's SHA-256 (and the fact file's); its
    predicate states organisation, tier id and the digest of the resolved
    tier, scopes, attainment per scope and tier, result counts, tool version
    and the collection window.
    """
    from posture.atomic import write_text_atomic
    from posture.attest import ATTESTATION_SUFFIX, AttestationError
    from posture.attest import attest as sign
    from posture.signing import SigningError, load_private_key

    resolved = resolve_tier(tier, report)
    try:
        private = load_private_key(key_path, passphrase_from_env(passphrase_env))
        envelope = sign(report, resolved, private, organisation, facts_path)
    except (SigningError, AttestationError) as exc:
        fail(str(exc))
    target = output or report.with_name(report.name + ATTESTATION_SUFFIX)
    write_text_atomic(target, json.dumps(envelope, indent=2) + "\n")
    click.echo(f"wrote {target} (signed with key {envelope['signatures'][0]['keyid'][:16]}…)", err=True)


@click.command()
@click.argument("attestation", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--report", "report_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The JSON report the attestation is about.")
@click.option("--public-key", "public_keys", required=True, multiple=True,
              type=click.Path(dir_okay=False, path_type=Path), help="The signer's public key (repeatable).")
@click.option("--tier", help="The tier file (default: the attested tier id, on the tier search path).")
@click.option("--facts", "facts_path", type=click.Path(dir_okay=False, path_type=Path),
              help="The fact file, to check its digest too.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
def verify(attestation: Path, report_path: Path, public_keys: tuple[Path, ...], tier: str | None,
           facts_path: Path | None, as_json: bool) -> None:
    """Verify an attestation: signature, digests, tier, and attainment recomputed from the report.

    Exit 0 when everything matches, 1 listing every mismatch, 2 on unreadable input.
    """
    from posture.attest import AttestationError, read_envelope
    from posture.attest import verify as check
    from posture.signing import SigningError, load_public_key

    try:
        envelope = read_envelope(attestation)
        keys = [load_public_key(p) for p in public_keys]
        report_bytes = report_path.read_bytes()
        facts_bytes = facts_path.read_bytes() if facts_path else None
    except (AttestationError, SigningError) as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{exc.filename}: cannot read: {exc.strerror or exc}")
    attested_tier = _attested_tier_id(envelope)
    resolved = resolve_tier(tier, report_path, attested_tier)
    outcome = check(envelope, report_bytes, keys, resolved, facts_bytes, report_name=report_path.name)
    predicate = outcome.predicate
    if as_json:
        click.echo(json.dumps({**outcome.to_dict(), "attestation": str(attestation), "report": str(report_path),
                               "organisation": predicate.get("organisation"),
                               "tier": (predicate.get("tier") or {}).get("id")}, indent=2))
    elif outcome.verified:
        click.echo(f"verified: {report_path} is {predicate['organisation']}'s assessment against "
                   f"{predicate['tier']['id']}, signed by key {outcome.keyid[:16]}… ({outcome.key_source}); "
                   f"digests, tier and attainment match")
        for a in predicate["attainment"]:
            click.echo(f"  {a['tier']:<10} {a['provider']}/{a['scope']}: {a['status']} ({a['pass_rate']:.0%})")
    else:
        click.echo(f"NOT verified: {attestation} against {report_path}:", err=True)
        for problem in outcome.problems:
            click.echo(f"  - {problem}", err=True)
    for note in outcome.notes:
        click.echo(f"note: {note}", err=True)
    sys.exit(0 if outcome.verified else EXIT_FINDINGS)


def _attested_tier_id(envelope: dict[str, Any]) -> str | None:
    """The tier id the (not yet verified) statement names: only used to find the tier file."""
    import base64

    try:
        return json.loads(base64.b64decode(envelope["payload"]))["predicate"]["tier"]["id"]
    except (KeyError, TypeError, ValueError):
        return None
