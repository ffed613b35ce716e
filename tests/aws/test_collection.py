"""API economy: only requested fact types cause calls, counts are exact, efficient calls are parsed right."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from posture_aws.context import AwsContext
from posture_aws.provider import AwsProvider
from posture_aws.testing.fault_proxy import FaultProxy, fault_proxy

from posture.provider import WorkUnit
from tests.aws.helpers import collect_all, scan_options


@pytest.fixture
def proxy(aws_mock: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultProxy]:
    with fault_proxy(aws_mock["endpoint"]) as p:
        monkeypatch.setenv("AWS_ENDPOINT_URL", p.url)
        yield p


def test_unrequested_bucket_fact_types_make_no_calls(proxy: FaultProxy, aws_mock: dict) -> None:
    facts = collect_all(scan_options(aws_mock), {"aws.s3.bucket_encryption"})
    s3_calls = [k for k in proxy.counts if k.startswith("s3:")]
    assert not [k for k in s3_calls if any(q in k for q in ("logging", "versioning", "policy", "acl", "tagging",
                                                            "publicAccessBlock"))]
    assert sum(proxy.counts[k] for k in s3_calls if k.endswith("?encryption")) == 3
    assert len(facts.facts) == 3


def test_request_count_matches_what_the_endpoint_saw(proxy: FaultProxy, aws_mock: dict) -> None:
    facts = collect_all(scan_options(aws_mock), {"aws.iam.user", "aws.ec2.volume", "aws.s3.bucket_versioning",
                                                 "aws.kms.key", "aws.cloudtrail.account"})
    assert facts.errors == []
    assert facts.metadata["requests"] == proxy.total > 0


def test_plan_has_units_only_for_requested_fact_types(aws_mock: dict) -> None:
    provider = AwsProvider()
    opts = scan_options(aws_mock)
    units = provider.plan({"aws.ec2.volume", "aws.iam.user"}, opts).units
    assert sorted((u.collector, u.region, u.fact_types) for u in units) == [
        ("ec2_ebs", "eu-west-1", ("aws.ec2.volume",)),
        ("ec2_ebs", "us-east-1", ("aws.ec2.volume",)),
        ("iam_credential_report", "global", ("aws.iam.user",)),  # global service: once per account
    ]


def test_volume_only_unit_skips_snapshot_image_and_default_encryption_calls(proxy: FaultProxy, aws_mock: dict
                                                                            ) -> None:
    collect_all(scan_options(aws_mock), {"aws.ec2.volume"})
    ec2 = {k for k in proxy.counts if k.startswith("ec2:")}
    assert ec2 == {"ec2:DescribeVolumes"}


def test_moto_ignoring_restorable_by_filter_still_gives_right_public_flags(proxy: FaultProxy, aws_mock: dict
                                                                           ) -> None:
    facts = collect_all(scan_options(aws_mock), {"aws.ec2.snapshot"})
    public = {f.id.rsplit("/", 1)[-1] for f in facts.facts if f.attributes["public"]}
    assert public == {aws_mock["ids"]["snap_public"]}
    # moto returns every own snapshot for RestorableByUserIds=['all']; each is confirmed by attribute
    assert proxy.counts["ec2:DescribeSnapshotAttribute"] == len(facts.facts)


class _StubPool:
    """Hands out stubbed clients per (service, region) and records what was asked for."""

    def __init__(self) -> None:
        self.clients: dict[tuple[str, str], Any] = {}
        self.stubs: dict[tuple[str, str], Stubber] = {}

    def stub(self, service: str, region: str) -> Stubber:
        client = boto3.client(service, region_name=region, aws_access_key_id="x", aws_secret_access_key="x")
        self.clients[(service, region)] = client
        self.stubs[(service, region)] = Stubber(client)
        self.stubs[(service, region)].activate()
        return self.stubs[(service, region)]

    def client(self, path: Any, service: str, region: str) -> Any:
        return self.clients[(service, region)]


def _ctx(pool: _StubPool, collector: str, fact_types: tuple[str, ...], region: str) -> AwsContext:
    from concurrent.futures import ThreadPoolExecutor

    unit = WorkUnit("aws", "123456789012", region, collector, fact_types,
                    (("home_region", "us-east-1"), ("regions", ("us-east-1", "eu-west-1"))))
    return AwsContext(unit, pool, ThreadPoolExecutor(2))  # type: ignore[arg-type]


def test_public_snapshot_listing_is_parsed_from_the_restorable_by_all_call() -> None:
    pool = _StubPool()
    ec2 = pool.stub("ec2", "eu-west-1")
    snap = {"OwnerId": "123456789012", "Encrypted": False, "StartTime": dt.datetime(2024, 1, 1, tzinfo=dt.UTC)}
    ec2.add_response("describe_snapshots", {"Snapshots": [{**snap, "SnapshotId": "snap-pub"}]},
                     {"OwnerIds": ["self"], "RestorableByUserIds": ["all"]})
    ec2.add_response("describe_snapshot_attribute", {"SnapshotId": "snap-pub",
                                                     "CreateVolumePermissions": [{"Group": "all"}]},
                     {"SnapshotId": "snap-pub", "Attribute": "createVolumePermission"})
    ec2.add_response("describe_snapshots", {"Snapshots": [{**snap, "SnapshotId": "snap-pub"},
                                                          {**snap, "SnapshotId": "snap-priv", "Encrypted": True}]},
                     {"OwnerIds": ["self"]})
    from posture_aws.collectors.ec2 import collect_ebs

    ctx = _ctx(pool, "ec2_ebs", ("aws.ec2.snapshot",), "eu-west-1")
    collect_ebs(ctx)
    ec2.assert_no_pending_responses()
    assert ctx.errors == []
    assert {f.name: f.attributes["public"] for f in ctx.facts} == {"snap-pub": True, "snap-priv": False}


def test_bucket_region_from_list_buckets_avoids_get_bucket_location() -> None:
    pool = _StubPool()
    home = pool.stub("s3", "us-east-1")
    home.add_response("list_buckets", {"Buckets": [{"Name": "eu-bucket", "BucketRegion": "eu-west-1",
                                                    "CreationDate": dt.datetime(2024, 1, 1, tzinfo=dt.UTC)}]})
    eu = pool.stub("s3", "eu-west-1")
    eu.add_response("get_bucket_versioning", {"Status": "Enabled"}, {"Bucket": "eu-bucket"})
    from posture_aws.collectors.s3 import collect_buckets

    ctx = _ctx(pool, "s3_buckets", ("aws.s3.bucket_versioning",), "global")
    collect_buckets(ctx)
    home.assert_no_pending_responses()  # no GetBucketLocation was needed (it would have been unstubbed)
    eu.assert_no_pending_responses()
    assert [(f.name, f.region, f.attributes["enabled"]) for f in ctx.facts] == [("eu-bucket", "eu-west-1", True)]


def test_region_discovery_keeps_only_enabled_regions() -> None:
    pool = _StubPool()
    ec2 = pool.stub("ec2", "us-east-1")
    ec2.add_response("describe_regions", {"Regions": [
        {"RegionName": "us-east-1", "OptInStatus": "opt-in-not-required"},
        {"RegionName": "af-south-1", "OptInStatus": "not-opted-in"},
        {"RegionName": "me-south-1", "OptInStatus": "opted-in"}]},
        {"AllRegions": True, "Filters": [{"Name": "opt-in-status", "Values": ["opt-in-not-required", "opted-in"]}]})
    regions = AwsProvider()._regions(pool, None, "us-east-1", {})  # type: ignore[arg-type]
    assert regions == ["me-south-1", "us-east-1"]


def test_queue_listing_asks_for_full_pages_so_more_than_1000_queues_are_paginated(proxy: FaultProxy,
                                                                                  aws_mock: dict) -> None:
    paged = proxy.add_delay(lambda r: r.service == "sqs" and r.action == "ListQueues" and b"MaxResults" in r.body, 0)
    facts = collect_all(scan_options(aws_mock), {"aws.sqs.queue"})
    assert facts.errors == [] and paged.hits == proxy.counts["sqs:ListQueues"] == 2  # one per region


def test_a_multi_region_trail_homed_outside_the_scanned_regions_still_counts(aws_mock: dict) -> None:
    """org-audit is homed in us-east-1; scanning only eu-west-1 sees it as a shadow trail."""
    facts = collect_all(scan_options(aws_mock, region=["eu-west-1"]),
                        {"aws.cloudtrail.account", "aws.cloudtrail.trail"})
    assert facts.errors == []
    [account] = [f for f in facts.facts if f.type == "aws.cloudtrail.account"]
    assert account.attributes["multi_region_trail_logging"] is True
    assert account.attributes["multi_region_trails"] == ["org-audit"]
    assert [f.name for f in facts.facts if f.type == "aws.cloudtrail.trail"] == ["org-audit"]
