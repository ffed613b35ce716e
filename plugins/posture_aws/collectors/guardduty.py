"""GuardDuty: one fact per region saying whether a detector is enabled."""

from __future__ import annotations

from posture_aws.context import UnitContext

FT = "aws.guardduty.detector"


def collect_detectors(ctx: UnitContext) -> None:
    with ctx.collecting(FT) as sink:
        gd = ctx.client("guardduty")
        ids = list(ctx.pages(gd, "list_detectors", "DetectorIds"))
        enabled = [d for d in ids if gd.get_detector(DetectorId=d).get("Status") == "ENABLED"]
        sink.add(ctx.fact(FT, ctx.arn("guardduty", "detector", ctx.region), f"guardduty ({ctx.region})", {
            "detector_count": len(ids), "enabled": bool(enabled),
        }))
