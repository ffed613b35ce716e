"""``posture keys``: signing keys for attested assessment results."""

from __future__ import annotations

import os
from pathlib import Path

import click

from posture.cli.common import fail


def passphrase_from_env(var: str | None) -> bytes | None:
    """A key passphrase from an environment variable (never from the command line, where ps shows it)."""
    if not var:
        return None
    value = os.environ.get(var, "")
    if not value:
        fail(f"--passphrase-env {var}: the environment variable is unset or empty")
    return value.encode()


@click.group()
def keys() -> None:
    """Generate signing keys for `posture attest`."""


@keys.command("generate")
@click.option("--output-dir", "-o", "directory", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory for posture-signing.key (mode 0600) and posture-signing.pub.")
@click.option("--algorithm", type=click.Choice(["ed25519", "ecdsa-p256"]), default="ed25519", show_default=True,
              help="Ed25519, or ECDSA P-256 where policy requires a NIST curve.")
@click.option("--passphrase-env", metavar="VAR", help="Encrypt the private key with the passphrase in VAR.")
def generate(directory: Path, algorithm: str, passphrase_env: str | None) -> None:
    """Create a key pair: keep the .key private, give the .pub to the organisations that verify you."""
    from posture.signing import SigningError, generate_keypair

    try:
        private, public, keyid = generate_keypair(directory, algorithm, passphrase_from_env(passphrase_env))
    except SigningError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{directory}: cannot write keys: {exc.strerror or exc}")
    click.echo(f"wrote {private} (private, mode 0600: never share it)", err=True)
    click.echo(f"wrote {public} (public: give it to the organisations that verify your results)", err=True)
    click.echo(f"key id {keyid}")
