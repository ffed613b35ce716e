"""Every client honours an https endpoint signed by a private CA (corporate proxy, PSC, emulator).

The CA reaches the clients through ``REQUESTS_CA_BUNDLE``: requests (google-cloud-*
REST clients, Cloud Storage) reads it itself; the provider hands it to each
httplib2.Http of the discovery clients (httplib2 reads its own
``HTTPLIB2_CA_CERTS`` only at import time, too late to rely on).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from posture_gcp.provider import GcpProvider

from tests.gcp.conftest import ROUTES
from tests.gcp.fake_gcp import FakeGcp
from tests.loopback import private_ca


@pytest.fixture
def tls_fake(fake_gcp: FakeGcp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGcp]:
    ca = private_ca(tmp_path)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", ca.ca)
    with FakeGcp(ROUTES, tls=ca.server_context()) as fake:
        fake.jwt_signers = fake_gcp.jwt_signers
        yield fake


def test_every_api_is_collected_over_tls_with_a_private_ca(tls_fake: FakeGcp) -> None:
    assert tls_fake.url.startswith("https://127.0.0.1:")
    provider = GcpProvider()
    options = {"gcp_api_endpoint": tls_fake.url, "project": ["good-project"], "gcp_max_retries": 0}
    outcomes = [provider.collect(u) for u in provider.plan(set(provider.fact_types), options).units]
    assert [e for o in outcomes for e in o.errors] == []
    assert {c.fact_type for o in outcomes for c in o.coverage} == set(provider.fact_types)
    assert {c.status for c in tls_fake.requests_to()} == {200}
