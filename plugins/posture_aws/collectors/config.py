"""AWS Config: one fact per region saying whether a recorder records everything."""

from __future__ import annotations

from posture_aws.collectors import collector
from posture_aws.context import AwsContext

FT = "aws.config.recorder"


@collector("config", level="region", facts={
    "aws.config.recorder": 'AWS Config recorder state (one fact per region)',
})
def collect_recorders(ctx: AwsContext) -> None:
    with ctx.feeding(FT):
        cfg = ctx.client("config")
        recorders = cfg.describe_configuration_recorders().get("ConfigurationRecorders", [])
        statuses = {s["name"]: s for s in cfg.describe_configuration_recorder_status().get(
            "ConfigurationRecordersStatus", [])} if recorders else {}
        recording = [r["name"] for r in recorders if statuses.get(r["name"], {}).get("recording")]
        all_supported = any(r.get("recordingGroup", {}).get("allSupported") for r in recorders
                            if r["name"] in recording)
        ctx.add(FT, ctx.arn("config", "configuration-recorder", ctx.region),
                f"config-recorder ({ctx.region})", None, {
            "recorder_count": len(recorders), "recording": bool(recording),
            "all_supported": bool(all_supported),
            "enabled": bool(recording) and bool(all_supported),
        })
