"""Key vault certificates through the Key Vault data plane (CIS Azure 8.3.11): the vault URIs of the ARM
vault list, paging, the vault audience, a denied vault, and what is never collected."""

from __future__ import annotations

from typing import Any

import pytest
from posture_azure.keyvault_data import VaultUriRefused, vault_url
from posture_azure.provider import AzureProvider
from posture_azure.settings import resolve

from posture.facts import Fact
from tests.azure.fake_arm import SUB_MAIN, FakeArm, StaticCredential
from tests.azure.fake_keyvault import FakeKeyVault

CERTIFICATE = "azure.keyvault.certificate"
CHECK = "azure.keyvault.certificate.validity_period"
#: the other key vault fact types: ARM-fed, never touched by a data-plane denial
ARM_KEYVAULT = {"azure.keyvault.vault", "azure.keyvault.key", "azure.keyvault.secret", "azure.keyvault.logging"}


def collect(options: dict[str, Any], fact_types: set[str]) -> tuple[list[Fact], list[Any]]:
    provider = AzureProvider()
    facts, errors = [], []
    for unit in provider.plan(fact_types, {**options, "subscription": (SUB_MAIN,)}).units:
        outcome = provider.collect(unit)
        facts += outcome.facts
        errors += outcome.errors
    return facts, errors


def test_certificates_are_read_through_the_vault_uris_of_the_vault_list(
        azure_options: dict[str, Any], arm: FakeArm, keyvault: FakeKeyVault) -> None:
    StaticCredential.scopes_requested.clear()
    facts, errors = collect(azure_options, {CERTIFICATE})
    assert not errors
    assert {f.name: f.attributes["validity_months"] for f in facts} == {
        "kv-good/cert-web": 12, "kv-good/cert-api": 6, "kv-bad/cert-legacy": 24}
    # one ARM call (the vault list), no per-vault ARM call; the data plane: list pages, one policy per certificate
    assert [r.path for r in arm.requests if "KeyVault" in r.path] == [
        f"/subscriptions/{SUB_MAIN}/providers/Microsoft.KeyVault/vaults"]
    listing = [r for r in keyvault.requests_to("/kv-good/certificates", method="GET") if r.path.endswith("/certificates")]
    assert [r.param("$skiptoken") for r in listing] == [None, "p2"]
    assert all(r.param("maxresults") == "25" and r.param("api-version") == "7.4" for r in listing)
    assert sorted(r.path for r in keyvault.requests if r.path.endswith("/policy")) == [
        "/kv-bad/certificates/cert-legacy/policy", "/kv-good/certificates/cert-api/policy",
        "/kv-good/certificates/cert-web/policy"]
    assert ("https://vault.azure.net/.default",) in StaticCredential.scopes_requested
    fact = next(f for f in facts if f.name == "kv-good/cert-web")
    assert fact.id.endswith("/resourceGroups/rg-kv/providers/Microsoft.KeyVault/vaults/kv-good/certificates/cert-web")
    assert fact.region == "westeurope"


def test_certificate_facts_keep_the_name_and_validity_never_the_certificate(
        azure_options: dict[str, Any], keyvault: FakeKeyVault) -> None:
    facts, _ = collect(azure_options, {CERTIFICATE})
    assert facts
    for f in facts:
        assert set(f.attributes) == {"enabled", "validity_months"}
        assert "contoso.example" not in repr(f) and "fLi3U52" not in repr(f)  # subject/SANs, thumbprint
    assert not keyvault.requests_to("/secrets")
    assert all(r.path.endswith(("/certificates", "/policy")) for r in keyvault.requests)  # never GET a certificate


def test_the_data_plane_is_not_called_unless_a_check_needs_certificates(
        azure_options: dict[str, Any], keyvault: FakeKeyVault) -> None:
    facts, _ = collect(azure_options, ARM_KEYVAULT)
    assert facts and not keyvault.requests


@pytest.mark.parametrize(("reason", "code", "grant"), [
    ("firewall", "ForbiddenByFirewall", "firewall must admit the scanner"),
    ("rbac", "ForbiddenByRbac", "Key Vault Reader"),
    ("access_policy", "AccessDenied", "certificate permissions list and get"),
])
def test_a_denied_vault_is_an_error_for_its_certificates_only(
        reason: str, code: str, grant: str, azure_options: dict[str, Any], keyvault: FakeKeyVault) -> None:
    with keyvault.deny("kv-bad", reason):
        facts, errors = collect(azure_options, {CERTIFICATE, *ARM_KEYVAULT})
    [error] = errors
    assert (error.fact_type, error.code) == (CERTIFICATE, code)
    assert "kv-bad" in error.message and "kv-good" not in error.message and grant in error.message
    assert "192.0.2.10" not in error.message  # the caller's address, on the message's later lines
    # the other vault's certificates are judged; every ARM-fed key vault fact is there
    assert {f.name for f in facts if f.type == CERTIFICATE} == {"kv-good/cert-web", "kv-good/cert-api"}
    assert {f.type for f in facts} >= ARM_KEYVAULT


def test_two_denied_vaults_are_both_named(azure_options: dict[str, Any], keyvault: FakeKeyVault) -> None:
    with keyvault.deny("kv-bad", "rbac"), keyvault.deny("kv-good", "firewall"):
        facts, errors = collect(azure_options, {CERTIFICATE})
    [error] = errors
    assert "kv-bad (ForbiddenByRbac)" in error.message and "kv-good (ForbiddenByFirewall)" in error.message
    assert not facts


def test_a_scan_with_a_denied_vault_errors_only_the_certificate_check(
        azure_options: dict[str, Any], keyvault: FakeKeyVault) -> None:
    from posture import plugins
    from posture.cli.common import installed_pipeline

    plugins.reset()
    try:
        with keyvault.deny("kv-bad", "firewall"):
            report = installed_pipeline().run(tier="tier-3", providers=["azure"],
                                              options={**azure_options, "subscription": (SUB_MAIN,)}, concurrency=4)
    finally:
        plugins.reset()
    errored = [r for r in report.results if r.status == "error"]
    assert {r.check_id for r in errored} == {CHECK}
    assert "ForbiddenByFirewall" in errored[0].message and "kv-bad" in errored[0].message
    assert sorted(r.status for r in report.results if r.check_id == CHECK) == ["error", "pass", "pass"]


@pytest.mark.parametrize(("cloud", "audience", "uri"), [
    ("public", "https://vault.azure.net", "https://kv-a.vault.azure.net/"),
    ("usgov", "https://vault.usgovcloudapi.net", "https://kv-a.vault.usgovcloudapi.net/"),
    ("china", "https://vault.azure.cn", "https://kv-a.vault.azure.cn/"),
])
def test_each_cloud_has_its_key_vault_audience_and_domain(cloud: str, audience: str, uri: str) -> None:
    settings = resolve({"azure_cloud": cloud})
    assert settings.keyvault_scopes == [f"{audience}/.default"]
    assert vault_url(settings, uri) == uri.rstrip("/")
    other = "https://kv-a.vault.azure.net/" if cloud != "public" else "https://kv-a.vault.azure.cn/"
    with pytest.raises(VaultUriRefused, match="outside the cloud's Key Vault domain"):
        vault_url(settings, other)


@pytest.mark.parametrize("uri", ["http://kv-a.vault.azure.net/", "https://kv-a.vault.azure.net.evil.example/",
                                 "https://evil.example/kv-a.vault.azure.net", None])
def test_no_key_vault_token_goes_outside_the_clouds_vault_domain(uri: str | None) -> None:
    with pytest.raises(VaultUriRefused):
        vault_url(resolve({}), uri)


def test_behind_a_custom_arm_endpoint_its_vault_uris_are_used_as_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTURE_AZURE_KEYVAULT_AUDIENCE", "https://vault.local.azurestack.external/")
    settings = resolve({"azure_arm_endpoint": "https://management.local.azurestack.external",
                        "azure_token_audience": "https://management.local.azurestack.external"})
    assert settings.keyvault_scopes == ["https://vault.local.azurestack.external/.default"]
    assert vault_url(settings, "https://kv-a.vault.local.azurestack.external/") == (
        "https://kv-a.vault.local.azurestack.external")
    with pytest.raises(VaultUriRefused, match="https"):
        vault_url(settings, "http://kv-a.vault.local.azurestack.external/")


def test_key_vault_audience_must_be_https() -> None:
    from posture.provider import ProviderError

    with pytest.raises(ProviderError, match="--azure-keyvault-audience"):
        resolve({"azure_keyvault_audience": "http://vault.example"})
