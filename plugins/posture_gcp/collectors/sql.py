"""Cloud SQL Admin (discovery client, v1beta4): instances, one paginated list per project."""

from __future__ import annotations

from typing import Any

from posture_gcp.collectors import GcpContext, collector, label_attributes, pages

SQL = "gcp.sql.instance"
SSL_ENFORCED_MODES = {"ENCRYPTED_ONLY", "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"}
DEFAULT_RETAINED_BACKUPS = 7  # the API's default when backupRetentionSettings is absent


def sql_attributes(inst: dict[str, Any]) -> dict[str, Any]:
    settings = inst.get("settings") or {}
    ip = settings.get("ipConfiguration") or {}
    backup = settings.get("backupConfiguration") or {}
    retention = backup.get("backupRetentionSettings") or {}
    ssl_mode = ip.get("sslMode")
    version = inst.get("databaseVersion") or ""
    return {
        "database_version": version,
        "engine": version.split("_", 1)[0],
        "instance_type": inst.get("instanceType") or "CLOUD_SQL_INSTANCE",
        "state": inst.get("state"),
        "public_ip_enabled": bool(ip.get("ipv4Enabled", False)),
        "private_network": bool(ip.get("privateNetwork")),
        "authorized_networks": [n.get("value") for n in ip.get("authorizedNetworks") or []],
        "ssl_mode": ssl_mode,
        "ssl_required": bool(ip.get("requireSsl", False)) or ssl_mode in SSL_ENFORCED_MODES,
        "backup_enabled": bool(backup.get("enabled", False)),
        "backup_retention_unit": retention.get("retentionUnit", "COUNT"),
        "backup_retained_count": int(retention.get("retainedBackups", DEFAULT_RETAINED_BACKUPS)),
        "point_in_time_recovery": bool(backup.get("pointInTimeRecoveryEnabled") or backup.get("binaryLogEnabled")),
        "deletion_protection": bool(settings.get("deletionProtectionEnabled", False)),
        "database_flags": {f.get("name"): f.get("value") for f in settings.get("databaseFlags") or []},
        "cmek_enabled": bool((inst.get("diskEncryptionConfiguration") or {}).get("kmsKeyName")),
        **label_attributes(settings.get("userLabels")),
    }


@collector("sql", level="project", facts={
    "gcp.sql.instance": 'A Cloud SQL instance: public IP, authorized networks, SSL, backups, flags',
})
def collect(ctx: GcpContext) -> None:
    project, clients = ctx.project, ctx.clients
    with ctx.feeding(SQL):
        for inst in pages(clients, lambda token: clients.discovery("sqladmin", "v1beta4").instances().list(
                project=project, pageToken=token), "items"):
            ctx.add(SQL, f"//sqladmin.googleapis.com/projects/{project}/instances/{inst['name']}", inst["name"],
                    inst.get("region") or "global", sql_attributes(inst))
