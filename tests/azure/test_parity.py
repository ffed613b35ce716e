"""Azure parity with AWS: the standard authority variable, a custom endpoint's own metadata, read timeouts."""

from __future__ import annotations

from typing import Any

import pytest
from posture_azure.provider import AzureProvider
from posture_azure.settings import resolve

from tests.azure.fake_arm import STACK_AUDIENCE, SUB_MAIN


def test_a_custom_endpoint_takes_audience_and_authority_from_its_metadata_document(
        azure_options: dict[str, Any], arm: Any) -> None:
    s = resolve(azure_options)
    assert s.credential_scopes == [STACK_AUDIENCE.rstrip("/") + "/.default"]
    assert (s.authority, s.custom_authority) == ("login.fakestack.test", True)
    assert arm.requests_to("/metadata/endpoints")[0].param("api-version") == "2015-01-01"


def test_the_standard_azure_authority_host_is_honoured_without_azure_authority(
        azure_options: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", "https://login.microsoftonline.us/")
    s = resolve(azure_options)
    assert (s.authority, s.custom_authority) == ("login.microsoftonline.us", True)
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", "https://login.microsoftonline.com")
    assert resolve({}).custom_authority is False  # the public cloud's own: instance discovery stays on


def test_an_endpoint_without_metadata_keeps_itself_as_the_audience() -> None:
    s = resolve({"azure_arm_endpoint": "https://arm.invalid"})  # unreachable: the socket guard refuses it
    assert s.credential_scopes == ["https://arm.invalid/.default"]


def test_a_call_slower_than_the_read_timeout_is_a_timeout_error_for_its_facts_only(
        azure_options: dict[str, Any], arm: Any) -> None:
    path = f"/subscriptions/{SUB_MAIN}/providers/Microsoft.KeyVault/vaults"
    provider = AzureProvider()
    options = {**azure_options, "subscription": [SUB_MAIN], "azure_read_timeout": "1"}
    with arm.delay(path, 4):
        plan = provider.plan({"azure.keyvault.vault", "azure.storage.account"}, options)
        outcomes = [provider.collect(u) for u in plan.units]
    errors = [(e.fact_type, e.code) for o in outcomes for e in o.errors]
    assert errors == [("azure.keyvault.vault", "Timeout")]
    assert {c.fact_type for o in outcomes for c in o.coverage} == {"azure.storage.account"}
    assert len(arm.requests_to(path)) == 2  # one retry after a read timeout, then the error


def test_an_invalid_read_timeout_is_a_configuration_error(azure_options: dict[str, Any]) -> None:
    from posture.provider import ProviderError

    with pytest.raises(ProviderError, match="--azure-read-timeout 'soon': valid: a number of seconds"):
        resolve({**azure_options, "azure_read_timeout": "soon"})
