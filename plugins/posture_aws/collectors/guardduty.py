"""GuardDuty: one fact per region saying whether a detector is enabled."""

from __future__ import annotations

from posture_aws.collectors import collector
from posture_aws.context import AwsContext

FT = "aws.guardduty.detector"


@collector("guardduty", level="region", facts={
    "aws.guardduty.detector": 'GuardDuty state (one fact per region)',
})
def collect_detectors(ctx: AwsContext) -> None:
    with ctx.feeding(FT):
        gd = ctx.client("guardduty")
        ids = list(ctx.pages(gd, "list_detectors", "DetectorIds"))
        enabled = [d for d in ids if gd.get_detector(DetectorId=d).get("Status") == "ENABLED"]
        ctx.add(FT, ctx.arn("guardduty", "detector", ctx.region), f"guardduty ({ctx.region})", None, {
            "detector_count": len(ids), "enabled": bool(enabled),
        })
