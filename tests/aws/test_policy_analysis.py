"""Policy documents judged the way AWS judges them ("The meaning of public"; IAM full admin)."""

from __future__ import annotations

from typing import Any

import pytest
from posture_aws.collectors.iam import allows_full_admin
from posture_aws.collectors.s3 import policy_is_public


def _allow_all(**extra: Any) -> dict[str, Any]:
    return {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                           "Resource": "arn:aws:s3:::b/*", **extra}]}


@pytest.mark.parametrize("condition", [
    {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}},
    {"StringEquals": {"aws:PrincipalOrgID": ["o-abc123"]}},
    {"ArnEquals": {"aws:SourceArn": "arn:aws:cloudfront::111122223333:distribution/E1"}},
    {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
    {"ForAnyValue:StringEquals": {"aws:SourceVpc": ["vpc-1", "vpc-2"]}},
    {"Bool": {"aws:SecureTransport": "true"}, "StringEquals": {"aws:SourceAccount": "111122223333"}},
])
def test_everyone_pinned_to_fixed_callers_is_not_public(condition: dict[str, Any]) -> None:
    assert policy_is_public(_allow_all(Condition=condition)) is False


@pytest.mark.parametrize("condition", [
    None,
    {"StringLike": {"aws:SourceVpc": "vpc-*"}},
    {"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}},
    {"IpAddress": {"aws:SourceIp": "0.0.0.0/1"}},
    {"StringNotEquals": {"aws:SourceVpce": "vpce-1"}},
    {"StringEqualsIfExists": {"aws:SourceVpce": "vpce-1"}},
    {"Null": {"aws:SourceVpce": "false"}},
    {"ForAllValues:StringEquals": {"aws:SourceVpc": ["vpc-1"]}},
    {"StringEquals": {"aws:PrincipalArn": "${aws:username}"}},
    {"Bool": {"aws:SecureTransport": "true"}},
])
def test_everyone_with_a_condition_anyone_can_meet_is_public(condition: dict[str, Any] | None) -> None:
    extra = {"Condition": condition} if condition is not None else {}
    assert policy_is_public(_allow_all(**extra)) is True


def test_allow_with_not_principal_is_public() -> None:
    policy = {"Statement": [{"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"},
                             "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}
    assert policy_is_public(policy) is True


def test_principal_aws_star_is_public_and_a_named_account_is_not() -> None:
    assert policy_is_public({"Statement": [{"Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": "s3:*"}]})
    assert not policy_is_public({"Statement": [{"Effect": "Allow", "Action": "s3:*",
                                                "Principal": {"AWS": "arn:aws:iam::111122223333:root"}}]})


@pytest.mark.parametrize(("statement", "admin"), [
    ({"Effect": "Allow", "Action": "*", "Resource": "*"}, True),
    ({"Effect": "Allow", "Action": ["s3:GetObject", "*:*"], "Resource": ["*"]}, True),
    ({"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::b/*"}, False),
    ({"Effect": "Deny", "Action": "*", "Resource": "*"}, False),
    ({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}, False),
    # NotAction / NotResource: near-admin (docs/aws.md, formerly a known limit)
    ({"Effect": "Allow", "NotAction": ["organizations:*", "account:*"], "Resource": "*"}, True),
    ({"Effect": "Allow", "NotAction": "s3:DeleteBucket", "NotResource": "arn:aws:s3:::audit"}, True),
    ({"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:s3:::audit/*"}, True),
    # PowerUserAccess-style: everything but IAM, Organizations and Account management
    ({"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"}, False),
    ({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}, False),
    ({"Effect": "Allow", "NotAction": "s3:*", "Resource": "arn:aws:s3:::b/*"}, False),
    ({"Effect": "Deny", "NotAction": "s3:*", "Resource": "*"}, False),
])
def test_full_admin_means_every_action_on_every_resource(statement: dict[str, Any], admin: bool) -> None:
    assert allows_full_admin({"Version": "2012-10-17", "Statement": [statement]}) is admin


class _StubS3:
    """Just the three bucket calls ``_Bucket.access`` makes, answering like S3 does."""

    def __init__(self, bucket_block: dict[str, bool], grants: list[str], policy: dict[str, Any]) -> None:
        self.bucket_block, self.grants, self.policy = bucket_block, grants, policy

    def get_public_access_block(self, Bucket: str) -> dict[str, Any]:  # noqa: N803 - boto3's names
        return {"PublicAccessBlockConfiguration": self.bucket_block}

    def get_bucket_acl(self, Bucket: str) -> dict[str, Any]:  # noqa: N803
        return {"Grants": [{"Grantee": {"Type": "Group", "URI": uri}, "Permission": "READ"} for uri in self.grants]}

    def get_bucket_policy(self, Bucket: str) -> dict[str, Any]:  # noqa: N803
        import json

        return {"Policy": json.dumps(self.policy)}


def _access(account: dict[str, bool] | None) -> dict[str, Any]:
    from posture_aws.collectors.s3 import ALL_USERS, _Bucket

    bucket = _Bucket.__new__(_Bucket)
    bucket.name, bucket.account, bucket._policy = "legacy-site", account, None
    bucket.s3 = _StubS3({}, [ALL_USERS[0]], _allow_all())
    return bucket.access()


def test_account_wide_block_public_access_neutralises_a_bucket_public_acl_and_policy() -> None:
    blocked = _access({"block_public_acls": True, "ignore_public_acls": True, "block_public_policy": True,
                       "restrict_public_buckets": True})
    assert (blocked["acl_public"], blocked["policy_public"], blocked["public"]) == (False, False, False)
    assert blocked["public_access_block_all"] is False  # the bucket's own settings are still reported


def test_without_the_account_setting_the_bucket_settings_decide() -> None:
    for account in (None, {"ignore_public_acls": False, "restrict_public_buckets": False}):
        open_ = _access(account)
        assert (open_["acl_public"], open_["policy_public"]) == (True, True)


def test_a_runtime_is_deprecated_from_its_date_on() -> None:
    from datetime import UTC, datetime

    from posture_aws.runtimes import is_deprecated

    assert is_deprecated("nodejs18.x", datetime(2025, 9, 1, tzinfo=UTC))
    assert not is_deprecated("nodejs18.x", datetime(2025, 8, 31, 23, 59, tzinfo=UTC))
    assert is_deprecated("python3.9", datetime(2026, 12, 1, tzinfo=UTC))
    assert not is_deprecated("python3.13", datetime(2026, 12, 1, tzinfo=UTC))  # not listed: supported
    assert not is_deprecated(None, datetime(2026, 12, 1, tzinfo=UTC))  # container images have no runtime


@pytest.mark.parametrize(("name", "value", "secret"), [
    ("DB_PASSWORD", "hunter2-secret-value", True),
    ("UPSTREAM_KEY_ID", "AKIAPLANTEDSECRET123", True),  # the value gives it away whatever the name
    ("AUTH_TOKEN", "abc.def.ghi", True),
    ("BASIC_AUTH", "user:pw", True),
    ("AUTH_ENABLED", "true", False),
    ("TOKEN_TTL", "300", False),
    ("PASSWORD_MIN_LENGTH", "12", False),
    ("AUTHOR_NAME", "Ada Lovelace", False),
    ("DB_PASSWORD_ARN", "arn:aws:secretsmanager:eu-west-1:111122223333:secret:db-AbCdEf", False),
    ("LOG_LEVEL", "info", False),
])
def test_secret_like_names_judge_name_and_value_but_return_only_names(name: str, value: str, secret: bool) -> None:
    from posture.secrets import secret_like_names

    assert secret_like_names({name: value}) == ([name] if secret else [])


@pytest.mark.parametrize(("selectors", "all_management"), [
    ({}, True),  # no selectors: the default, all management events
    ({"EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": True}]}, True),
    ({"EventSelectors": [{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}]}, False),
    ({"EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": False,
                          "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]}]}, False),
    ({"AdvancedEventSelectors": [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}]}, True),
    ({"AdvancedEventSelectors": [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]},
                                                     {"Field": "readOnly", "Equals": ["false"]}]}]}, False),
    ({"AdvancedEventSelectors": [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]}]}]}, False),
])
def test_a_trail_must_log_read_and_write_management_events(selectors: dict[str, Any], all_management: bool) -> None:
    from posture_aws.collectors.cloudtrail import logs_all_management_events

    assert logs_all_management_events(selectors) is all_management
