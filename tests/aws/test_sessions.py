"""Session pool at organisation scale: one client per (region, service) for every account, each call signed as its own."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from posture_aws.sessions import CredentialPath, SessionPool, parse_timestamp
from posture_aws.testing.fault_proxy import FaultProxy, fault_proxy

MEMBERS = ("111111111111", "222222222222", "333333333333")


@pytest.fixture
def proxy(aws_mock: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultProxy]:
    with fault_proxy(aws_mock["endpoint"]) as p:
        monkeypatch.setenv("AWS_ENDPOINT_URL", p.url)
        yield p


def _member(account: str) -> CredentialPath:
    return CredentialPath().then(f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole")


def test_every_account_calls_through_the_same_clients_on_one_loader(proxy: FaultProxy) -> None:
    pool = SessionPool()
    paths = (CredentialPath(), *map(_member, MEMBERS))
    shared = {id(pool.client(path, service, region).shared)
              for path in paths for service in ("iam", "ec2") for region in ("us-east-1", "eu-west-1")}
    assert len(shared) == pool.clients_made == 4  # per (region, service), not per account
    assert len({id(pool.session(path).get_component("data_loader")) for path in paths}) == 1


def test_each_call_is_signed_as_its_own_account_when_accounts_interleave_on_threads(proxy: FaultProxy) -> None:
    from concurrent.futures import ThreadPoolExecutor

    pool = SessionPool()
    me = pool.client(CredentialPath(), "sts", "us-east-1").get_caller_identity()["Account"]
    expected = {CredentialPath(): me, **{_member(a): a for a in MEMBERS}}

    def who(path: CredentialPath) -> tuple[str, str]:
        answer = pool.client(path, "sts", "us-east-1").get_caller_identity()["Account"]
        return expected[path], answer

    with ThreadPoolExecutor(8) as ex:
        answers = list(ex.map(who, list(expected) * 8))
    assert all(want == got for want, got in answers)
    assert proxy.counts["sts:AssumeRole"] == len(MEMBERS)  # once per account, however many calls


def test_every_page_is_fetched_as_the_account_that_asked(proxy: FaultProxy) -> None:
    iam = SessionPool().client(_member(MEMBERS[0]), "iam", "us-east-1")
    for n in range(3):
        iam.create_role(RoleName=f"member-{n}", AssumeRolePolicyDocument="{}")
    pages = list(iam.get_paginator("list_roles").paginate(PaginationConfig={"PageSize": 1}))
    assert sorted(r["RoleName"] for page in pages for r in page["Roles"]) == ["member-0", "member-1", "member-2"]
    assert len(pages) >= 3  # the later pages too were the member's, not the caller's


def test_a_call_outside_an_account_is_refused_not_signed_with_another_accounts_keys(proxy: FaultProxy) -> None:
    pool = SessionPool()
    client = pool.client(_member(MEMBERS[0]), "iam", "us-east-1").shared
    with pytest.raises(RuntimeError, match="without an account"):
        client.list_users()


def test_an_account_is_assumed_once_however_often_its_units_start_and_end(proxy: FaultProxy) -> None:
    pool = SessionPool()
    for _ in range(3):
        for account in MEMBERS:
            with pool.holding(_member(account)):
                pool.client(_member(account), "iam", "us-east-1").list_users()
    assert proxy.counts["sts:AssumeRole"] == len(MEMBERS) == pool.accounts_assumed


def test_a_throttled_account_slows_only_its_own_requests(proxy: FaultProxy) -> None:
    from posture_aws.sessions import _AccountRetries

    pool = SessionPool(max_attempts=2)
    noisy, quiet = _member(MEMBERS[0]), _member(MEMBERS[1])
    me = pool.client(noisy, "sts", "us-east-1").get_caller_identity()["Account"]
    assert me == MEMBERS[0]
    proxy.add_error(lambda r: r.action == "ListRoles", "iam", "Throttling", status=400)
    with pool.holding(noisy), pool.holding(quiet):
        with pytest.raises(Exception, match="Throttling"):
            pool.client(noisy, "iam", "us-east-1").list_roles()
        pool.client(quiet, "iam", "us-east-1").list_users()
        retries = next(r for r in pool._retries if r._service_id == "IAM")
        limiter = {path: next(h.__self__ for h in handlers["before-send"])
                   for path, handlers in retries._handlers.items()}
        assert limiter[noisy]._enabled and not limiter[quiet]._enabled
    assert isinstance(retries, _AccountRetries) and retries._handlers == {}  # dropped once idle


def test_an_assumed_role_keeps_its_parents_region_without_being_assumed(proxy: FaultProxy) -> None:
    pool = SessionPool()
    assert pool.default_region(_member(MEMBERS[0])) == pool.default_region(CredentialPath())
    assert proxy.counts.get("sts:AssumeRole", 0) == 0


@pytest.mark.parametrize("text", [
    "2024-01-01T00:00:00Z", "2024-01-01T00:00:00.123Z", "2024-01-01T00:00:00.123456789Z",
    "2024-01-01T00:00:00+0000", "2024-01-01T00:00:00.000-07:00", "2024-01-01 00:00:00", "2024-01-01",
    "Wed, 02 Dec 2026 10:00:00 GMT", "1700000000.5", 1700000000,
])
def test_timestamps_parse_to_what_botocores_own_parser_gives(text: Any) -> None:
    from botocore.utils import parse_timestamp as botocores

    ours, theirs = parse_timestamp(text), botocores(text)
    assert ours == theirs and ours.isoformat() == theirs.isoformat()
    assert (ours.tzinfo is None) == (theirs.tzinfo is None)


def test_every_session_parses_timestamps_with_the_fast_parser(proxy: FaultProxy) -> None:
    pool = SessionPool()
    for path in (CredentialPath(), _member(MEMBERS[0])):
        factory = pool.session(path).get_component("response_parser_factory")
        assert factory._defaults["timestamp_parser"] is parse_timestamp


def test_every_http_attempt_of_a_gated_unit_takes_and_gives_back_an_account_region_service_slot(
        proxy: FaultProxy) -> None:
    from posture.collecting.throttling import gated
    from tests.core.test_throttle import Recording

    gate = Recording()
    pool = SessionPool(max_attempts=1)
    with gated(gate, "aws", "123456789012"):
        pool.client(CredentialPath(), "iam", "us-east-1").list_users()
        pool.client(CredentialPath(), "ec2", "eu-west-1").describe_vpcs()
        with pytest.raises(Exception, match="Throttling"):
            proxy.add_error(lambda r: r.action == "DescribeVolumes", "ec2", "Throttling", status=400)
            pool.client(CredentialPath(), "ec2", "eu-west-1").describe_volumes()
    acquired = [key for what, key in gate.log if what == "acquire"]
    assert acquired == ["aws:123456789012:us-east-1:iam", "aws:123456789012:eu-west-1:ec2",
                        "aws:123456789012:eu-west-1:ec2"]
    assert gate.held == [] and len(gate.log) == 2 * len(acquired) == 2 * proxy.total


def test_a_waiter_polls_as_the_account_that_asked(proxy: FaultProxy) -> None:
    s3 = SessionPool().client(_member(MEMBERS[1]), "s3", "us-east-1")
    s3.create_bucket(Bucket="waited-for-by-a-member")
    s3.get_waiter("bucket_exists").wait(Bucket="waited-for-by-a-member", WaiterConfig={"Delay": 1, "MaxAttempts": 2})
    assert proxy.counts["sts:AssumeRole"] == 1
