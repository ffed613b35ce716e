"""SQL servers (one list, AAD admin via $expand) with per-server auditing; databases with TDE when asked."""

from __future__ import annotations

from typing import Any

from posture_azure.collectors.base import Context, Failed, enum_str, g, resource_group, tags, tls_version
from posture_azure.errors import error_code

SERVER = "azure.sql.server"
DATABASE = "azure.sql.database"
#: ARM codes of a database edition (DataWarehouse) that has no short-term backup retention policy
NO_SHORT_TERM_RETENTION = {"FeatureDisabledOnSelectedEdition"}


def server_attributes(server: Any, audit: Any, audit_error: str | None = None) -> dict[str, Any]:
    """``audit_error``: ARM's code when the auditing policy could not be read; the server's other
    settings are still judged and the auditing checks do not apply (the read is a collection error)."""
    retention = g(audit, "retention_days")
    return {
        "public_network_access": enum_str(g(server, "public_network_access", "Enabled")),
        "minimal_tls_version": tls_version(g(server, "minimal_tls_version")),
        "aad_admin_configured": bool(g(server, "administrators.login")),
        "aad_only_authentication": bool(g(server, "administrators.azure_ad_only_authentication", False)),
        "auditing_enabled": enum_str(g(audit, "state")) == "Enabled",
        # 0 = keep forever; a Log Analytics / Event Hub target keeps by its own policy
        "auditing_retention_days": retention,
        "auditing_to_log_analytics": bool(g(audit, "is_azure_monitor_target_enabled", False)),
        "auditing_error": audit_error,
        "tags": tags(server),
    }


def collect(ctx: Context) -> None:
    from azure.mgmt.sql import SqlManagementClient

    client = ctx.client(SqlManagementClient)
    servers = ctx.call([SERVER, DATABASE], lambda: client.servers.list(expand="administrators/activedirectory"))
    if isinstance(servers, Failed):
        return
    if ctx.wants(SERVER):
        def audit(server: Any) -> Any:
            return ctx.call([SERVER], lambda: client.server_blob_auditing_policies.get(
                resource_group(server.id), server.name), where=server.name)

        for server, policy in ctx.fan_out(audit, servers):
            failed = isinstance(policy, Failed)
            ctx.add(SERVER, server.id, server.name, server.location,
                    server_attributes(server, None if failed else policy,
                                      error_code(policy.exc)[0] if failed else None))
    if ctx.wants(DATABASE):
        def databases(server: Any) -> Any:
            return ctx.call([DATABASE], lambda: client.databases.list_by_server(
                resource_group(server.id), server.name), where=server.name)

        dbs = [(server, db) for server, found in ctx.fan_out(databases, servers) if not isinstance(found, Failed)
               for db in found if db.name.lower() != "master"]

        def settings(pair: tuple[Any, Any]) -> tuple[Any, Any]:
            server, db = pair
            rg, where = resource_group(server.id), f"{server.name}/{db.name}"
            tde = ctx.call([DATABASE], lambda: client.transparent_data_encryptions.get(
                rg, server.name, db.name, "current"), where=where)
            # reported below: an edition without short-term retention is not a collection error
            backup = ctx.call([], lambda: client.backup_short_term_retention_policies.get(
                rg, server.name, db.name, "default"))
            if isinstance(backup, Failed) and error_code(backup.exc)[0] not in NO_SHORT_TERM_RETENTION:
                ctx.fail([DATABASE], backup.exc, where)
            return tde, backup

        # TDE is judged even when the backup policy cannot be read (DataWarehouse has none)
        for (server, db), (state, backup) in ctx.fan_out(settings, dbs):
            if not isinstance(state, Failed):
                ctx.add(DATABASE, db.id, f"{server.name}/{db.name}", db.location, {
                    "tde_enabled": enum_str(g(state, "state")) == "Enabled",
                    "backup_retention_days": None if isinstance(backup, Failed) else g(backup, "retention_days"),
                    # ARM's code when the policy could not be read; the backup check does not apply then
                    "backup_retention_error": error_code(backup.exc)[0] if isinstance(backup, Failed) else None,
                    "server": server.name,
                    "tags": tags(db),
                })
