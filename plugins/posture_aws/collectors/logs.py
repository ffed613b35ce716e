"""CloudWatch Logs: one paginated call per region."""

from __future__ import annotations

from posture_aws.collectors import collector
from posture_aws.context import AwsContext

FT = "aws.logs.log_group"


@collector("logs", level="region", facts={
    "aws.logs.log_group": 'CloudWatch log groups and retention',
})
def collect_log_groups(ctx: AwsContext) -> None:
    with ctx.feeding(FT):
        for g in ctx.pages(ctx.client("logs"), "describe_log_groups", "logGroups"):
            retention = g.get("retentionInDays")
            arn = g.get("logGroupArn") or g.get("arn", "").removesuffix(":*") or ctx.arn(
                "logs", f"log-group:{g['logGroupName']}", ctx.region)
            ctx.add(FT, arn, g["logGroupName"], None, {
                "retention_days": retention, "never_expires": retention is None,
                "kms_encrypted": bool(g.get("kmsKeyId")),
            })
