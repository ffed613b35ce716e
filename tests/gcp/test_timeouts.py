"""--gcp-read-timeout: a stalled Google API becomes a Timeout error for exactly the facts it feeds.

Each of the three transports the plugin uses is stalled by the fake server in turn: a google-cloud REST
client (Compute), the Cloud Storage client (which passes its own 60 s timeout on every call) and a
discovery client over httplib2 (IAM).
"""

from __future__ import annotations

import pytest
from posture_gcp.provider import GcpProvider

from tests.gcp.fake_gcp import FakeGcp

STALLED = [
    ("/compute/v1/projects/good-project/global/firewalls", "gcp.compute.firewall"),
    ("/storage/v1/b", "gcp.storage.bucket"),
    ("/v1/projects/good-project/serviceAccounts", "gcp.iam.service_account"),
]


@pytest.mark.parametrize(("path", "fact_type"), STALLED, ids=["compute-rest", "storage", "iam-discovery"])
def test_a_call_slower_than_the_read_timeout_is_a_timeout_error_for_its_facts_only(
        fake_gcp: FakeGcp, path: str, fact_type: str) -> None:
    provider = GcpProvider()
    options = {"gcp_api_endpoint": fake_gcp.url, "gcp_max_retries": 1, "gcp_read_timeout": "1",
               "project": ["good-project"]}
    wanted = {fact_type, "gcp.kms.crypto_key"}
    fake_gcp.reset()
    with fake_gcp.delay(path, 4):
        outcomes = [provider.collect(u) for u in provider.plan(wanted, options).units]
    errors = {(e.fact_type, e.code) for o in outcomes for e in o.errors}
    assert (fact_type, "Timeout") in errors
    assert {ft for ft, _ in errors} == {fact_type}
    assert "gcp.kms.crypto_key" in {c.fact_type for o in outcomes for c in o.coverage}
    assert len(fake_gcp.requests_to(path, "GET")) == 2  # --gcp-max-retries 1: one retry, then the error


def test_an_invalid_read_timeout_is_a_configuration_error(fake_gcp: FakeGcp) -> None:
    from posture.provider import ProviderError

    with pytest.raises(ProviderError, match="--gcp-read-timeout 'x': valid: a number of seconds"):
        GcpProvider().plan({"gcp.storage.bucket"}, {"gcp_api_endpoint": fake_gcp.url, "gcp_read_timeout": "x",
                                                    "project": ["good-project"]})
