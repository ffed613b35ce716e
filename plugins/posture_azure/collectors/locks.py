"""Delete protection of critical resources: one lock list + one filtered resource list per subscription."""

from __future__ import annotations

from typing import Any

from posture_azure.collectors import collector
from posture_azure.collectors.base import AzureContext, Failed, enum_str, tags

CRITICAL = "azure.resources.critical_resource"
CRITICAL_TYPES = (
    "Microsoft.KeyVault/vaults",
    "Microsoft.Storage/storageAccounts",
    "Microsoft.Sql/servers",
    "Microsoft.RecoveryServices/vaults",
)
LOCK_SEGMENT = "/providers/microsoft.authorization/locks/"


def lock_scope(lock_id: str) -> str:
    low = lock_id.lower()
    return low[: low.index(LOCK_SEGMENT)] if LOCK_SEGMENT in low else low.rsplit("/", 1)[0]


def locks_covering(resource_id: str, locks: list[tuple[str, str]]) -> list[str]:
    """Lock levels applying to a resource: on itself, its resource group or subscription."""
    rid = resource_id.lower().rstrip("/")
    return sorted({level for scope, level in locks if rid == scope or rid.startswith(scope.rstrip("/") + "/")})


@collector("locks", level="subscription", facts={
    "azure.resources.critical_resource": 'Critical resource (key vault, storage account, SQL server, recovery vault) and its locks',
})
def collect(ctx: AzureContext) -> None:
    from azure.mgmt.resource.locks import ManagementLockClient
    from azure.mgmt.resource.resources import ResourceManagementClient

    lock_client = ctx.client(ManagementLockClient)
    found = ctx.attempt([CRITICAL], lambda: lock_client.management_locks.list_at_subscription_level())
    if isinstance(found, Failed):
        return
    locks = [(lock_scope(lk.id), str(enum_str(lk.level))) for lk in found]
    flt = " or ".join(f"resourceType eq '{t}'" for t in CRITICAL_TYPES)
    arm = ctx.client(ResourceManagementClient)
    resources = ctx.attempt([CRITICAL], lambda: arm.resources.list(filter=flt))
    if isinstance(resources, Failed):
        return
    for res in resources:
        levels = locks_covering(res.id, locks)
        attrs: dict[str, Any] = {
            "resource_type": res.type,
            "locks": levels,
            "delete_protected": any(level in ("CanNotDelete", "ReadOnly") for level in levels),
            "tags": tags(res),
        }
        ctx.add(CRITICAL, res.id, res.name, res.location, attrs)
