"""CloudTrail: the account's trails that apply to the scanned regions, and one account-level fact.

``DescribeTrails`` per scanned region includes shadow trails, i.e. every trail
that applies to the region: multi-region trails homed in a region that was not
scanned, and organization trails owned by the management account (which a
member account sees only this way). Trails are deduplicated by ARN; trail facts
are reported for the account's own trails, while any logging multi-region trail,
the organization's included, satisfies the account-level fact.
``GetTrailStatus`` runs once per trail, in its home region, and
``GetEventSelectors`` once per logging multi-region trail (it must record all
management events, read and write, to satisfy the account-level fact; the same
answer says whether it records S3 object-level data events for every bucket).
"""

from __future__ import annotations

from typing import Any

from posture_aws.collectors import collector
from posture_aws.context import AwsContext

TRAIL, ACCOUNT, S3_DATA = "aws.cloudtrail.trail", "aws.cloudtrail.account", "aws.cloudtrail.s3_data_events"
S3_ALL_BUCKETS = {"arn:aws:s3", "arn:aws:s3:::", "arn:aws-us-gov:s3", "arn:aws-us-gov:s3:::", "arn:aws-cn:s3",
                  "arn:aws-cn:s3:::"}


def s3_data_events(selectors: dict[str, Any] | None) -> set[str]:
    """Which S3 object-level operations (``read`` / ``write``) a trail records for every bucket.

    Basic selectors: a ``DataResources`` entry of type ``AWS::S3::Object`` whose values name all buckets
    (``arn:aws:s3``), with ``ReadWriteType`` All / ReadOnly / WriteOnly. Advanced selectors: a Data-category
    selector for ``AWS::S3::Object`` with no narrowing field but ``readOnly`` (true: read, false: write,
    absent: both).
    """
    out: set[str] = set()
    for sel in (selectors or {}).get("EventSelectors") or []:
        for res in sel.get("DataResources") or []:
            if res.get("Type") == "AWS::S3::Object" and S3_ALL_BUCKETS.intersection(res.get("Values") or []):
                rw = sel.get("ReadWriteType", "All")
                out |= {"read", "write"} if rw == "All" else {"read"} if rw == "ReadOnly" else {"write"}
    for sel in (selectors or {}).get("AdvancedEventSelectors") or []:
        fields = {f.get("Field"): f for f in sel.get("FieldSelectors") or []}
        if fields.get("eventCategory", {}).get("Equals") != ["Data"]:
            continue
        if fields.get("resources.type", {}).get("Equals") != ["AWS::S3::Object"]:
            continue
        if set(fields) - {"eventCategory", "resources.type", "readOnly"}:
            continue  # narrowed to some buckets, events or identities
        read_only = fields.get("readOnly", {}).get("Equals")
        out |= {"read", "write"} if not read_only else {"read"} if read_only == ["true"] else {"write"}
    return out


def logs_all_management_events(selectors: dict[str, Any] | None) -> bool:
    """Read and write management events (CIS: a multi-region trail must log them all).

    A trail without selectors logs all management events (the default); basic selectors need one with
    management events and ``ReadWriteType: All``; advanced ones need a Management-category selector
    without a ``readOnly`` filter.
    """
    basic = (selectors or {}).get("EventSelectors") or []
    advanced = (selectors or {}).get("AdvancedEventSelectors") or []
    if not basic and not advanced:
        return True
    if any(sel.get("IncludeManagementEvents", True) and sel.get("ReadWriteType", "All") == "All" for sel in basic):
        return True
    for sel in advanced:
        fields = {f.get("Field"): f for f in sel.get("FieldSelectors") or []}
        category = fields.get("eventCategory", {})
        if category.get("Equals") == ["Management"] and "readOnly" not in fields:
            return True
    return False


@collector("cloudtrail", level="account", facts={
    "aws.cloudtrail.trail": "the account's CloudTrail trails that apply to the scanned regions",
    "aws.cloudtrail.account": 'whether a logging multi-region trail exists (one fact per account)',
    "aws.cloudtrail.s3_data_events": 'whether logging multi-region trails record S3 object-level reads and writes for every bucket (one fact per account)',
})
def collect_trails(ctx: AwsContext) -> None:
    regions = ctx.regions or (ctx.home_region,)
    wanted = [ft for ft in (TRAIL, ACCOUNT, S3_DATA) if ctx.wants(ft)]

    def list_region(region: str) -> list[dict[str, Any]]:
        return ctx.client("cloudtrail", region).describe_trails(includeShadowTrails=True).get("trailList", [])

    by_arn: dict[str, dict[str, Any]] = {}
    failed_regions = []
    for region, found, exc in ctx.parallel(list_region, regions):
        if exc is not None:
            ctx.fail([TRAIL], exc, region=region)
            failed_regions.append((region, exc))
            continue
        for t in found or []:
            by_arn.setdefault(t["TrailARN"], t)
        ctx.covered([TRAIL], region=region)
    trails = sorted(by_arn.values(), key=lambda t: t["TrailARN"])

    def status(trail: dict[str, Any]) -> dict[str, Any]:
        return ctx.client("cloudtrail", trail["HomeRegion"]).get_trail_status(Name=trail["TrailARN"])

    statuses = {t["TrailARN"]: (st, exc) for t, st, exc in ctx.parallel(status, trails)}
    multi = [t for t in trails if t.get("IsMultiRegionTrail") and statuses[t["TrailARN"]][1] is None
             and (statuses[t["TrailARN"]][0] or {}).get("IsLogging")]

    def selectors(trail: dict[str, Any]) -> dict[str, Any]:
        return ctx.client("cloudtrail", trail["HomeRegion"]).get_event_selectors(TrailName=trail["TrailARN"])

    management = {t["TrailARN"]: (sel, exc) for t, sel, exc in ctx.parallel(selectors, multi)}
    logging_multi_region = []
    data_events: dict[str, list[str]] = {"read": [], "write": []}
    for t in trails:
        own = t["TrailARN"].split(":")[4] == ctx.account
        st, exc = statuses[t["TrailARN"]]
        if exc is not None:
            if own:  # another account's trail whose status we may not read is simply not counted
                ctx.fail([TRAIL], exc, region=t["HomeRegion"], where=t["Name"])
            continue
        is_logging = bool((st or {}).get("IsLogging"))
        sel, sel_exc = management.get(t["TrailARN"], (None, None))
        if sel_exc is not None and own:
            ctx.fail([TRAIL, ACCOUNT] if ACCOUNT in wanted else [TRAIL], sel_exc, region=t["HomeRegion"],
                      where=t["Name"])
            continue
        # An organization trail's selectors may be unreadable from a member account; it is managed
        # centrally and logs management events unless configured otherwise, so it still counts.
        all_management = logs_all_management_events(sel) if sel_exc is None else True
        if t.get("IsMultiRegionTrail") and is_logging and all_management:
            logging_multi_region.append(t["Name"] if own else t["TrailARN"])
        if t.get("IsMultiRegionTrail") and is_logging and sel_exc is None:
            for kind in s3_data_events(sel):
                data_events[kind].append(t["Name"] if own else t["TrailARN"])
        if TRAIL in wanted and own:
            ctx.add(TRAIL, t["TrailARN"], t["Name"], t["HomeRegion"], {
                "multi_region": bool(t.get("IsMultiRegionTrail")),
                "organization_trail": bool(t.get("IsOrganizationTrail")),
                "logging": is_logging,
                "all_management_events": all_management if t in multi else None,
                "log_file_validation": bool(t.get("LogFileValidationEnabled")),
                "kms_key_id": t.get("KmsKeyId"),
                "kms_encrypted": bool(t.get("KmsKeyId")),
                "s3_bucket": t.get("S3BucketName"),
            })
    if S3_DATA in wanted and failed_regions and not (data_events["read"] and data_events["write"]):
        ctx.fail([S3_DATA], failed_regions[0][1], region="global")
    elif S3_DATA in wanted:
        ctx.add(S3_DATA, f"arn:{ctx.partition}:cloudtrail::{ctx.account}:s3-data-events",
                "cloudtrail S3 data events", "global", {
            "write_trails": sorted(data_events["write"]), "read_trails": sorted(data_events["read"]),
            "write_logged": bool(data_events["write"]), "read_logged": bool(data_events["read"]),
        })
        ctx.covered([S3_DATA], region="global")
    if ACCOUNT in wanted:
        if failed_regions and not logging_multi_region:
            ctx.fail([ACCOUNT], failed_regions[0][1], region="global")
            return
        ctx.add(ACCOUNT, f"arn:{ctx.partition}:cloudtrail::{ctx.account}:account",
                "cloudtrail", "global", {
            "multi_region_trail_logging": bool(logging_multi_region),
            "multi_region_trails": sorted(logging_multi_region),
        })
        ctx.covered([ACCOUNT], region="global")
