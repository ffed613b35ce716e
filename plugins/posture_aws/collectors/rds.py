"""RDS DB instances: one paginated call per region carries every setting we check.

Aurora, DocumentDB and Neptune keep deletion protection and backup retention on
the DB cluster, so for cluster members one more paginated call per region
(only when such members exist) reads them from there.
"""

from __future__ import annotations

from typing import Any

from posture_aws.collectors import collector
from posture_aws.context import AwsContext, tag_keys

FT = "aws.rds.db_instance"


@collector("rds", level="region", facts={
    "aws.rds.db_instance": 'RDS DB instances: exposure, encryption, backups, protection',
})
def collect_db_instances(ctx: AwsContext) -> None:
    with ctx.feeding(FT):
        rds = ctx.client("rds")
        instances = list(ctx.pages(rds, "describe_db_instances", "DBInstances"))
        clusters: dict[str, dict[str, Any]] = {}
        if any(db.get("DBClusterIdentifier") for db in instances):
            clusters = {c["DBClusterIdentifier"]: c for c in ctx.pages(rds, "describe_db_clusters", "DBClusters")}
        for db in instances:
            cluster = clusters.get(db.get("DBClusterIdentifier") or "", {})
            setting = cluster or db  # the cluster's value governs its members
            ctx.add(FT, db.get("DBInstanceArn") or ctx.arn("rds", f"db:{db['DBInstanceIdentifier']}",
                    ctx.region),
                              db["DBInstanceIdentifier"], None, {
                "engine": db.get("Engine"), "engine_version": db.get("EngineVersion"),
                "publicly_accessible": bool(db.get("PubliclyAccessible")),
                "storage_encrypted": bool(db.get("StorageEncrypted")),
                "kms_key_id": db.get("KmsKeyId"),
                "cluster": db.get("DBClusterIdentifier"),
                "backup_retention_days": setting.get("BackupRetentionPeriod", 0),
                "deletion_protection": bool(setting.get("DeletionProtection")),
                "auto_minor_version_upgrade": bool(db.get("AutoMinorVersionUpgrade")),
                "multi_az": bool(db.get("MultiAZ")),
                "iam_auth": bool(db.get("IAMDatabaseAuthenticationEnabled")),
                "log_exports": sorted((cluster or db).get("EnabledCloudwatchLogsExports") or []),
                "tag_keys": tag_keys(db.get("TagList")),
            })
