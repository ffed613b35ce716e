"""EFS file systems and Secrets Manager secrets: one paginated listing per region each, no per-resource call
(``DescribeFileSystems`` carries encryption, ``ListSecrets`` carries rotation; secret values are never read)."""

from __future__ import annotations

from posture_aws.context import UnitContext, iso, tag_keys

EFS, SECRET = "aws.efs.file_system", "aws.secretsmanager.secret"


def collect_file_systems(ctx: UnitContext) -> None:
    with ctx.collecting(EFS) as sink:
        for fs in ctx.pages(ctx.client("efs"), "describe_file_systems", "FileSystems"):
            arn = fs.get("FileSystemArn") or ctx.arn("elasticfilesystem", f"file-system/{fs['FileSystemId']}",
                                                    ctx.region)
            sink.add(ctx.fact(EFS, arn, fs.get("Name") or fs["FileSystemId"], {
                "file_system_id": fs["FileSystemId"], "encrypted": bool(fs.get("Encrypted")),
                "kms_key_id": fs.get("KmsKeyId"), "created": iso(fs.get("CreationTime")),
                "tag_keys": tag_keys(fs.get("Tags")),
            }))


def collect_secrets(ctx: UnitContext) -> None:
    with ctx.collecting(SECRET) as sink:
        for s in ctx.pages(ctx.client("secretsmanager"), "list_secrets", "SecretList"):
            rules = s.get("RotationRules") or {}
            sink.add(ctx.fact(SECRET, s["ARN"], s.get("Name") or s["ARN"], {
                "rotation_enabled": bool(s.get("RotationEnabled")),
                "rotation_days": rules.get("AutomaticallyAfterDays"),
                "last_rotated": iso(s.get("LastRotatedDate")), "last_accessed": iso(s.get("LastAccessedDate")),
                "created": iso(s.get("CreatedDate")), "kms_key_id": s.get("KmsKeyId"),
                "tag_keys": tag_keys(s.get("Tags")),
            }))
