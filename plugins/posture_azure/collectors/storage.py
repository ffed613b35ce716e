"""Storage accounts (one subscription-wide list) and, only when asked, per-account blob service properties,
file service properties and blob diagnostic settings (ARM answers these per account only)."""

from __future__ import annotations

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
    tls_version,
)

ACCOUNT = "azure.storage.account"
BLOB_SERVICE = "azure.storage.blob_service"
FILE_SERVICE = "azure.storage.file_service"
BLOB_LOGGING = "azure.storage.blob_logging"
DIAGNOSTICS_API = "2021-05-01-preview"
#: redundancy SKUs that keep a copy in a second region
GEO_REDUNDANT = ("GRS", "RAGRS", "GZRS", "RAGZRS")
#: SMB settings at least as strong as SMB 3.1.1 / AES-256-GCM
STRONG_SMB_VERSIONS = {"SMB3.1.1"}
STRONG_SMB_CHANNEL_ENCRYPTION = {"AES-256-GCM"}


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
        # a key expiration period makes Azure remind (and Azure Policy audit) key rotation
        "key_expiration_days": g(acc, "key_policy.key_expiration_period_in_days"),
        # null means allowed on accounts created before the default changed (December 2023)
        "allow_cross_tenant_replication": g(acc, "allow_cross_tenant_replication", True),
        "default_to_entra_authorization": bool(g(acc, "default_to_o_auth_authentication", False)),
        "network_bypass": [b.strip() for b in str(enum_str(g(acc, "network_rule_set.bypass")) or "").split(",")
                           if b.strip()],
        "private_endpoints": sum(1 for c in g(acc, "private_endpoint_connections", []) or []
                                 if enum_str(g(c, "private_link_service_connection_state.status")) == "Approved"),
        "sku": enum_str(g(acc, "sku.name")),
        "geo_redundant": str(enum_str(g(acc, "sku.name")) or "").upper().split("_")[-1] in GEO_REDUNDANT,
        "tags": tags(acc),
    }


def file_service_attributes(props: Any) -> dict[str, Any]:
    versions = [v for v in str(g(props, "protocol_settings.smb.versions", "") or "").split(";") if v]
    channel = [v for v in str(g(props, "protocol_settings.smb.channel_encryption", "") or "").split(";") if v]
    return {
        "share_soft_delete": bool(g(props, "share_delete_retention_policy.enabled", False)),
        "share_soft_delete_days": g(props, "share_delete_retention_policy.days"),
        # empty = the service default, which still accepts SMB 2.1/3.0 and AES-128
        "smb_versions": versions,
        "smb_channel_encryption": channel,
        "smb_versions_strong": bool(versions) and set(versions) <= STRONG_SMB_VERSIONS,
        "smb_channel_encryption_strong": bool(channel) and set(channel) <= STRONG_SMB_CHANNEL_ENCRYPTION,
    }


def blob_logging_attributes(settings: list[dict[str, Any]]) -> dict[str, Any]:
    """Blob read/write/delete resource logs exported by any diagnostic setting of the blob service."""
    logged: set[str] = set()
    for s in settings:
        for log in (s.get("properties") or {}).get("logs") or []:
            if not log.get("enabled"):
                continue
            group = str(log.get("categoryGroup") or "").lower()
            if group in ("alllogs", "audit"):
                logged |= {"StorageRead", "StorageWrite", "StorageDelete"} if group == "alllogs" else {
                    "StorageWrite", "StorageDelete", "StorageRead"}
            elif log.get("category"):
                logged.add(str(log["category"]))
    return {
        "diagnostic_settings": len(settings),
        "logged_categories": sorted(logged),
        "read_write_delete_logged": {"StorageRead", "StorageWrite", "StorageDelete"} <= logged,
    }


def has_blob_service(acc: Any) -> bool:
    """FileStorage (premium file shares) accounts have no blob service: ARM answers 400
    FeatureNotSupportedForAccount, which is not a finding, so they are not asked."""
    return str(enum_str(acc.kind) or "").lower() != "filestorage"


def has_file_service(acc: Any) -> bool:
    """Blob-only accounts (BlobStorage, BlockBlobStorage) have no file service."""
    return str(enum_str(acc.kind) or "").lower() in ("storagev2", "storage", "filestorage")


@collector("storage", level="subscription", facts={
    "azure.storage.account": 'Storage account: public access, HTTPS, TLS, shared key and key age, network, encryption',
    "azure.storage.blob_service": 'Blob service of a storage account: soft delete and versioning',
    "azure.storage.file_service": 'File service of a storage account: share soft delete, SMB versions and channel encryption',
    "azure.storage.blob_logging": 'Blob service diagnostic settings of a storage account: read/write/delete logs exported',
})
def collect(ctx: AzureContext) -> None:
    from azure.mgmt.storage import StorageManagementClient

    client = ctx.client(StorageManagementClient)
    accounts = ctx.attempt([ACCOUNT, BLOB_SERVICE, FILE_SERVICE, BLOB_LOGGING], lambda: client.storage_accounts.list())
    if isinstance(accounts, Failed):
        return
    for acc in accounts:
        ctx.add(ACCOUNT, acc.id, acc.name, acc.location, account_attributes(acc))
    if ctx.wants(FILE_SERVICE):
        def file_props(acc: Any) -> Any:
            return ctx.attempt([FILE_SERVICE], lambda: client.file_services.get_service_properties(
                resource_group(acc.id), acc.name), where=acc.name)

        for acc, props in ctx.fan_out(file_props, [a for a in accounts if has_file_service(a)]):
            if not isinstance(props, Failed):
                ctx.add(FILE_SERVICE, f"{acc.id}/fileServices/default", acc.name, acc.location,
                        file_service_attributes(props))
    if ctx.wants(BLOB_LOGGING):
        def diagnostics(acc: Any) -> Any:
            return ctx.attempt([BLOB_LOGGING], lambda: arm_list(
                ctx, f"{acc.id}/blobServices/default/providers/Microsoft.Insights/diagnosticSettings",
                DIAGNOSTICS_API), where=acc.name)

        for acc, found in ctx.fan_out(diagnostics, [a for a in accounts if has_blob_service(a)]):
            if not isinstance(found, Failed):
                ctx.add(BLOB_LOGGING, f"{acc.id}/blobServices/default", acc.name, acc.location,
                        blob_logging_attributes(found))
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
