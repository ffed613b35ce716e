"""EFS file systems and Secrets Manager secrets: one paginated listing per region each, no per-resource call
(``DescribeFileSystems`` carries encryption, ``ListSecrets`` carries rotation; secret values are never read)."""

from __future__ import annotations

from posture_aws.collectors import collector
from posture_aws.context import AwsContext, iso, tag_keys

EFS, SECRET = "aws.efs.file_system", "aws.secretsmanager.secret"


@collector("efs", level="region", facts={
    "aws.efs.file_system": 'EFS file systems: encryption at rest',
})
def collect_file_systems(ctx: AwsContext) -> None:
    with ctx.feeding(EFS):
        for fs in ctx.pages(ctx.client("efs"), "describe_file_systems", "FileSystems"):
            arn = fs.get("FileSystemArn") or ctx.arn("elasticfilesystem", f"file-system/{fs['FileSystemId']}",
                                                    ctx.region)
            ctx.add(EFS, arn, fs.get("Name") or fs["FileSystemId"], None, {
                "file_system_id": fs["FileSystemId"], "encrypted": bool(fs.get("Encrypted")),
                "kms_key_id": fs.get("KmsKeyId"), "created": iso(fs.get("CreationTime")),
                "tag_keys": tag_keys(fs.get("Tags")),
            })


@collector("secretsmanager", level="region", facts={
    "aws.secretsmanager.secret": 'Secrets Manager secrets: rotation (never the value)',
})
def collect_secrets(ctx: AwsContext) -> None:
    with ctx.feeding(SECRET):
        for s in ctx.pages(ctx.client("secretsmanager"), "list_secrets", "SecretList"):
            rules = s.get("RotationRules") or {}
            ctx.add(SECRET, s["ARN"], s.get("Name") or s["ARN"], None, {
                "rotation_enabled": bool(s.get("RotationEnabled")),
                "rotation_days": rules.get("AutomaticallyAfterDays"),
                "last_rotated": iso(s.get("LastRotatedDate")), "last_accessed": iso(s.get("LastAccessedDate")),
                "created": iso(s.get("CreatedDate")), "kms_key_id": s.get("KmsKeyId"),
                "tag_keys": tag_keys(s.get("Tags")),
            })
