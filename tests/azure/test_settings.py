"""Cloud selection: sovereign clouds and custom (Azure Stack Hub) endpoints."""

from __future__ import annotations

import pytest
from posture_azure.settings import resolve

from posture.provider import ProviderError


def test_public_cloud_is_the_default() -> None:
    s = resolve({})
    assert (s.arm_endpoint, s.authority, s.credential_scopes) == (
        "https://management.azure.com", "login.microsoftonline.com", ["https://management.azure.com/.default"])
    assert s.credential == "default"


def test_us_government_cloud_uses_its_endpoint_authority_and_audience() -> None:
    s = resolve({"azure_cloud": "usgov"})
    assert s.arm_endpoint == "https://management.usgovcloudapi.net"
    assert s.authority == "login.microsoftonline.us"
    assert s.credential_scopes == ["https://management.core.usgovcloudapi.net/.default"]


def test_custom_arm_endpoint_comes_from_the_environment_and_sets_the_audience(monkeypatch: pytest.MonkeyPatch
                                                                              ) -> None:
    monkeypatch.setenv("POSTURE_AZURE_ARM_ENDPOINT", "https://management.local.azurestack.external/")
    monkeypatch.setenv("POSTURE_AZURE_AUTHORITY", "adfs.local.azurestack.external")
    s = resolve({})
    assert s.arm_endpoint == "https://management.local.azurestack.external"
    assert s.credential_scopes == ["https://management.local.azurestack.external/.default"]
    assert s.custom_authority and s.authority == "adfs.local.azurestack.external"


def test_explicit_audience_overrides_the_endpoint_default() -> None:
    s = resolve({"azure_arm_endpoint": "https://arm.example", "azure_token_audience": "https://aud.example/"})
    assert s.credential_scopes == ["https://aud.example/.default"]


@pytest.mark.parametrize("options, message", [
    ({"azure_cloud": "mars"}, "unknown --azure-cloud"),
    ({"azure_arm_endpoint": "http://127.0.0.1:1"}, "https://"),
])
def test_bad_cloud_settings_are_configuration_errors(options: dict[str, str], message: str) -> None:
    with pytest.raises(ProviderError, match=message):
        resolve(options)


def test_default_credential_with_custom_authority_skips_instance_discovery(monkeypatch: pytest.MonkeyPatch
                                                                           ) -> None:
    """Built, never used: constructing credentials makes no network call."""
    from posture_azure import session

    monkeypatch.setenv("AZURE_CLIENT_ID", "00000000-0000-0000-0000-00000000000c")
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "not-a-secret")
    monkeypatch.setenv("AZURE_TENANT_ID", "00000000-0000-0000-0000-00000000000t")
    custom = session.credential_for(resolve({"azure_arm_endpoint": "https://arm.example",
                                             "azure_authority": "login.example"}))
    public = session.credential_for(resolve({}))
    assert type(custom).__name__ == "DefaultAzureCredential"
    env_custom, env_public = custom.credentials[0]._credential, public.credentials[0]._credential  # noqa: SLF001
    assert env_custom._authority == "https://login.example"  # noqa: SLF001
    assert env_custom._instance_discovery is False  # noqa: SLF001
    assert env_public._instance_discovery is not False  # noqa: SLF001 - MSAL default: discovery on
    session.reset()
