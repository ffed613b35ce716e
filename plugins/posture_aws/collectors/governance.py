"""Regional security services whose state is one answer per region: IAM Access Analyzer, Security Hub,
and the EC2 serial console switch. One call per region each, only when its fact type is requested."""

from __future__ import annotations

from posture_aws.context import UnitContext
from posture_aws.errors import has_code

ANALYZER, HUB, SERIAL = "aws.accessanalyzer.region", "aws.securityhub.hub", "aws.ec2.serial_console"


def collect_access_analyzers(ctx: UnitContext) -> None:
    """``ListAnalyzers``: an ACTIVE analyzer of external access (account or organization zone of trust)."""
    with ctx.collecting(ANALYZER) as sink:
        client = ctx.client("accessanalyzer")
        analyzers = list(ctx.pages(client, "list_analyzers", "analyzers"))
        external = [a for a in analyzers if a.get("type") in ("ACCOUNT", "ORGANIZATION")]
        active = sorted(a["name"] for a in external if a.get("status") == "ACTIVE")
        sink.add(ctx.fact(ANALYZER, ctx.arn("access-analyzer", "region", ctx.region),
                          f"access-analyzer ({ctx.region})", {
            "analyzer_count": len(analyzers), "active_external_analyzers": active, "enabled": bool(active),
        }))


def collect_security_hub(ctx: UnitContext) -> None:
    """``DescribeHub``: an account that never enabled Security Hub gets ``InvalidAccessException``."""
    with ctx.collecting(HUB) as sink:
        try:
            hub = ctx.client("securityhub").describe_hub()
            enabled = True
        except Exception as exc:
            if not has_code(exc, "InvalidAccessException", "ResourceNotFoundException"):
                raise
            hub, enabled = {}, False
        sink.add(ctx.fact(HUB, hub.get("HubArn") or ctx.arn("securityhub", "hub/default", ctx.region),
                          f"security-hub ({ctx.region})", {
            "enabled": enabled, "subscribed_at": hub.get("SubscribedAt"),
            "auto_enable_controls": hub.get("AutoEnableControls"),
        }))


def collect_serial_console(ctx: UnitContext) -> None:
    """``GetSerialConsoleAccessStatus``: the account-wide EC2 serial console switch of the region."""
    with ctx.collecting(SERIAL) as sink:
        status = ctx.client("ec2").get_serial_console_access_status()
        sink.add(ctx.fact(SERIAL, ctx.arn("ec2", "serial-console-access", ctx.region),
                          f"serial-console-access ({ctx.region})", {
            "enabled": bool(status.get("SerialConsoleAccessEnabled")),
        }))
