"""--org: every active account is scanned through its role; one denied account is recorded, the rest proceed."""

from __future__ import annotations

import threading
from typing import Any

import boto3
import pytest
from posture_aws.provider import AwsProvider
from posture_aws.testing.fault_proxy import fault_proxy

from tests.aws.helpers import collect_all, scan_options


def test_org_scan_assumes_role_per_account_and_records_a_denied_one(
        aws_mock: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    orgs = boto3.client("organizations", region_name="us-east-1")
    orgs.create_organization(FeatureSet="ALL")
    ok, denied = (orgs.create_account(Email=f"{n}@example.com", AccountName=n)["CreateAccountStatus"]["AccountId"]
                  for n in ("workloads", "sandbox"))
    with fault_proxy(aws_mock["endpoint"]) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
        rule = proxy.add_error(lambda r: r.action == "AssumeRole" and denied.encode() in r.body,
                               "query", "AccessDenied")
        facts = collect_all(scan_options(aws_mock, org=True), {"aws.iam.password_policy"})
    assert rule.hits == 1
    assert {s["id"] for s in facts.scopes} == {"123456789012", ok, denied}
    assert {(e.scope, e.fact_type, e.code) for e in facts.errors} == {
        (denied, "aws.iam.password_policy", "AccessDenied")}
    assert {f.scope: f.attributes["exists"] for f in facts.facts} == {"123456789012": True, ok: False}
    assert proxy.counts["sts:AssumeRole"] == 2


def test_members_seeded_in_process_each_hold_their_own_resources_as_the_server_sees_them(
        aws_mock: dict[str, Any]) -> None:
    from posture_aws.testing.mock import assumed_session
    from posture_aws.testing.org import seed_members

    members = ("301000000001", "301000000002")

    def seed(clients: Any, account: str) -> int:
        clients.client("logs", "eu-west-1").create_log_group(logGroupName=f"/seeded/{account}")
        return 1

    assert seed_members(members, seed, threads=2) == 2
    for account in members:  # read back through the server, as the scan does: AssumeRole into the member
        logs = assumed_session(account, "eu-west-1").client("logs")
        names = [g["logGroupName"] for g in logs.describe_log_groups(logGroupNamePrefix="/seeded/")["logGroups"]]
        assert names == [f"/seeded/{account}"]


def test_org_planning_without_region_asks_the_accounts_their_regions_concurrently_and_counts_it(
        aws_mock: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    orgs = boto3.client("organizations", region_name="us-east-1")
    if not _in_organization(orgs):  # the session's moto may already have one (another test)
        orgs.create_organization(FeatureSet="ALL")
    for n in ("planning-a", "planning-b"):
        orgs.create_account(Email=f"{n}@example.com", AccountName=n)
    accounts = [a["Id"] for page in orgs.get_paginator("list_accounts").paginate() for a in page["Accounts"]]
    # every account's question must be in flight before any is answered: asked one after the other,
    # the first would wait here until the barrier breaks and its account would be an error
    meeting = threading.Barrier(len(accounts), timeout=60)
    asked = AwsProvider._regions

    def together(self: AwsProvider, *args: Any) -> list[str]:
        meeting.wait()
        return asked(self, *args)

    monkeypatch.setattr(AwsProvider, "_regions", together)
    with fault_proxy(aws_mock["endpoint"]) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
        plan = AwsProvider().plan({"aws.iam.password_policy"}, {"org": True, "aws_max_attempts": 2})
    assert plan.errors == []
    assert sorted(s.id for s in plan.scopes) == sorted(accounts)
    assert proxy.counts["ec2:DescribeRegions"] == len(accounts)
    assert plan.requests == proxy.total  # requests made by the planning threads are the plan's
    regions = {u.scope: u.option("regions") for u in plan.units}
    assert sorted(regions) == sorted(accounts) and len(set(regions.values())) == 1 and "us-east-1" in regions[accounts[0]]


def test_org_scan_builds_each_client_once_and_assumes_each_role_once_whatever_the_accounts(
        aws_mock: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from posture_aws.sessions import SessionPool

    orgs = boto3.client("organizations", region_name="us-east-1")
    if not _in_organization(orgs):
        orgs.create_organization(FeatureSet="ALL")
    for n in range(5):
        orgs.create_account(Email=f"bounded-{n}@example.com", AccountName=f"bounded-{n}")
    members = len([a for page in orgs.get_paginator("list_accounts").paginate() for a in page["Accounts"]]) - 1
    with fault_proxy(aws_mock["endpoint"]) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
        provider = AwsProvider()
        plan = provider.plan({"aws.iam.password_policy"}, scan_options(aws_mock, org=True))
        pool: SessionPool = provider.scan_state(plan.units[0].option("scan"), SessionPool)
        clients = []
        for unit in plan.units:  # one unit per account, account after account
            outcome = provider.collect(unit)
            assert outcome.errors == [] and len(outcome.facts) == 1
            clients.append(pool.clients_made)
    assert len(set(clients)) == 1  # the first account's clients serve every later one
    assert proxy.counts["sts:AssumeRole"] == members == pool.accounts_assumed


def _in_organization(orgs: Any) -> bool:
    try:
        orgs.describe_organization()
    except orgs.exceptions.AWSOrganizationsNotInUseException:
        return False
    return True
