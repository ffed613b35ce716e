"""Storage accounts (one subscription-wide list) and, only when asked, blob service properties."""

from __future__ import annotations

from typing import Any

from posture_azure.collectors import collector
from posture_azure.collectors.base import (
    AzureContext,
    Failed,
    enum_str,
    g,
    iso,
    resource_group,
    tags,
    tls_version,
)

ACCOUNT = "azure.storage.account"
BLOB_SERVICE = "azure.storage.blob_service"


def account_attributes(acc: Any) -> dict[str, Any]:
    key_source = enum_str(g(acc, "encryption.key_source"))
    created = [iso(g(acc, f"key_creation_time.{k}")) for k in ("key1", "key2")]
    return {
        "kind": enum_str(acc.kind),
        # null means the pre-2023 default (allowed) on older accounts
        "allow_blob_public_access": g(acc, "allow_blob_public_access"),
        "https_only": g(acc, "enable_https_traffic_only"),
        "minimum_tls_version": tls_version(g(acc, "minimum_tls_version")),
        # null means shared key access is allowed
        "allow_shared_key_access": g(acc, "allow_shared_key_access", True),
        "network_default_action": enum_str(g(acc, "network_rule_set.default_action")),
        "public_network_access": enum_str(g(acc, "public_network_access")),
        "infrastructure_encryption": bool(g(acc, "encryption.require_infrastructure_encryption", False)),
        "encryption_key_source": key_source,
        "customer_managed_key": key_source == "Microsoft.Keyvault",
        # when the access keys were last (re)generated; null on accounts older than the property
        "key_creation_times": created,
        "oldest_key_created": min((c for c in created if c), default=None),
        "tags": tags(acc),
    }


def has_blob_service(acc: Any) -> bool:
    """FileStorage (premium file shares) accounts have no blob service: ARM answers 400
    FeatureNotSupportedForAccount, which is not a finding, so they are not asked."""
    return str(enum_str(acc.kind) or "").lower() != "filestorage"


@collector("storage", level="subscription", facts={
    "azure.storage.account": 'Storage account: public access, HTTPS, TLS, shared key and key age, network, encryption',
    "azure.storage.blob_service": 'Blob service of a storage account: soft delete and versioning',
})
def collect(ctx: AzureContext) -> None:
    from azure.mgmt.storage import StorageManagementClient

    client = ctx.client(StorageManagementClient)
    accounts = ctx.attempt([ACCOUNT, BLOB_SERVICE], lambda: client.storage_accounts.list())
    if isinstance(accounts, Failed):
        return
    for acc in accounts:
        ctx.add(ACCOUNT, acc.id, acc.name, acc.location, account_attributes(acc))
    if not ctx.wants(BLOB_SERVICE):
        return

    def blob_props(acc: Any) -> Any:
        return ctx.attempt([BLOB_SERVICE], lambda: client.blob_services.get_service_properties(
            resource_group(acc.id), acc.name), where=acc.name)

    # one account's failure is an error for the fact type, but the other accounts' facts are kept
    for acc, props in ctx.fan_out(blob_props, [a for a in accounts if has_blob_service(a)]):
        if isinstance(props, Failed):
            continue
        ctx.add(BLOB_SERVICE, f"{acc.id}/blobServices/default", acc.name, acc.location, {
            "blob_soft_delete": bool(g(props, "delete_retention_policy.enabled", False)),
            "blob_soft_delete_days": g(props, "delete_retention_policy.days"),
            "container_soft_delete": bool(g(props, "container_delete_retention_policy.enabled", False)),
            "versioning": bool(g(props, "is_versioning_enabled", False)),
        })
