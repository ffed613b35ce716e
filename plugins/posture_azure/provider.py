"""The Azure provider: subscriptions as scopes, (subscription x collector) work units.

SDKs are imported only inside ``plan``/``collect``.
"""

from __future__ import annotations

import uuid
from dataclasses import fields
from typing import Any

from posture.collecting import CloudProvider, Discovery, Failure, Target, UnitContext
from posture.facts import CollectionError
from posture.provider import Option, ProviderError, Scope, WorkUnit
from posture_azure.collectors import registry
from posture_azure.settings import (
    ENV_ARM_ENDPOINT,
    ENV_AUDIENCE,
    ENV_AUTHORITY,
    ENV_CA_BUNDLE,
    ENV_CLOUD,
    ENV_CREDENTIAL,
    ENV_GRAPH_ENDPOINT,
    ENV_KEYVAULT_AUDIENCE,
    ENV_READ_TIMEOUT,
    AzureSettings,
    resolve,
)

PROVIDER = "azure"

OPTIONS = [
    Option("subscription", "Azure subscription id to scan (repeatable); default: every subscription visible",
           multiple=True, metavar="ID"),
    Option("management-group", "Scan every subscription under this management group", metavar="ID"),
    Option("azure-cloud", "Azure cloud: public, usgov or china", envvar=ENV_CLOUD, default=None,
           metavar="CLOUD"),
    Option("azure-arm-endpoint", "ARM endpoint (Azure Stack Hub, private clouds); token audience defaults to it",
           envvar=ENV_ARM_ENDPOINT, metavar="URL"),
    Option("azure-graph-endpoint", "Microsoft Graph endpoint for Entra ID facts (default: the cloud's own Graph)",
           envvar=ENV_GRAPH_ENDPOINT, metavar="URL"),
    Option("azure-authority", "Microsoft Entra authority host for a custom cloud (disables instance discovery)",
           envvar=ENV_AUTHORITY, metavar="HOST"),
    Option("azure-token-audience", "Token audience for a custom ARM endpoint", envvar=ENV_AUDIENCE, metavar="URL"),
    Option("azure-keyvault-audience", "Token audience of the Key Vault data plane (default: the cloud's own, "
           "e.g. https://vault.azure.net; Azure Stack Hub: https://vault.REGION.FQDN)", envvar=ENV_KEYVAULT_AUDIENCE,
           metavar="URL"),
    Option("azure-ca-bundle", "CA bundle for TLS verification (default: REQUESTS_CA_BUNDLE or system)",
           envvar=ENV_CA_BUNDLE, metavar="PATH"),
    Option("azure-read-timeout", "Seconds to wait for an ARM response before the call becomes a Timeout error "
           "for the facts it feeds (retried once)", envvar=ENV_READ_TIMEOUT, default=None, metavar="SECONDS"),
    Option("azure-credential",
           "Credential: 'default' (DefaultAzureCredential) or 'module:factory' returning a TokenCredential",
           envvar=ENV_CREDENTIAL, metavar="SPEC"),
]


def settings_options(settings: AzureSettings) -> tuple[tuple[str, Any], ...]:
    """Resolved settings as picklable unit options (a remote worker needs no env)."""
    return tuple((f"azure_settings.{f.name}", getattr(settings, f.name)) for f in fields(settings))


def settings_from_unit(unit: WorkUnit) -> AzureSettings:
    values = {k.split(".", 1)[1]: v for k, v in unit.options if k.startswith("azure_settings.")}
    return AzureSettings(**values)


class AzureProvider(CloudProvider):
    """Microsoft Azure via Azure Resource Manager (read-only: Reader + Security Reader)."""

    name = PROVIDER
    title = "Microsoft Azure"
    options = OPTIONS
    collectors = registry
    scope_level = "subscription"

    def __init__(self, credential: Any = None) -> None:
        """``credential``: an azure-core TokenCredential to use instead of DefaultAzureCredential."""
        super().__init__()
        self._credential_name: str | None = None
        if credential is not None:
            from posture_azure.session import register_credential

            # A name never reused (id() is, after garbage collection), so cached clients built
            # with another instance's credential can never be handed to this one.
            self._credential_name = f"instance:{uuid.uuid4().hex}"
            register_credential(self._credential_name, credential)

    def settings(self, options: dict[str, Any]) -> AzureSettings:
        opts = dict(options)
        if self._credential_name and not opts.get("azure_credential"):
            opts["azure_credential"] = self._credential_name
        return resolve(opts)

    def classify(self, exc: BaseException) -> Failure:
        from posture_azure.errors import classify

        return classify(exc)

    def _state(self, scan: str) -> Any:
        from posture_azure.session import ScanState

        return self.scan_state(scan, ScanState)

    # -------------------------------------------------------------------- plan
    def discover(self, fact_types: set[str], options: dict[str, Any], scan: str) -> Discovery:
        """Subscriptions to scan; a subscription that cannot be read is an error for every requested
        fact type in it."""
        settings = self.settings(options)
        scopes, denied = self._subscriptions(settings, self._state(scan).clients, options)
        unit_options = settings_options(settings)
        errors = [CollectionError(PROVIDER, sid, "global", ft, code, message)
                  for sid, code, message in denied for ft in sorted(fact_types)]
        return Discovery(scopes, [Target(scope, (), unit_options) for scope in scopes], errors)

    @staticmethod
    def _subscriptions(settings: AzureSettings, clients: Any, options: dict[str, Any]
                       ) -> tuple[list[Scope], list[tuple[str, str, str]]]:
        """(readable subscriptions, denied ones as (id, code, message))."""
        from posture_azure import scopes as discovery

        subs = [s for s in (options.get("subscription") or ()) if s]
        if subs:
            found, denied = discovery.explicit(settings, clients, subs)
        elif options.get("management_group"):
            found, denied = discovery.under_management_group(settings, clients, str(options["management_group"]))
        else:
            found, denied = discovery.visible(settings, clients)
        if not found and denied and all(code == "CredentialUnavailable" for _, code, _ in denied):
            raise ProviderError(
                f"azure: no usable Azure credential: {denied[0][2]} Sign in with `az login`, set AZURE_TENANT_ID, "
                "AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or AZURE_FEDERATED_TOKEN_FILE) for a service principal, "
                "or run where a managed identity is assigned (docs/azure.md, Credentials).")
        if not found and denied:
            detail = "; ".join(f"{sid}: {code}" for sid, code, _ in denied)
            raise ProviderError(f"azure: no subscription could be read ({detail})")
        scopes = [Scope(PROVIDER, s["id"], s.get("name", ""), "subscription", s.get("parent", "")) for s in found]
        return scopes, denied

    # ----------------------------------------------------------------- collect
    def context(self, unit: WorkUnit) -> UnitContext:
        from posture_azure.collectors.base import AzureContext

        return AzureContext(unit, self.classify, settings_from_unit(unit), self._state(unit.option("scan", "")))
