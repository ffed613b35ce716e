"""CloudTrail: the trails homed in each scanned region, and one account-level fact.

``DescribeTrails(includeShadowTrails=False)`` per region lists each trail once
(in its home region); ``GetTrailStatus`` is asked only for the account-level
fact (is a multi-region trail actually logging?) or the trail's own fact.
"""

from __future__ import annotations

from typing import Any

from posture_aws.context import UnitContext

TRAIL, ACCOUNT = "aws.cloudtrail.trail", "aws.cloudtrail.account"


def collect_trails(ctx: UnitContext) -> None:
    regions = ctx.regions or (ctx.home_region,)
    wanted = [ft for ft in (TRAIL, ACCOUNT) if ctx.wants(ft)]

    def list_region(region: str) -> list[dict[str, Any]]:
        return ctx.client("cloudtrail", region).describe_trails(includeShadowTrails=False).get("trailList", [])

    trails: list[dict[str, Any]] = []
    failed_regions = []
    for region, found, exc in ctx.parallel(list_region, regions):
        if exc is not None:
            ctx.error([TRAIL], exc, region=region)
            failed_regions.append((region, exc))
            continue
        trails.extend(found or [])
        ctx.covered([TRAIL], region=region)

    def status(trail: dict[str, Any]) -> dict[str, Any]:
        return ctx.client("cloudtrail", trail["HomeRegion"]).get_trail_status(Name=trail["TrailARN"])

    statuses = {t["TrailARN"]: (st, exc) for t, st, exc in ctx.parallel(status, trails)}
    logging_multi_region = []
    for t in trails:
        st, exc = statuses[t["TrailARN"]]
        if exc is not None:
            ctx.error([TRAIL], exc, region=t["HomeRegion"], resource=t["Name"])
            continue
        is_logging = bool((st or {}).get("IsLogging"))
        if t.get("IsMultiRegionTrail") and is_logging:
            logging_multi_region.append(t["Name"])
        if TRAIL in wanted:
            ctx.facts.append(ctx.fact(TRAIL, t["TrailARN"], t["Name"], {
                "multi_region": bool(t.get("IsMultiRegionTrail")),
                "organization_trail": bool(t.get("IsOrganizationTrail")),
                "logging": is_logging,
                "log_file_validation": bool(t.get("LogFileValidationEnabled")),
                "kms_key_id": t.get("KmsKeyId"),
                "kms_encrypted": bool(t.get("KmsKeyId")),
                "s3_bucket": t.get("S3BucketName"),
            }, region=t["HomeRegion"]))
    if ACCOUNT in wanted:
        if failed_regions and not logging_multi_region:
            ctx.error([ACCOUNT], failed_regions[0][1], region="global")
            return
        ctx.facts.append(ctx.fact(ACCOUNT, f"arn:{ctx.partition}:cloudtrail::{ctx.account}:account",
                                  "cloudtrail", {
            "multi_region_trail_logging": bool(logging_multi_region),
            "multi_region_trails": sorted(logging_multi_region),
        }, region="global"))
        ctx.covered([ACCOUNT], region="global")
