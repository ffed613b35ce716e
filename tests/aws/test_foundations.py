"""The collectors behind the CIS AWS Foundations 7.0 and tier-3 checks: what moto cannot show (botocore Stubber,
saying why), rule order in network ACLs, S3 data-event selectors, root MFA under centralized root access."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from posture_aws.collectors.cloudtrail import s3_data_events

from posture.facts import Fact
from posture.plugins import registry
from tests.aws.test_collection import _ctx, _StubPool

NOW = dt.datetime.now(dt.UTC)


def _check(check_id: str) -> Any:
    return registry().checks[check_id]


def test_server_certificate_expiry_is_judged_from_the_listing() -> None:
    """moto lists every server certificate with a fixed 2012 expiry, so the valid one needs a Stubber."""
    from posture_aws.collectors.iam import collect_server_certificates

    pool = _StubPool()
    iam = pool.stub("iam", "us-east-1")
    meta = {"Path": "/", "ServerCertificateId": "ASCA1234567890123456", "UploadDate": NOW - dt.timedelta(days=400)}
    iam.add_response("list_server_certificates", {"ServerCertificateMetadataList": [
        {**meta, "ServerCertificateName": "shop-2027", "Arn": "arn:aws:iam::123456789012:server-certificate/shop-2027",
         "Expiration": NOW + dt.timedelta(days=200)},
        {**meta, "ServerCertificateName": "shop-2024", "Arn": "arn:aws:iam::123456789012:server-certificate/shop-2024",
         "Expiration": NOW - dt.timedelta(days=3)}], "IsTruncated": False})
    ctx = _ctx(pool, "iam_server_certificates", ("aws.iam.server_certificate",), "global")
    collect_server_certificates(ctx)
    iam.assert_no_pending_responses()
    check = _check("aws.iam.server_certificate.not_expired")
    assert {f.name: check.evaluate(f, {}).status for f in ctx.facts} == {"shop-2027": "pass", "shop-2024": "fail"}


@pytest.mark.parametrize(("mode", "public"), [("block-all-sharing", False), ("block-new-sharing", True),
                                               ("unblocked", True)])
def test_snapshot_block_public_access_all_sharing_makes_a_shared_snapshot_private(mode: str, public: bool) -> None:
    from posture_aws.collectors.ec2 import collect_ebs

    pool = _StubPool()
    ec2 = pool.stub("ec2", "eu-west-1")
    snap = {"OwnerId": "123456789012", "Encrypted": True, "StartTime": dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
            "SnapshotId": "snap-shared"}
    ec2.add_response("describe_snapshots", {"Snapshots": [snap]}, {"OwnerIds": ["self"], "RestorableByUserIds": ["all"]})
    ec2.add_response("describe_snapshot_attribute", {"SnapshotId": "snap-shared",
                                                     "CreateVolumePermissions": [{"Group": "all"}]},
                     {"SnapshotId": "snap-shared", "Attribute": "createVolumePermission"})
    ec2.add_response("get_snapshot_block_public_access_state", {"State": mode}, {})
    ec2.add_response("describe_snapshots", {"Snapshots": [snap]}, {"OwnerIds": ["self"]})
    ctx = _ctx(pool, "ec2_ebs", ("aws.ec2.snapshot",), "eu-west-1")
    collect_ebs(ctx)
    ec2.assert_no_pending_responses()
    [fact] = ctx.facts
    assert fact.attributes["shared_with_all"] is True and fact.attributes["block_public_access"] == mode
    assert _check("aws.ec2.snapshot.not_public").evaluate(fact, {}).status == ("fail" if public else "pass")


def test_an_unreadable_snapshot_block_setting_never_makes_a_shared_snapshot_private() -> None:
    from posture_aws.collectors.ec2 import collect_ebs

    pool = _StubPool()
    ec2 = pool.stub("ec2", "eu-west-1")
    snap = {"OwnerId": "123456789012", "SnapshotId": "snap-shared", "StartTime": dt.datetime(2024, 1, 1, tzinfo=dt.UTC)}
    ec2.add_response("describe_snapshots", {"Snapshots": [snap]}, {"OwnerIds": ["self"], "RestorableByUserIds": ["all"]})
    ec2.add_response("describe_snapshot_attribute", {"CreateVolumePermissions": [{"Group": "all"}]},
                     {"SnapshotId": "snap-shared", "Attribute": "createVolumePermission"})
    ec2.add_client_error("get_snapshot_block_public_access_state", "UnauthorizedOperation")
    ec2.add_response("describe_snapshots", {"Snapshots": [snap]}, {"OwnerIds": ["self"]})
    ctx = _ctx(pool, "ec2_ebs", ("aws.ec2.snapshot",), "eu-west-1")
    collect_ebs(ctx)
    assert [f.attributes["public"] for f in ctx.facts] == [True] and ctx.errors == []


def test_serial_console_status_is_read_from_the_ec2_api() -> None:
    """moto has no GetSerialConsoleAccessStatus (the mock answers it in posture_aws.testing.missing_apis): the wire
    shape is proven here with a Stubber."""
    from posture_aws.collectors.governance import collect_serial_console

    pool = _StubPool()
    pool.stub("ec2", "eu-west-1").add_response("get_serial_console_access_status",
                                               {"SerialConsoleAccessEnabled": True}, {})
    ctx = _ctx(pool, "ec2_serial_console", ("aws.ec2.serial_console",), "eu-west-1")
    collect_serial_console(ctx)
    assert [f.attributes["enabled"] for f in ctx.facts] == [True]


def test_access_analyzer_counts_only_active_external_access_analyzers() -> None:
    """moto has no IAM Access Analyzer (the mock answers ListAnalyzers): proven here with a Stubber."""
    from posture_aws.collectors.governance import collect_access_analyzers

    pool = _StubPool()
    aa = pool.stub("accessanalyzer", "eu-west-1")
    base = {"createdAt": NOW, "arn": "arn:aws:access-analyzer:eu-west-1:123456789012:analyzer/x"}
    aa.add_response("list_analyzers", {"analyzers": [
        {**base, "name": "unused", "type": "ACCOUNT_UNUSED_ACCESS", "status": "ACTIVE"},
        {**base, "name": "org", "type": "ORGANIZATION", "status": "DISABLED"}]}, {})
    ctx = _ctx(pool, "accessanalyzer", ("aws.accessanalyzer.region",), "eu-west-1")
    collect_access_analyzers(ctx)
    [fact] = ctx.facts
    assert fact.attributes["enabled"] is False and fact.attributes["analyzer_count"] == 2
    assert _check("aws.accessanalyzer.region.enabled").evaluate(fact, {}).status == "fail"


def _acl(*entries: tuple[int, str, str, Any]) -> Fact:
    rows = [{"rule_number": n, "action": action, "protocol": "6" if ports else "all", "cidr": cidr,
             "from_port": ports[0] if ports else None, "to_port": ports[1] if ports else None,
             "all_ports": not ports} for n, action, cidr, ports in entries]
    return Fact("aws", "123456789012", "eu-west-1", "aws.ec2.network_acl", "arn:acl", "acl-1", {"ingress_entries": rows})


@pytest.mark.parametrize(("entries", "expected"), [
    # the first matching entry decides: a deny before the allow closes the port
    ([(50, "deny", "0.0.0.0/0", (22, 22)), (60, "deny", "::/0", (22, 22)), (100, "allow", "0.0.0.0/0", None),
      (101, "allow", "::/0", None)], ["3389"]),
    ([(100, "allow", "0.0.0.0/0", (32768, 65535))], []),  # ephemeral ports only
    ([(100, "allow", "10.0.0.0/8", None)], []),  # a narrower source does not admit the internet
    ([(100, "allow", "0.0.0.0/0", (3000, 4000))], ["3389"]),
    ([(10, "deny", "0.0.0.0/0", None), (20, "allow", "0.0.0.0/0", None)], []),
])
def test_network_acl_entries_are_judged_in_rule_order(entries: list[Any], expected: list[str]) -> None:
    outcome = _check("aws.ec2.network_acl.admin_ports_closed").evaluate(_acl(*entries), {"admin_ports": [22, 3389]})
    assert [str(p) for p in outcome.evidence["exposed_ports"]] == expected
    assert outcome.status == ("fail" if expected else "pass")


@pytest.mark.parametrize(("selectors", "kinds"), [
    ({"EventSelectors": [{"ReadWriteType": "WriteOnly", "DataResources": [
        {"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]}]}, {"write"}),
    ({"EventSelectors": [{"ReadWriteType": "All", "DataResources": [
        {"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::one-bucket/"]}]}]}, set()),  # one bucket only
    ({"AdvancedEventSelectors": [{"FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
        {"Field": "readOnly", "Equals": ["true"]}]}]}, {"read"}),
    ({"AdvancedEventSelectors": [{"FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "resources.type", "Equals": ["AWS::S3::Object"]}]}]},
     {"read", "write"}),
    ({"AdvancedEventSelectors": [{"FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
        {"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::one-bucket/"]}]}]}, set()),
    ({"AdvancedEventSelectors": [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}]}, set()),
])
def test_s3_data_events_must_cover_every_bucket(selectors: dict[str, Any], kinds: set[str]) -> None:
    assert s3_data_events(selectors) == kinds


@pytest.mark.parametrize(("attrs", "expected"), [
    ({"mfa_enabled": True, "access_keys_present": False, "root_managed_centrally": False}, "pass"),
    ({"mfa_enabled": False, "access_keys_present": False, "root_managed_centrally": True}, "pass"),
    ({"mfa_enabled": False, "access_keys_present": True, "root_managed_centrally": True}, "fail"),
    ({"mfa_enabled": False, "access_keys_present": False, "root_managed_centrally": False}, "fail"),
])
def test_root_mfa_is_not_demanded_where_the_organization_removed_root_credentials(attrs: dict[str, Any],
                                                                                   expected: str) -> None:
    fact = Fact("aws", "123456789012", "global", "aws.iam.root_account", "arn:aws:iam::123456789012:root", "root",
                attrs)
    assert _check("aws.iam.root.mfa_enabled").evaluate(fact, {}).status == expected


def test_org_scan_marks_member_accounts_whose_root_credentials_are_managed_centrally() -> None:
    """moto has no ListOrganizationsFeatures: the management account's answer is stubbed."""
    from posture_aws.provider import AwsProvider
    from posture_aws.sessions import CredentialPath

    from posture.provider import Scope

    pool = _StubPool()
    pool.stub("iam", "us-east-1").add_response("list_organizations_features", {
        "OrganizationId": "o-abc1234567", "EnabledFeatures": ["RootCredentialsManagement", "RootSessions"]}, {})
    pool.stub("organizations", "us-east-1").add_response("describe_organization", {"Organization": {
        "Id": "o-abc1234567", "MasterAccountId": "111111111111"}}, {})
    pool.default_region = lambda path: "us-east-1"  # type: ignore[attr-defined]
    accounts = [(Scope("aws", a, a, "account"), CredentialPath(None, (), None)) for a in ("111111111111", "222222222222")]
    managed = AwsProvider()._root_managed_accounts(pool, {}, accounts)  # type: ignore[arg-type]
    assert managed == ("222222222222",)  # the management account keeps its own root credentials


def test_org_scan_without_the_feature_or_the_permission_judges_every_root_user_on_its_mfa() -> None:
    from posture_aws.provider import AwsProvider
    from posture_aws.sessions import CredentialPath

    from posture.provider import Scope

    pool = _StubPool()
    pool.stub("iam", "us-east-1").add_client_error("list_organizations_features", "AccessDenied")
    pool.default_region = lambda path: "us-east-1"  # type: ignore[attr-defined]
    accounts = [(Scope("aws", "222222222222", "m", "account"), CredentialPath(None, (), None))]
    assert AwsProvider()._root_managed_accounts(pool, {}, accounts) == ()  # type: ignore[arg-type]


def test_foundation_fact_types_are_collected_only_when_requested(aws_mock: dict[str, Any]) -> None:
    from posture_aws.provider import AwsProvider

    from tests.aws.helpers import scan_options

    units = AwsProvider().plan({"aws.iam.policy"}, scan_options(aws_mock)).units
    assert [(u.collector, u.fact_types) for u in units] == [("iam_policies", ("aws.iam.policy",))]
