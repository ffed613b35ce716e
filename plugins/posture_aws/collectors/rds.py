"""RDS DB instances: one paginated call per region carries every setting we check."""

from __future__ import annotations

from posture_aws.context import UnitContext, tag_keys

FT = "aws.rds.db_instance"


def collect_db_instances(ctx: UnitContext) -> None:
    with ctx.collecting(FT) as sink:
        for db in ctx.pages(ctx.client("rds"), "describe_db_instances", "DBInstances"):
            sink.add(ctx.fact(FT, db.get("DBInstanceArn") or ctx.arn("rds", f"db:{db['DBInstanceIdentifier']}",
                                                                     ctx.region),
                              db["DBInstanceIdentifier"], {
                "engine": db.get("Engine"), "engine_version": db.get("EngineVersion"),
                "publicly_accessible": bool(db.get("PubliclyAccessible")),
                "storage_encrypted": bool(db.get("StorageEncrypted")),
                "kms_key_id": db.get("KmsKeyId"),
                "backup_retention_days": db.get("BackupRetentionPeriod", 0),
                "deletion_protection": bool(db.get("DeletionProtection")),
                "auto_minor_version_upgrade": bool(db.get("AutoMinorVersionUpgrade")),
                "multi_az": bool(db.get("MultiAZ")),
                "iam_auth": bool(db.get("IAMDatabaseAuthenticationEnabled")),
                "tag_keys": tag_keys(db.get("TagList")),
            }))
