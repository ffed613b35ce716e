"""Key vaults (one subscription-wide list); keys and secrets metadata per vault only when asked.

The management plane lists key and secret *attributes* (enabled, expiry),
never secret values. Certificates exist only on the data plane
(:mod:`posture_azure.keyvault_data`): read per vault through the vault URIs of
the same list, only when a check needs them.
"""

from __future__ import annotations

import re
from typing import Any

from posture_azure.collectors import collector
from posture_azure.collectors.base import (
    AzureContext,
    Failed,
    arm_list,
    enum_str,
    g,
    iso,
    resource_group,
    tags,
)

VAULT = "azure.keyvault.vault"
KEY = "azure.keyvault.key"
SECRET = "azure.keyvault.secret"
LOGGING = "azure.keyvault.logging"
CERTIFICATE = "azure.keyvault.certificate"
DIAGNOSTICS_API = "2021-05-01-preview"
_DURATION = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?$")


def duration_days(value: Any) -> int | None:
    """ISO-8601 period of a rotation policy (``P90D``, ``P3M``, ``P1Y``) -> days (months count 30, years 365)."""
    match = _DURATION.match(str(value or "").upper())
    if not match or not any(match.groups()):
        return None
    years, months, days = (int(x or 0) for x in match.groups())
    return years * 365 + months * 30 + days


def audit_logged(settings: list[dict[str, Any]]) -> bool:
    """A diagnostic setting exports AuditEvent (directly, or through the audit / allLogs category group)."""
    for s in settings:
        for log in (s.get("properties") or {}).get("logs") or []:
            if log.get("enabled") and (str(log.get("category") or "") == "AuditEvent"
                                       or str(log.get("categoryGroup") or "").lower() in ("audit", "alllogs")):
                return True
    return False


def vault_attributes(vault: Any) -> dict[str, Any]:
    props = vault.properties
    return {
        # soft delete is on by default and can no longer be disabled; null = default
        "soft_delete": g(props, "enable_soft_delete", True),
        "soft_delete_retention_days": g(props, "soft_delete_retention_in_days"),
        "purge_protection": bool(g(props, "enable_purge_protection", False)),
        "rbac_authorization": bool(g(props, "enable_rbac_authorization", False)),
        "public_network_access": enum_str(g(props, "public_network_access", "Enabled")),
        "network_default_action": enum_str(g(props, "network_acls.default_action", "Allow")),
        "private_endpoints": len(g(props, "private_endpoint_connections", []) or []),
        "tags": tags(vault),
    }


def key_attributes(key: Any) -> dict[str, Any]:
    actions = g(key, "rotation_policy.lifetime_actions", []) or []
    rotate = [a for a in actions if str(enum_str(g(a, "action.type", ""))).lower() == "rotate"]
    # days after creation at which the key is rotated automatically (time_before_expiry needs an expiry: unknown)
    after = [d for a in rotate if (d := duration_days(g(a, "trigger.time_after_create"))) is not None]
    return {
        "enabled": bool(g(key, "attributes.enabled", True)),
        "expires": iso(g(key, "attributes.expires")),
        "rotation_policy": bool(rotate),
        "rotation_days": min(after) if after else None,
        "kty": enum_str(g(key, "kty")),
    }


def secret_attributes(secret: Any) -> dict[str, Any]:
    return {
        "enabled": bool(g(secret, "properties.attributes.enabled", True)),
        "expires": iso(g(secret, "properties.attributes.expires")),
        "content_type": g(secret, "properties.content_type"),
    }


@collector("keyvault", level="subscription", facts={
    "azure.keyvault.vault": 'Key vault: soft delete, purge protection, RBAC authorization, network access',
    "azure.keyvault.key": 'Key vault key metadata: enabled, expiry, rotation policy',
    "azure.keyvault.secret": 'Key vault secret metadata (never the value): enabled, expiry',
    "azure.keyvault.logging": 'Key vault diagnostic settings: AuditEvent logs exported',
    "azure.keyvault.certificate": 'Key vault certificate (data plane; never its body): enabled, policy validity months',
})
def collect(ctx: AzureContext) -> None:
    from azure.mgmt.keyvault import KeyVaultManagementClient

    client = ctx.client(KeyVaultManagementClient)
    vaults = ctx.attempt([VAULT, KEY, SECRET, LOGGING, CERTIFICATE], lambda: client.vaults.list_by_subscription())
    if isinstance(vaults, Failed):
        return
    for vault in vaults:
        ctx.add(VAULT, vault.id, vault.name, vault.location, vault_attributes(vault))
    if ctx.wants(LOGGING):
        def diagnostics(vault: Any) -> Any:
            return ctx.attempt([LOGGING], lambda: arm_list(
                ctx, f"{vault.id}/providers/Microsoft.Insights/diagnosticSettings", DIAGNOSTICS_API), where=vault.name)

        for vault, found in ctx.fan_out(diagnostics, vaults):
            if not isinstance(found, Failed):
                ctx.add(LOGGING, f"{vault.id}/providers/Microsoft.Insights/diagnosticSettings", vault.name,
                        vault.location, {"diagnostic_settings": len(found), "audit_logged": audit_logged(found)})
    for fact_type, op, attrs in ((KEY, client.keys, key_attributes), (SECRET, client.secrets, secret_attributes)):
        if not ctx.wants(fact_type):
            continue

        def list_items(vault: Any, fact_type: str = fact_type, op: Any = op) -> Any:
            return ctx.attempt([fact_type], lambda: op.list(resource_group(vault.id), vault.name), where=vault.name)

        for vault, items in ctx.fan_out(list_items, vaults):
            if isinstance(items, Failed):
                continue
            for item in items:
                ctx.add(fact_type, item.id, f"{vault.name}/{item.name}", vault.location, attrs(item))
    if ctx.wants(CERTIFICATE):
        add_certificates(ctx, vaults)


def add_certificates(ctx: AzureContext, vaults: list[Any]) -> None:
    """Each vault's certificates with their policy's validity period: the vault's list pages, then one policy
    GET per certificate, all concurrent (bounded). A vault that cannot be read (its firewall, a missing
    permission) adds no certificate and is named, with Key Vault's code, in the fact type's error; the
    other vaults' certificates are still judged."""
    from posture_azure import keyvault_data

    client = ctx.data_plane(ctx.settings.keyvault_scopes)
    failed: dict[str, tuple[Any, BaseException]] = {}

    def listing(vault: Any) -> tuple[str, list[dict[str, Any]]]:
        base = keyvault_data.vault_url(ctx.settings, g(vault, "properties.vault_uri"))
        return base, list(keyvault_data.certificates(client, base))

    def months(job: tuple[Any, str, dict[str, Any]]) -> int | None:
        _, base, cert = job
        return keyvault_data.validity_months(client, base, cert["name"])

    jobs = []
    for vault, listed, exc in ctx.parallel(listing, vaults):
        if exc is not None:
            failed[vault.id] = (vault, exc)
        elif listed is not None:
            jobs += [(vault, listed[0], cert) for cert in listed[1]]
    read = [(vault, cert, value, exc) for (vault, _, cert), value, exc in ctx.parallel(months, jobs)]
    for vault, _, _, exc in read:
        if exc is not None:
            failed.setdefault(vault.id, (vault, exc))
    for vault, cert, value, _ in read:
        if vault.id not in failed:
            ctx.add(CERTIFICATE, f"{vault.id}/certificates/{cert['name']}", f"{vault.name}/{cert['name']}",
                    vault.location, {"enabled": cert["enabled"], "validity_months": value})
    if failed:
        codes = [(vault.name, ctx.classify(exc).code) for vault, exc in failed.values()]
        named = ", ".join(f"{name} ({code})" for name, code in codes)
        hints = "; ".join(dict.fromkeys(h for _, code in codes if (h := keyvault_data.hint(code))))
        ctx.fail([CERTIFICATE], next(iter(failed.values()))[1],
                 where=f"Key Vault data plane of {'vault' if len(codes) == 1 else 'vaults'} {named}", hint=hints)
