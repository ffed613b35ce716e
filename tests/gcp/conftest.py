"""Fixtures: a fake GCP API server and an ADC service-account key file pointing at it.

The provider reaches the fake only through public doors: ``gcp_api_endpoint``
(the ``--gcp-api-endpoint`` option) and ``GOOGLE_APPLICATION_CREDENTIALS``
(Application Default Credentials) whose ``token_uri`` is the fake's token
endpoint. ``NO_GCE_CHECK=true`` keeps google-auth off the metadata server.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.gcp.fake_gcp import FakeGcp

#: A non-default universe: exercises --gcp-universe-domain, and keeps google-auth (>= 2.5x) from
#: looking up "regional access boundaries" at iamcredentials.googleapis.com after each token refresh.
UNIVERSE = "fake-universe.test"
ROUTES = Path(__file__).resolve().parents[1] / "fixtures" / "gcp" / "routes"


def _service_account_file(path: Path, token_uri: str, fake: FakeGcp | None = None) -> Path:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    path.write_text(json.dumps({
        "type": "service_account", "project_id": "good-project", "private_key_id": "fake-key-id",
        "private_key": pem, "client_email": "scanner@good-project.iam.gserviceaccount.com",
        "client_id": "1", "token_uri": token_uri, "universe_domain": UNIVERSE,
    }), encoding="utf-8")
    if fake is not None:
        fake.jwt_signers.append(key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode())
    return path


@pytest.fixture(scope="session")
def fake_gcp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeGcp]:
    fake = FakeGcp(ROUTES).start()
    key_file = _service_account_file(tmp_path_factory.mktemp("adc") / "sa.json", f"{fake.url}/token", fake)
    saved = {k: os.environ.get(k) for k in ("GOOGLE_APPLICATION_CREDENTIALS", "NO_GCE_CHECK",
                                            "POSTURE_GCP_API_ENDPOINT", "POSTURE_GCP_UNIVERSE_DOMAIN")}
    os.environ["GOOGLE_APPLICATION_CREDENTIALS"] = str(key_file)
    os.environ["NO_GCE_CHECK"] = "true"
    os.environ.pop("POSTURE_GCP_API_ENDPOINT", None)
    os.environ["POSTURE_GCP_UNIVERSE_DOMAIN"] = UNIVERSE
    try:
        yield fake
    finally:
        fake.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture
def gcp_options(fake_gcp: FakeGcp) -> dict[str, Any]:
    return {"gcp_api_endpoint": fake_gcp.url, "gcp_max_retries": 2}


@pytest.fixture(scope="session")
def collected(fake_gcp: FakeGcp) -> Any:
    """Every GCP fact type from the three fixture projects, through posture's own collection loop."""
    from posture_gcp.provider import GcpProvider

    from posture.collect import collect

    provider = GcpProvider()
    options = {"gcp_api_endpoint": fake_gcp.url, "gcp_max_retries": 2,
               "project": ["good-project", "bad-project", "denied-project"]}
    return collect([provider], set(provider.fact_types), options, concurrency=8)


@pytest.fixture(scope="session")
def gcp_checks() -> dict[str, Any]:
    """The checks the gcp plugin registers (YAML files and Python functions)."""
    from posture_gcp import plugin

    from tests.helpers import registered_checks

    return registered_checks(plugin)
