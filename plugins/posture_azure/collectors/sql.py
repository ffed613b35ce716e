"""SQL servers (one list, AAD admin via $expand) with per-server auditing; databases with TDE when asked.

Auditing to Azure Monitor (``isAzureMonitorTargetEnabled``) only reaches Log
Analytics through a diagnostic setting of the server's ``master`` database, so
for those servers alone the setting is read, then each distinct workspace once.
"""

from __future__ import annotations

from typing import Any

from posture_azure.collectors import collector
from posture_azure.collectors.base import (
    AzureContext,
    Failed,
    arm_get,
    enum_str,
    g,
    resource_group,
    tags,
    tls_version,
)
from posture_azure.collectors.monitor import workspace_retention

SERVER = "azure.sql.server"
DATABASE = "azure.sql.database"
FIREWALL = "azure.sql.firewall"
#: ARM codes of a database edition (DataWarehouse) that has no short-term backup retention policy
NO_SHORT_TERM_RETENTION = {"FeatureDisabledOnSelectedEdition"}
DIAGNOSTIC_SETTINGS_API = "2021-05-01-preview"
#: the diagnostic log category carrying SQL audit events, and the category groups (lower-cased) including it
AUDIT_CATEGORY = "sqlsecurityauditevents"
AUDIT_CATEGORY_GROUPS = {"audit", "alllogs"}


def audit_workspaces(settings: list[dict[str, Any]]) -> list[str]:
    """Workspaces the ``master`` database's diagnostic settings (raw REST shape) send audit events to."""
    found: dict[str, str] = {}
    for s in settings:
        props = s.get("properties") or {}
        ws = props.get("workspaceId")
        if ws and any(log.get("enabled") and (str(log.get("category") or "").lower() == AUDIT_CATEGORY
                                              or str(log.get("categoryGroup") or "").lower() in AUDIT_CATEGORY_GROUPS)
                      for log in props.get("logs") or []):
            found.setdefault(ws.lower(), ws)
    return list(found.values())


def log_analytics_attributes(exported: list[str] | Failed | None, days: dict[str, Any]) -> dict[str, Any]:
    """``exported``: the workspaces receiving audit events (:func:`audit_workspaces`), Failed when the
    diagnostic settings could not be read, None when the server does not audit to Azure Monitor.
    ``days``: retention (or Failed) by lower-cased workspace id; the longest readable one counts.
    An unreadable setting or workspace is null plus ARM's code, never a collection error."""
    if isinstance(exported, Failed):
        return {"audit_log_analytics_exported": None, "audit_log_analytics_retention_days": None,
                "audit_log_analytics_error": exported.code}
    found = [days.get(ws.lower()) for ws in exported or []]
    readable = [d for d in found if d is not None and not isinstance(d, Failed)]
    failed = [d for d in found if isinstance(d, Failed)]
    return {
        "audit_log_analytics_exported": bool(found),
        "audit_log_analytics_retention_days": max(readable) if readable else None,
        "audit_log_analytics_error": failed[0].code if failed else None,
    }


def server_attributes(server: Any, audit: Any, audit_error: str | None = None,
                      exported: list[str] | Failed | None = None, workspace_days: dict[str, Any] | None = None
                      ) -> dict[str, Any]:
    """``audit_error``: ARM's code when the auditing policy could not be read; the server's other
    settings are still judged and the auditing checks do not apply (the read is a collection error).
    ``exported``/``workspace_days``: see :func:`log_analytics_attributes`."""
    retention = g(audit, "retention_days")
    to_monitor = bool(g(audit, "is_azure_monitor_target_enabled", False))
    return {
        "public_network_access": enum_str(g(server, "public_network_access", "Enabled")),
        "minimal_tls_version": tls_version(g(server, "minimal_tls_version")),
        "aad_admin_configured": bool(g(server, "administrators.login")),
        "aad_only_authentication": bool(g(server, "administrators.azure_ad_only_authentication", False)),
        "auditing_enabled": enum_str(g(audit, "state")) == "Enabled",
        # 0 = keep forever; a Log Analytics / Event Hub target keeps by its own policy
        "auditing_retention_days": retention,
        "auditing_to_log_analytics": to_monitor,
        # an enabled policy needs a storageEndpoint unless the Azure Monitor target is on, so without that
        # flag the policy's retention is the storage retention; with it, only when a storage target is set
        "auditing_to_storage": bool(g(audit, "storage_endpoint")) or not to_monitor,
        "auditing_error": audit_error,
        **log_analytics_attributes(exported, workspace_days or {}),
        "tags": tags(server),
    }


def firewall_attributes(server: Any, rules: list[Any]) -> dict[str, Any]:
    """Rules admitting every IPv4 address, and the 0.0.0.0-0.0.0.0 rule ("Allow Azure services and
    resources to access this server"), which admits every Azure tenant's resources, not only yours."""
    def span(rule: Any) -> tuple[str, str]:
        return str(g(rule, "start_ip_address", "")), str(g(rule, "end_ip_address", ""))

    return {
        "public_network_access": enum_str(g(server, "public_network_access")),
        "rules": len(rules),
        "internet_rules": sorted(r.name for r in rules if span(r) == ("0.0.0.0", "255.255.255.255")),
        "allows_all_azure": any(span(r) == ("0.0.0.0", "0.0.0.0") for r in rules),
    }


@collector("sql", level="subscription", facts={
    "azure.sql.server": 'Azure SQL logical server: public network access, TLS, Entra ID admin, auditing',
    "azure.sql.database": 'Azure SQL database: transparent data encryption, backup retention',
    "azure.sql.firewall": 'Azure SQL server firewall: rules admitting the whole internet or all of Azure',
})
def collect(ctx: AzureContext) -> None:
    from azure.mgmt.sql import SqlManagementClient

    client = ctx.client(SqlManagementClient)
    servers = ctx.attempt([SERVER, DATABASE, FIREWALL],
                       lambda: client.servers.list(expand="administrators/activedirectory"))
    if isinstance(servers, Failed):
        return
    if ctx.wants(FIREWALL):
        def rules(server: Any) -> Any:
            return ctx.attempt([FIREWALL], lambda: client.firewall_rules.list_by_server(
                resource_group(server.id), server.name), where=server.name)

        for server, found in ctx.fan_out(rules, servers):
            if not isinstance(found, Failed):
                ctx.add(FIREWALL, f"{server.id}/firewallRules", server.name, server.location,
                        firewall_attributes(server, list(found)))
    if ctx.wants(SERVER):
        def audit(server: Any) -> Any:
            return ctx.attempt([SERVER], lambda: client.server_blob_auditing_policies.get(
                resource_group(server.id), server.name), where=server.name)

        policies = ctx.fan_out(audit, servers)
        monitored = [server for server, policy in policies
                     if not isinstance(policy, Failed) and g(policy, "is_azure_monitor_target_enabled")]

        def diagnostics(server: Any) -> Any:
            # not a collection error: the server's other verdicts stand, the fact keeps the code
            return ctx.attempt([], lambda: arm_get(ctx, f"{server.id}/databases/master/providers/"
                                                "microsoft.insights/diagnosticSettings", DIAGNOSTIC_SETTINGS_API))

        exports = {server.id: (found if isinstance(found, Failed) else audit_workspaces(found.get("value") or []))
                   for server, found in ctx.fan_out(diagnostics, monitored)}
        distinct = {ws.lower(): ws for found in exports.values() if not isinstance(found, Failed) for ws in found}
        days = {ws.lower(): d for ws, d in ctx.fan_out(lambda ws: workspace_retention(ctx, ws), distinct.values())}
        for server, policy in policies:
            failed = isinstance(policy, Failed)
            ctx.add(SERVER, server.id, server.name, server.location,
                    server_attributes(server, None if failed else policy, policy.code if failed else None,
                                      exports.get(server.id), days))
    if ctx.wants(DATABASE):
        def databases(server: Any) -> Any:
            return ctx.attempt([DATABASE], lambda: client.databases.list_by_server(
                resource_group(server.id), server.name), where=server.name)

        dbs = [(server, db) for server, found in ctx.fan_out(databases, servers) if not isinstance(found, Failed)
               for db in found if db.name.lower() != "master"]

        def settings(pair: tuple[Any, Any]) -> tuple[Any, Any]:
            server, db = pair
            rg, where = resource_group(server.id), f"{server.name}/{db.name}"
            tde = ctx.attempt([DATABASE], lambda: client.transparent_data_encryptions.get(
                rg, server.name, db.name, "current"), where=where)
            # reported below: an edition without short-term retention is not a collection error
            backup = ctx.attempt([], lambda: client.backup_short_term_retention_policies.get(
                rg, server.name, db.name, "default"))
            if isinstance(backup, Failed) and backup.code not in NO_SHORT_TERM_RETENTION:
                ctx.fail([DATABASE], backup.exc, where=where)
            return tde, backup

        # TDE is judged even when the backup policy cannot be read (DataWarehouse has none)
        for (server, db), (state, backup) in ctx.fan_out(settings, dbs):
            if not isinstance(state, Failed):
                ctx.add(DATABASE, db.id, f"{server.name}/{db.name}", db.location, {
                    "tde_enabled": enum_str(g(state, "state")) == "Enabled",
                    "backup_retention_days": None if isinstance(backup, Failed) else g(backup, "retention_days"),
                    # ARM's code when the policy could not be read; the backup check does not apply then
                    "backup_retention_error": backup.code if isinstance(backup, Failed) else None,
                    "server": server.name,
                    "tags": tags(db),
                })
