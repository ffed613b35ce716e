"""Activity log export: subscription diagnostic settings, legacy log profiles, workspace retention.

One scope-level fact per subscription, so "is the activity log exported"
reads exactly one fact. Retention costs one GET per distinct Log Analytics
workspace the settings point at (its AzureActivity table; the workspace
itself only when the table cannot be read).
"""

from __future__ import annotations

from typing import Any

from posture_azure.collectors import collector
from posture_azure.collectors.base import AzureContext, Failed, arm_get, g
from posture_azure.errors import classify

ACTIVITY_LOG = "azure.monitor.activity_log"
#: a storage account or Log Analytics workspace the activity log is exported to: integrity and encryption
DESTINATION = "azure.monitor.log_destination"
WORKSPACE_API = "2022-10-01"
STORAGE_API = "2023-05-01"
#: the container Azure Monitor writes exported activity logs to
ACTIVITY_CONTAINER = "insights-activity-logs"
#: the Log Analytics table the activity log is exported to
ACTIVITY_TABLE = "AzureActivity"


def workspace_properties(ctx: AzureContext, path: str) -> dict[str, Any]:
    """``properties`` of a Log Analytics workspace or of one of its tables (``{ws}/tables/{name}``)."""
    return arm_get(ctx, path, WORKSPACE_API).get("properties") or {}


def workspace_retention(ctx: AzureContext, workspace_id: str) -> Any:
    """The workspace's ``retentionInDays``, or :class:`Failed` (not a collection error: callers keep
    the code in the fact, since what is exported is known without it)."""
    workspace = ctx.attempt([], lambda: workspace_properties(ctx, workspace_id))
    return workspace if isinstance(workspace, Failed) else workspace.get("retentionInDays")


def activity_log_attributes(settings: list[Any], profiles: list[Any], workspace_days: dict[str, int | None],
                            workspace_errors: dict[str, str] | None = None) -> dict[str, Any]:
    """``workspace_days``/``workspace_errors`` are keyed by lower-cased workspace id; an unreadable
    workspace (e.g. in a subscription out of scope) has unknown retention, the export is still known."""
    workspace_errors = workspace_errors or {}
    categories: set[str] = set()
    workspaces: dict[str, dict[str, Any]] = {}
    destinations: list[str] = []
    retention: list[int] = []
    for s in settings:
        enabled = {str(g(log, "category")) for log in (g(s, "logs", []) or []) if g(log, "enabled")}
        if not enabled:
            continue
        categories |= enabled
        ws = g(s, "workspace_id")
        for kind, target in (("log_analytics", ws), ("storage", g(s, "storage_account_id")),
                             ("event_hub", g(s, "event_hub_authorization_rule_id"))):
            if target:
                destinations.append(kind)
        if ws:
            workspaces[ws.lower()] = {"name": ws.rsplit("/", 1)[-1], "id": ws,
                                      "retention_days": workspace_days.get(ws.lower()),
                                      "error": workspace_errors.get(ws.lower())}
        if ws and workspace_days.get(ws.lower()) is not None:
            retention.append(int(workspace_days[ws.lower()] or 0))
    for p in profiles:
        if g(p, "storage_account_id") or g(p, "service_bus_rule_id"):
            destinations.append("log_profile")
            days = g(p, "retention_policy.days", 0) if g(p, "retention_policy.enabled") else 0
            retention.append(int(days or 0))
    # 0 = kept forever (log profile without retention); otherwise the longest retention found
    effective = 0 if 0 in retention else (max(retention) if retention else None)
    return {
        "diagnostic_settings": len(settings),
        "exported": bool(categories) or bool(profiles),
        "categories": sorted(categories),
        "destinations": sorted(set(destinations)),
        "retention_days": effective,
        "retention_forever": effective == 0,
        # each Log Analytics destination: retention, or null with ARM's error code when unreadable
        "workspaces": [workspaces[k] for k in sorted(workspaces)],
    }


def export_targets(settings: list[Any]) -> list[tuple[str, str]]:
    """(kind, resource id) of each storage account and workspace receiving at least one enabled category."""
    targets: dict[str, tuple[str, str]] = {}
    for s in settings:
        if not any(g(log, "enabled") for log in g(s, "logs", []) or []):
            continue
        for kind, target in (("log_analytics", g(s, "workspace_id")), ("storage", g(s, "storage_account_id"))):
            if target:
                targets[str(target).lower()] = (kind, str(target))
    return [targets[k] for k in sorted(targets)]


def storage_destination(ctx: AzureContext, account_id: str) -> dict[str, Any]:
    """Encryption of the account and immutability of its activity-log container (account-level version-level
    immutability counts too); a container not created yet (404) holds nothing and is not immutable."""
    from azure.core.exceptions import ResourceNotFoundError

    props = arm_get(ctx, account_id, STORAGE_API).get("properties") or {}
    try:
        container = arm_get(ctx, f"{account_id}/blobServices/default/containers/{ACTIVITY_CONTAINER}",
                            STORAGE_API).get("properties") or {}
    except ResourceNotFoundError:
        container = {}
    return {
        "kind": "storage",
        "immutable": bool(container.get("hasImmutabilityPolicy"))
        or bool((container.get("immutableStorageWithVersioning") or {}).get("enabled"))
        or bool((props.get("immutableStorageWithVersioning") or {}).get("enabled")),
        "customer_managed_key": str((props.get("encryption") or {}).get("keySource") or "").lower()
        == "microsoft.keyvault",
    }


def workspace_destination(ctx: AzureContext, workspace_id: str) -> dict[str, Any]:
    """A workspace's records cannot be edited (only purged, by the Data Purger role): append-only. Its data is
    encrypted with a customer-managed key only when it is linked to a dedicated cluster that has one."""
    features = workspace_properties(ctx, workspace_id).get("features") or {}
    cluster = features.get("clusterResourceId")
    key = None
    if cluster:
        key = ((arm_get(ctx, str(cluster), WORKSPACE_API).get("properties") or {}).get("keyVaultProperties")
               or {}).get("keyName")
    return {"kind": "log_analytics", "immutable": True, "dedicated_cluster": cluster,
            "customer_managed_key": bool(key)}


def add_destinations(ctx: AzureContext, settings: list[Any]) -> None:
    """One fact per destination. A destination the scanner cannot read (e.g. a central workspace in a
    subscription out of reach) is not a collection error: its fact carries ARM's code and unknown values, which
    fail the checks (nothing was shown to be protected), like unreadable workspace retention."""
    def inspect(target: tuple[str, str]) -> Any:
        kind, rid = target
        fetch = storage_destination if kind == "storage" else workspace_destination
        return ctx.attempt([], lambda: fetch(ctx, rid))

    for (kind, rid), attrs in ctx.fan_out(inspect, export_targets(settings)):
        if isinstance(attrs, Failed):
            attrs = {"kind": kind, "immutable": True if kind == "log_analytics" else None,
                     "customer_managed_key": None, "error": attrs.code}
        ctx.add(DESTINATION, rid, rid.rsplit("/", 1)[-1], "global", attrs)


@collector("monitor", level="subscription", facts={
    "azure.monitor.activity_log": 'Subscription activity log export: categories, destinations, retention',
    "azure.monitor.log_destination": 'Storage account or Log Analytics workspace receiving the activity log: immutability, customer-managed key',
})
def collect(ctx: AzureContext) -> None:
    from azure.mgmt.monitor import MonitorManagementClient

    monitor = ctx.client(MonitorManagementClient)
    settings = ctx.attempt([ACTIVITY_LOG, DESTINATION], lambda: monitor.subscription_diagnostic_settings.list())
    if isinstance(settings, Failed):
        return
    settings = list(getattr(settings, "value", settings) or [])
    if ctx.wants(DESTINATION):
        add_destinations(ctx, settings)
    if not ctx.wants(ACTIVITY_LOG):
        return
    # Legacy log profiles (retired by Azure in September 2026) only add to the diagnostic settings:
    # when the API fails the export is still judged from the settings, and the code is kept.
    profiles_error = None
    try:
        profiles: Any = list(monitor.log_profiles.list())
    except Exception as exc:  # noqa: BLE001 - recorded in the fact, never fatal for it
        profiles, profiles_error = [], classify(exc).code
    workspaces = {ws.lower(): ws for s in settings if (ws := g(s, "workspace_id"))}

    def retention(ws: str) -> Any:
        """The AzureActivity table's total retention (per-table retention may differ from the
        workspace's, and the table keeps 90 days by default); the workspace's when unavailable."""
        # not a collection error: the export is known without it, the fact records the code
        table = ctx.attempt([], lambda: workspace_properties(ctx, f"{ws}/tables/{ACTIVITY_TABLE}"))
        if not isinstance(table, Failed) and table.get("totalRetentionInDays") is not None:
            return table["totalRetentionInDays"]
        return workspace_retention(ctx, ws)

    workspace_days: dict[str, int | None] = {}
    workspace_errors: dict[str, str] = {}
    for ws, days in ctx.fan_out(retention, list(workspaces.values())):
        if isinstance(days, Failed):
            workspace_errors[ws.lower()] = days.code
        else:
            workspace_days[ws.lower()] = days
    sub_id = f"/subscriptions/{ctx.subscription}"
    ctx.add(ACTIVITY_LOG, sub_id, ctx.subscription, "global",
            {**activity_log_attributes(settings, profiles, workspace_days, workspace_errors),
             "log_profiles_error": profiles_error})
