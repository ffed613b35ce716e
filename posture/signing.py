"""Signing keys and DSSE envelopes for assessment attestations.

Built on pyca ``cryptography`` directly (Ed25519 by default, ECDSA P-256 for
organisations whose policy or HSM requires a NIST curve) rather than
securesystemslib: ``cryptography`` is the audited primitive library the cloud
SDKs already install, its API is stable across releases, and DSSE itself is a
short specification (the pre-authentication encoding below, checked against
the specification's test vector in the tests). securesystemslib's signer API
has been renamed across its major versions and would only wrap these same
calls.

Private keys are read from PEM files that only their owner may read; a key
file readable by group or others is refused before it is parsed. Nothing in
this module logs or formats key material: errors name the file, never its
content. A key is identified by its *key id*, the SHA-256 of the public key's
DER SubjectPublicKeyInfo (what the DSSE ``keyid`` field carries).
"""

from __future__ import annotations

import base64
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ALGORITHMS = ("ed25519", "ecdsa-p256")
PRIVATE_KEY_FILE = "posture-signing.key"
PUBLIC_KEY_FILE = "posture-signing.pub"
PUBLIC_KEY_SUFFIXES = (".pub", ".pem")


class SigningError(Exception):
    """A key or envelope problem, phrased for the user (never containing key material)."""


@dataclass(frozen=True)
class PublicKey:
    """A verification key with its id and where it came from."""

    key: Any
    keyid: str
    source: str

    def verify(self, signature: bytes, data: bytes) -> bool:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec, ed25519

        try:
            if isinstance(self.key, ed25519.Ed25519PublicKey):
                self.key.verify(signature, data)
            elif isinstance(self.key, ec.EllipticCurvePublicKey):
                self.key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
            else:
                return False
        except InvalidSignature:
            return False
        return True


def _public_der(public_key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def keyid_of(public_key: Any) -> str:
    return hashlib.sha256(_public_der(public_key)).hexdigest()


def _check_supported(key: Any, path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return
    raise SigningError(f"{path}: unsupported key type {type(key).__name__} (use Ed25519 or ECDSA P-256)")


def generate_keypair(directory: Path, algorithm: str = "ed25519", passphrase: bytes | None = None
                     ) -> tuple[Path, Path, str]:
    """Write a new key pair to ``directory`` (private key mode 0600); refuses to overwrite a key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    if algorithm not in ALGORITHMS:
        raise SigningError(f"unknown algorithm {algorithm!r}; use one of {', '.join(ALGORITHMS)}")
    private = ed25519.Ed25519PrivateKey.generate() if algorithm == "ed25519" else ec.generate_private_key(ec.SECP256R1())
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    priv_path, pub_path = directory / PRIVATE_KEY_FILE, directory / PUBLIC_KEY_FILE
    for p in (priv_path, pub_path):
        if p.exists():
            raise SigningError(f"{p} already exists; remove it or choose another directory (keys are never overwritten)")
    encryption = (serialization.BestAvailableEncryption(passphrase) if passphrase
                  else serialization.NoEncryption())
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    # created 0600 from the start: never a moment where others could read it
    fd = os.open(priv_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    public = private.public_key()
    pub_path.write_bytes(public.public_bytes(serialization.Encoding.PEM,
                                             serialization.PublicFormat.SubjectPublicKeyInfo))
    return priv_path, pub_path, keyid_of(public)


def load_private_key(path: Path, passphrase: bytes | None = None) -> Any:
    """Load a PEM private key that only its owner can read."""
    from cryptography.hazmat.primitives import serialization

    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise SigningError(f"{path}: cannot read private key: {exc.strerror or exc}") from None
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SigningError(f"{path}: private key is accessible by group or others (mode {stat.S_IMODE(mode):04o}); "
                           f"refusing to use it: run chmod 600 {path}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SigningError(f"{path}: cannot read private key: {exc.strerror or exc}") from None
    try:
        key = serialization.load_pem_private_key(data, password=passphrase)
    except TypeError:
        raise SigningError(f"{path}: the private key is encrypted: give its passphrase (--passphrase-env VAR)"
                           if passphrase is None else f"{path}: the key is not encrypted; drop the passphrase") from None
    except ValueError:
        raise SigningError(f"{path}: not a PEM private key, or a wrong passphrase") from None
    finally:
        del data
    _check_supported(key, path)
    return key


def load_public_key(path: Path) -> PublicKey:
    from cryptography.hazmat.primitives import serialization

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SigningError(f"{path}: cannot read public key: {exc.strerror or exc}") from None
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        raise SigningError(f"{path}: not a PEM public key") from None
    _check_supported(key, path)
    return PublicKey(key, keyid_of(key), str(path))


def load_trusted_keys(directory: Path) -> list[PublicKey]:
    """Every public key (``*.pub``, ``*.pem``) in ``directory``; a private key there is an error."""
    if not directory.is_dir():
        raise SigningError(f"{directory}: not a directory of trusted public keys")
    keys = []
    for path in sorted(directory.iterdir()):
        if path.suffix not in PUBLIC_KEY_SUFFIXES or not path.is_file():
            continue
        if b"PRIVATE KEY" in path.read_bytes()[:100]:
            raise SigningError(f"{path}: is a private key; a trusted-keys directory holds public keys only")
        keys.append(load_public_key(path))
    if not keys:
        raise SigningError(f"{directory}: no public keys (*.pub, *.pem) found")
    return keys


# ----------------------------------------------------------------------------- DSSE
def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding: what is actually signed."""
    t = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


def sign_envelope(payload: bytes, payload_type: str, private_key: Any) -> dict[str, Any]:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    message = pae(payload_type, payload)
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        signature = private_key.sign(message, ec.ECDSA(hashes.SHA256()))
    else:
        signature = private_key.sign(message)
    return {
        "payloadType": payload_type,
        "payload": base64.b64encode(payload).decode(),
        "signatures": [{"keyid": keyid_of(private_key.public_key()), "sig": base64.b64encode(signature).decode()}],
    }


def verify_envelope(envelope: dict[str, Any], keys: list[PublicKey]) -> tuple[bytes, PublicKey]:
    """The payload and the key that signed it; ``SigningError`` saying why not."""
    try:
        payload_type = envelope["payloadType"]
        payload = base64.b64decode(envelope["payload"], validate=True)
        signatures = envelope["signatures"]
        decoded = [(s.get("keyid", ""), base64.b64decode(s["sig"], validate=True)) for s in signatures]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise SigningError(f"not a DSSE envelope (missing or bad field: {exc})") from None
    if not decoded:
        raise SigningError("the envelope carries no signature")
    message = pae(payload_type, payload)
    for _, sig in decoded:
        for key in keys:
            if key.verify(sig, message):
                return payload, key
    signed_by = ", ".join(k[:16] for k, _ in decoded if k) or "unnamed keys"
    trusted = ", ".join(f"{k.keyid[:16]} ({k.source})" for k in keys)
    raise SigningError(f"signature does not verify with the given key(s) {trusted}; the envelope names key id(s) "
                       f"{signed_by} (another key signed it, or the payload was changed)")
