"""Session pool at organisation scale: one loader for every account, memory bounded by recent accounts."""

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


def test_every_account_session_shares_one_service_model_loader(proxy: FaultProxy) -> None:
    pool = SessionPool()
    loaders = {id(pool.session(path).get_component("data_loader")) for path in (CredentialPath(),
                                                                                 *map(_member, MEMBERS))}
    assert len(loaders) == 1


def test_accounts_beyond_the_cache_are_released_and_reassumed_only_when_asked_again(proxy: FaultProxy) -> None:
    pool = SessionPool(cached_accounts=2)
    for account in MEMBERS:
        assert pool.client(_member(account), "iam", "us-east-1").get_account_password_policy is not None
    assert proxy.counts["sts:AssumeRole"] == 3
    pool.client(_member(MEMBERS[2]), "s3", "us-east-1")  # still cached: no new role session
    assert proxy.counts["sts:AssumeRole"] == 3
    pool.client(_member(MEMBERS[0]), "iam", "us-east-1")  # released as the least recently used
    assert proxy.counts["sts:AssumeRole"] == 4


def test_an_account_with_a_unit_running_is_never_released_and_is_once_idle(proxy: FaultProxy) -> None:
    pool = SessionPool(cached_accounts=1)
    busy = _member(MEMBERS[0])
    with pool.holding(busy):
        iam = pool.client(busy, "iam", "us-east-1")
        for account in MEMBERS[1:]:  # more idle accounts than the cache keeps
            with pool.holding(_member(account)):
                pool.client(_member(account), "iam", "us-east-1")
        assert pool.client(busy, "iam", "us-east-1") is iam  # still its own, not re-assumed
        assert pool.accounts_cached == 2  # the running one and one idle
    assert pool.accounts_cached == 1  # idle now, and the most recent: the others were released
    assert proxy.counts["sts:AssumeRole"] == len(MEMBERS)


def test_the_base_session_is_never_released(proxy: FaultProxy) -> None:
    pool = SessionPool(cached_accounts=1)
    sts = pool.client(CredentialPath(), "sts", "us-east-1")
    for account in MEMBERS:
        pool.client(_member(account), "iam", "us-east-1")
    assert pool.client(CredentialPath(), "sts", "us-east-1") is sts


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
