"""Denied, throttled and unreachable calls become CollectionErrors for exactly the fact types they feed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from posture_aws.testing.fault_proxy import FaultProxy, Request, fault_proxy

from tests.aws.helpers import collect_all, scan_options


@pytest.fixture
def proxy(aws_mock: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultProxy]:
    with fault_proxy(aws_mock["endpoint"]) as p:
        monkeypatch.setenv("AWS_ENDPOINT_URL", p.url)
        yield p


def _is(service: str, action: str):
    return lambda r: r.service == service and r.action == action


def test_denied_bucket_logging_is_an_error_for_bucket_logging_only(proxy: FaultProxy, aws_mock: dict) -> None:
    rule = proxy.add_error(lambda r: r.service == "s3" and r.method == "GET" and r.query == "logging",
                           "rest-xml", "AccessDenied")
    facts = collect_all(scan_options(aws_mock), {"aws.s3.bucket_logging", "aws.s3.bucket_encryption"})
    assert rule.hits == 3
    assert {(e.fact_type, e.code) for e in facts.errors} == {("aws.s3.bucket_logging", "AccessDenied")}
    assert len(facts.errors) == 3  # one per bucket, each naming its bucket
    assert sorted(e.message.split(":")[0] for e in facts.errors) == ["acme-data-eu", "acme-logs", "acme-public-site"]
    assert {f.type for f in facts.facts} == {"aws.s3.bucket_encryption"}
    assert len(facts.facts) == 3
    assert {c.fact_type for c in facts.coverage} == {"aws.s3.bucket_encryption"}


def test_denied_credential_report_keeps_other_iam_facts(proxy: FaultProxy, aws_mock: dict) -> None:
    proxy.add_error(_is("iam", "GenerateCredentialReport"), "query", "AccessDenied")
    facts = collect_all(scan_options(aws_mock), {"aws.iam.user", "aws.iam.root_account"})
    assert [(e.fact_type, e.code, e.region) for e in facts.errors] == [("aws.iam.user", "AccessDenied", "global")]
    assert [f.type for f in facts.facts] == ["aws.iam.root_account"]


def test_throttling_past_retries_is_recorded_with_its_code(proxy: FaultProxy, aws_mock: dict) -> None:
    rule = proxy.add_error(_is("ec2", "DescribeVolumes"), "ec2", "RequestLimitExceeded", status=503)
    facts = collect_all(scan_options(aws_mock), {"aws.ec2.volume", "aws.ec2.snapshot"})
    assert rule.hits == 4  # 2 regions x 2 attempts: the SDK retried before giving up
    assert sorted((e.fact_type, e.region, e.code) for e in facts.errors) == [
        ("aws.ec2.volume", "eu-west-1", "RequestLimitExceeded"),
        ("aws.ec2.volume", "us-east-1", "RequestLimitExceeded")]
    assert {f.type for f in facts.facts} == {"aws.ec2.snapshot"}


def test_denied_json_protocol_call_keeps_the_error_code(proxy: FaultProxy, aws_mock: dict) -> None:
    proxy.add_error(lambda r: r.service == "kms" and r.action == "ListAliases" and "eu-west-1" in
                    r.headers.get("authorization", ""), "json", "AccessDeniedException", status=400)
    facts = collect_all(scan_options(aws_mock), {"aws.kms.key", "aws.logs.log_group"})
    assert [(e.fact_type, e.region, e.code) for e in facts.errors] == [
        ("aws.kms.key", "eu-west-1", "AccessDeniedException")]
    assert {(f.type, f.region) for f in facts.facts} >= {("aws.kms.key", "us-east-1"),
                                                         ("aws.logs.log_group", "eu-west-1")}


def test_unreachable_service_endpoint_is_an_error_not_a_crash(aws_mock: dict, monkeypatch: pytest.MonkeyPatch
                                                               ) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_GUARDDUTY", "http://127.0.0.1:9")  # nothing listens there
    facts = collect_all(scan_options(aws_mock), {"aws.guardduty.detector", "aws.sns.topic"})
    assert {(e.fact_type, e.code) for e in facts.errors} == {("aws.guardduty.detector", "EndpointConnectionError")}
    assert {f.type for f in facts.facts} == {"aws.sns.topic"}


def test_a_call_slower_than_the_read_timeout_is_an_error_for_its_facts_only(proxy: FaultProxy, aws_mock: dict
                                                                             ) -> None:
    # generous margins: other calls must stay under the timeout on a loaded machine (2 cores, parallel tests).
    # The other fact type of the same unit is EBS default encryption (one quick call): moto answers
    # DescribeSnapshots with its ~1,300 public AMI snapshots, which alone can take seconds on a loaded machine.
    rule = proxy.add_delay(_is("ec2", "DescribeVolumes"), 12)
    facts = collect_all(scan_options(aws_mock, aws_read_timeout="5"), {"aws.ec2.volume",
                                                                       "aws.ec2.ebs_encryption_default"})
    assert rule.hits == 4  # 2 regions x 2 attempts: a timeout is retried like any transient failure
    assert sorted((e.fact_type, e.region, e.code) for e in facts.errors) == [
        ("aws.ec2.volume", "eu-west-1", "Timeout"),
        ("aws.ec2.volume", "us-east-1", "Timeout")]
    assert {f.type for f in facts.facts} == {"aws.ec2.ebs_encryption_default"}


@pytest.mark.parametrize("flag, value", [("aws_read_timeout", "soon"), ("aws_max_attempts", "0")])
def test_a_bad_retry_or_timeout_setting_is_a_configuration_error(aws_mock: dict, flag: str, value: str) -> None:
    from posture.provider import ProviderError

    with pytest.raises(ProviderError, match=f"--{flag.replace('_', '-')} must be a positive number, not '{value}'"):
        collect_all(scan_options(aws_mock, **{flag: value}), {"aws.ec2.volume"})


def test_a_mistyped_region_is_refused_before_any_regional_call(proxy: FaultProxy, aws_mock: dict) -> None:
    from posture.provider import ProviderError

    with pytest.raises(ProviderError, match=r"unknown region eu-west-9 \(did you mean eu-west-[1-3]\?\) in partition aws"):
        collect_all(scan_options(aws_mock, region=["us-east-1", "eu-west-9"]), {"aws.ec2.volume"})
    assert set(proxy.counts) == {"sts:GetCallerIdentity"}


def test_request_shape_helpers_identify_operations() -> None:
    req = Request("POST", "/", "", {"x-amz-target": "TrentService.ListKeys",
                                    "authorization": "AWS4-HMAC-SHA256 Credential=AK/20250101/eu-west-1/kms/aws4_request"},
                  b"{}")
    assert (req.service, req.action) == ("kms", "ListKeys")
