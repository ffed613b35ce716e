"""The Azure provider: subscriptions as scopes, (subscription x collector) work units.

SDKs are imported only inside ``plan``/``collect``.
"""

from __future__ import annotations

import uuid
from dataclasses import fields
from typing import Any

from posture.facts import CollectionError, Coverage
from posture.provider import Option, Plan, ProviderError, Scope, UnitOutcome, WorkUnit
from posture_azure.facttypes import COLLECTOR_FACT_TYPES, FACT_TYPES
from posture_azure.settings import (
    ENV_ARM_ENDPOINT,
    ENV_AUDIENCE,
    ENV_AUTHORITY,
    ENV_CA_BUNDLE,
    ENV_CLOUD,
    ENV_CREDENTIAL,
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
    Option("azure-authority", "Microsoft Entra authority host for a custom cloud (disables instance discovery)",
           envvar=ENV_AUTHORITY, metavar="HOST"),
    Option("azure-token-audience", "Token audience for a custom ARM endpoint", envvar=ENV_AUDIENCE, metavar="URL"),
    Option("azure-ca-bundle", "CA bundle for TLS verification (default: REQUESTS_CA_BUNDLE or system)",
           envvar=ENV_CA_BUNDLE, metavar="PATH"),
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


class AzureProvider:
    """Microsoft Azure via Azure Resource Manager (read-only: Reader + Security Reader)."""

    name = PROVIDER
    title = "Microsoft Azure"
    fact_types = FACT_TYPES
    options = OPTIONS

    def __init__(self, credential: Any = None) -> None:
        """``credential``: an azure-core TokenCredential to use instead of DefaultAzureCredential."""
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

    # -------------------------------------------------------------------- plan
    def plan(self, fact_types: set[str], options: dict[str, Any]) -> Plan:
        """Subscriptions to scan, then one unit per (subscription, collector) producing ``fact_types``.

        A subscription that cannot be read is an error for every requested fact type in it.
        """
        settings = self.settings(options)
        scopes, denied, requests = self._subscriptions(settings, options)
        unit_options = settings_options(settings)
        units = []
        for scope in scopes:
            for collector, produced in COLLECTOR_FACT_TYPES.items():
                wanted = tuple(sorted(ft for ft in produced if ft in fact_types))
                if wanted:
                    units.append(WorkUnit(PROVIDER, scope.id, "global", collector, wanted, unit_options))
        errors = [CollectionError(PROVIDER, sid, "global", ft, code, message)
                  for sid, code, message in denied for ft in sorted(fact_types)]
        return Plan(scopes, units, errors, requests)

    @staticmethod
    def _subscriptions(settings: AzureSettings, options: dict[str, Any]
                       ) -> tuple[list[Scope], list[tuple[str, str, str]], int]:
        """(readable subscriptions, denied ones as (id, code, message), requests made)."""
        from posture_azure import scopes as discovery
        from posture_azure.session import RequestCounter, counting

        count = RequestCounter()
        with counting(count):
            subs = [s for s in (options.get("subscription") or ()) if s]
            if subs:
                found, denied = discovery.explicit(settings, subs)
            elif options.get("management_group"):
                found, denied = discovery.under_management_group(settings, str(options["management_group"]))
            else:
                found, denied = discovery.visible(settings)
        if not found and denied and all(code == "CredentialUnavailable" for _, code, _ in denied):
            raise ProviderError(
                f"azure: no usable Azure credential: {denied[0][2]} Sign in with `az login`, set AZURE_TENANT_ID, "
                "AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or AZURE_FEDERATED_TOKEN_FILE) for a service principal, "
                "or run where a managed identity is assigned (docs/azure.md, Credentials).")
        if not found and denied:
            detail = "; ".join(f"{sid}: {code}" for sid, code, _ in denied)
            raise ProviderError(f"azure: no subscription could be read ({detail})")
        scopes = [Scope(PROVIDER, s["id"], s.get("name", ""), "subscription", s.get("parent", "")) for s in found]
        return scopes, denied, count.value

    # ----------------------------------------------------------------- collect
    def collect(self, unit: WorkUnit) -> UnitOutcome:
        from posture_azure.collectors import collector
        from posture_azure.collectors.base import Context
        from posture_azure.session import RequestCounter, counting

        ctx = Context(settings_from_unit(unit), unit.scope, unit.fact_types)
        count = RequestCounter()
        with counting(count):
            try:
                collector(unit.collector)(ctx)
            except Exception as exc:  # noqa: BLE001 - a collector bug becomes data, the scan goes on
                ctx.fail(unit.fact_types, exc)
        coverage: list[Coverage] = ctx.coverage()
        return UnitOutcome(unit, ctx.facts, ctx.errors, coverage, count.value)
