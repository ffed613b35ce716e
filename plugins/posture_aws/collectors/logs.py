"""CloudWatch Logs: one paginated call per region."""

from __future__ import annotations

from posture_aws.context import UnitContext

FT = "aws.logs.log_group"


def collect_log_groups(ctx: UnitContext) -> None:
    with ctx.collecting(FT) as sink:
        for g in ctx.pages(ctx.client("logs"), "describe_log_groups", "logGroups"):
            retention = g.get("retentionInDays")
            arn = g.get("logGroupArn") or g.get("arn", "").removesuffix(":*") or ctx.arn(
                "logs", f"log-group:{g['logGroupName']}", ctx.region)
            sink.add(ctx.fact(FT, arn, g["logGroupName"], {
                "retention_days": retention, "never_expires": retention is None,
                "kms_encrypted": bool(g.get("kmsKeyId")),
            }))
