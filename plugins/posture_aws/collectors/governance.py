"""Regional security services whose state is one answer per region: IAM Access Analyzer, Security Hub,
and the EC2 serial console switch. One call per region each, only when its fact type is requested."""

from __future__ import annotations

from posture_aws.collectors import collector
from posture_aws.context import AwsContext
from posture_aws.errors import has_code

ANALYZER, HUB, SERIAL = "aws.accessanalyzer.region", "aws.securityhub.hub", "aws.ec2.serial_console"


@collector("accessanalyzer", level="region", facts={
    "aws.accessanalyzer.region": 'IAM Access Analyzer for external access (one fact per region)',
})
def collect_access_analyzers(ctx: AwsContext) -> None:
    """``ListAnalyzers``: an ACTIVE analyzer of external access (account or organization zone of trust)."""
    with ctx.feeding(ANALYZER):
        client = ctx.client("accessanalyzer")
        analyzers = list(ctx.pages(client, "list_analyzers", "analyzers"))
        external = [a for a in analyzers if a.get("type") in ("ACCOUNT", "ORGANIZATION")]
        active = sorted(a["name"] for a in external if a.get("status") == "ACTIVE")
        ctx.add(ANALYZER, ctx.arn("access-analyzer", "region", ctx.region),
                f"access-analyzer ({ctx.region})", None, {
            "analyzer_count": len(analyzers), "active_external_analyzers": active, "enabled": bool(active),
        })


@collector("securityhub", level="region", facts={
    "aws.securityhub.hub": 'Security Hub enabled or not (one fact per region)',
})
def collect_security_hub(ctx: AwsContext) -> None:
    """``DescribeHub``: an account that never enabled Security Hub gets ``InvalidAccessException``."""
    with ctx.feeding(HUB):
        try:
            hub = ctx.client("securityhub").describe_hub()
            enabled = True
        except Exception as exc:
            if not has_code(exc, "InvalidAccessException", "ResourceNotFoundException"):
                raise
            hub, enabled = {}, False
        ctx.add(HUB, hub.get("HubArn") or ctx.arn("securityhub", "hub/default", ctx.region),
                f"security-hub ({ctx.region})", None, {
            "enabled": enabled, "subscribed_at": hub.get("SubscribedAt"),
            "auto_enable_controls": hub.get("AutoEnableControls"),
        })


@collector("ec2_serial_console", level="region", facts={
    "aws.ec2.serial_console": 'EC2 serial console access switch (one fact per region)',
})
def collect_serial_console(ctx: AwsContext) -> None:
    """``GetSerialConsoleAccessStatus``: the account-wide EC2 serial console switch of the region."""
    with ctx.feeding(SERIAL):
        status = ctx.client("ec2").get_serial_console_access_status()
        ctx.add(SERIAL, ctx.arn("ec2", "serial-console-access", ctx.region),
                f"serial-console-access ({ctx.region})", None, {
            "enabled": bool(status.get("SerialConsoleAccessEnabled")),
        })
