"""Every AWS check, on a compliant and a non-compliant moto resource, with the exact status."""

from __future__ import annotations

from typing import Any

import pytest

from posture.checks import Check
from posture.facts import FactSet
from posture.plugins import registry
from posture.tiers import load_catalogue
from tests.aws.helpers import find_fact

US, EU = "us-east-1", "eu-west-1"
# (check id, account, resource: name / id / "@seeded-id-key", expected status)
EXPECTED: list[tuple[str, str, str, str]] = [
    ("aws.iam.root.mfa_enabled", "mixed", "root", "fail"),
    ("aws.iam.root.mfa_enabled", "hardened", "root", "pass"),
    ("aws.iam.root.no_access_keys", "mixed", "root", "fail"),
    ("aws.iam.root.no_access_keys", "hardened", "root", "pass"),
    ("aws.iam.password_policy.min_length", "mixed", "password-policy", "fail"),
    ("aws.iam.password_policy.min_length", "hardened", "password-policy", "pass"),
    ("aws.iam.password_policy.complexity", "mixed", "password-policy", "fail"),
    ("aws.iam.password_policy.complexity", "hardened", "password-policy", "pass"),
    ("aws.iam.password_policy.reuse_prevention", "mixed", "password-policy", "fail"),
    ("aws.iam.password_policy.reuse_prevention", "hardened", "password-policy", "pass"),
    ("aws.iam.user.console_mfa", "mixed", "alice", "pass"),
    ("aws.iam.user.console_mfa", "mixed", "bob", "fail"),
    ("aws.iam.user.console_mfa", "mixed", "svc-readonly", "not_applicable"),
    ("aws.iam.user.access_keys_rotated", "mixed", "ci-deployer", "pass"),
    ("aws.iam.user.access_keys_rotated", "mixed", "legacy-batch", "fail"),
    ("aws.iam.user.access_keys_rotated", "mixed", "alice", "not_applicable"),
    ("aws.iam.user.unused_credentials_disabled", "mixed", "ci-deployer", "pass"),
    ("aws.iam.user.unused_credentials_disabled", "mixed", "legacy-batch", "fail"),
    ("aws.iam.policy.no_full_admin", "mixed", "LogsReadOnly", "pass"),
    ("aws.iam.policy.no_full_admin", "mixed", "AdminEverything", "fail"),
    ("aws.iam.policy.no_full_admin", "mixed", "lambda-exec/inline-admin", "fail"),
    ("aws.iam.policy.no_full_admin", "mixed", "AdministratorAccess", "fail"),  # AWS-managed, attached
    ("aws.iam.account.support_role", "mixed", "support-access", "fail"),
    ("aws.iam.account.support_role", "hardened", "support-access", "pass"),
    ("aws.s3.account.public_access_block", "mixed", "s3-account-public-access-block", "fail"),
    ("aws.s3.account.public_access_block", "hardened", "s3-account-public-access-block", "pass"),
    ("aws.s3.bucket.public_access_block", "mixed", "acme-logs", "pass"),
    ("aws.s3.bucket.public_access_block", "mixed", "acme-public-site", "fail"),
    ("aws.s3.bucket.acl_not_public", "mixed", "acme-logs", "pass"),
    ("aws.s3.bucket.acl_not_public", "mixed", "acme-public-site", "fail"),
    ("aws.s3.bucket.policy_not_public", "mixed", "acme-logs", "pass"),
    ("aws.s3.bucket.policy_not_public", "mixed", "acme-public-site", "fail"),
    ("aws.s3.bucket.default_encryption", "mixed", "acme-logs", "pass"),
    ("aws.s3.bucket.default_encryption", "mixed", "acme-public-site", "fail"),
    ("aws.s3.bucket.versioning", "mixed", "acme-logs", "pass"),
    ("aws.s3.bucket.versioning", "mixed", "acme-public-site", "fail"),
    ("aws.s3.bucket.access_logging", "mixed", "acme-logs", "pass"),
    ("aws.s3.bucket.access_logging", "mixed", "acme-data-eu", "fail"),
    ("aws.s3.bucket.tls_only", "mixed", "acme-logs", "pass"),
    ("aws.s3.bucket.tls_only", "mixed", "acme-public-site", "fail"),
    ("aws.s3.bucket.required_tags", "mixed", "acme-logs", "pass"),
    ("aws.s3.bucket.required_tags", "mixed", "acme-public-site", "fail"),
    ("aws.ec2.security_group.admin_ports_closed", "mixed", "@sg_web", "pass"),
    ("aws.ec2.security_group.admin_ports_closed", "mixed", "@sg_ssh", "fail"),
    ("aws.ec2.security_group.admin_ports_closed", "mixed", "@sg_rdp_range_v6", "fail"),
    ("aws.ec2.security_group.admin_ports_closed", "mixed", "@sg_all_traffic", "fail"),
    ("aws.ec2.security_group.default_restricts_all", "mixed", "@sg_default_clean", "pass"),
    ("aws.ec2.security_group.default_restricts_all", "mixed", "@sg_default_untouched", "fail"),
    ("aws.ec2.security_group.default_restricts_all", "mixed", "@sg_ssh", "not_applicable"),
    ("aws.ec2.vpc.flow_logs", "mixed", "@vpc_logged", "pass"),
    ("aws.ec2.vpc.flow_logs", "mixed", "@vpc_default", "fail"),
    ("aws.ec2.region.ebs_default_encryption", "mixed", f"ebs-encryption-by-default ({US})", "pass"),
    ("aws.ec2.region.ebs_default_encryption", "mixed", f"ebs-encryption-by-default ({EU})", "fail"),
    ("aws.ec2.volume.encrypted", "mixed", "@vol_encrypted", "pass"),
    ("aws.ec2.volume.encrypted", "mixed", "@vol_plain", "fail"),
    ("aws.ec2.volume.attached", "mixed", "@vol_encrypted", "pass"),
    ("aws.ec2.volume.attached", "mixed", "@vol_plain", "fail"),
    ("aws.ec2.volume.required_tags", "mixed", "@vol_encrypted", "pass"),
    ("aws.ec2.volume.required_tags", "mixed", "@vol_plain", "fail"),
    ("aws.ec2.snapshot.encrypted", "mixed", "@snap_private", "pass"),
    ("aws.ec2.snapshot.encrypted", "mixed", "@snap_public", "fail"),
    ("aws.ec2.snapshot.not_public", "mixed", "@snap_private", "pass"),
    ("aws.ec2.snapshot.not_public", "mixed", "@snap_public", "fail"),
    ("aws.ec2.image.not_public", "mixed", "@img_private", "pass"),
    ("aws.ec2.image.not_public", "mixed", "@img_public", "fail"),
    ("aws.ec2.instance.imdsv2_required", "mixed", "app-1", "pass"),
    ("aws.ec2.instance.imdsv2_required", "mixed", "web-1", "fail"),
    ("aws.ec2.instance.no_public_ip", "mixed", "app-1", "pass"),
    ("aws.ec2.instance.no_public_ip", "mixed", "web-1", "fail"),
    ("aws.ec2.instance.required_tags", "mixed", "app-1", "pass"),
    ("aws.ec2.instance.required_tags", "mixed", "web-1", "fail"),
    ("aws.ec2.address.associated", "mixed", "@eip_associated", "pass"),
    ("aws.ec2.address.associated", "mixed", "@eip_free", "fail"),
    ("aws.rds.db_instance.not_public", "mixed", "billing-db", "pass"),
    ("aws.rds.db_instance.not_public", "mixed", "orders-db", "fail"),
    ("aws.rds.db_instance.storage_encrypted", "mixed", "billing-db", "pass"),
    ("aws.rds.db_instance.storage_encrypted", "mixed", "orders-db", "fail"),
    ("aws.rds.db_instance.backup_retention", "mixed", "billing-db", "pass"),
    ("aws.rds.db_instance.backup_retention", "mixed", "orders-db", "fail"),
    ("aws.rds.db_instance.deletion_protection", "mixed", "billing-db", "pass"),
    ("aws.rds.db_instance.deletion_protection", "mixed", "orders-db", "fail"),
    ("aws.rds.db_instance.deletion_protection", "mixed", "ledger-1", "pass"),  # set on its Aurora cluster
    ("aws.rds.db_instance.backup_retention", "mixed", "ledger-1", "pass"),
    ("aws.rds.db_instance.auto_minor_version_upgrade", "mixed", "billing-db", "pass"),
    ("aws.rds.db_instance.auto_minor_version_upgrade", "mixed", "orders-db", "fail"),
    ("aws.rds.db_instance.required_tags", "mixed", "billing-db", "pass"),
    ("aws.rds.db_instance.required_tags", "mixed", "orders-db", "fail"),
    ("aws.cloudtrail.account.multi_region_trail", "mixed", "cloudtrail", "pass"),
    ("aws.cloudtrail.account.multi_region_trail", "hardened", "cloudtrail", "fail"),
    ("aws.cloudtrail.trail.log_file_validation", "mixed", "org-audit", "pass"),
    ("aws.cloudtrail.trail.log_file_validation", "mixed", "legacy-trail", "fail"),
    ("aws.cloudtrail.trail.kms_encrypted", "mixed", "org-audit", "pass"),
    ("aws.cloudtrail.trail.kms_encrypted", "mixed", "legacy-trail", "fail"),
    ("aws.logs.log_group.retention", "mixed", "/app/audit", "pass"),
    ("aws.logs.log_group.retention", "mixed", "/tmp/scratch", "pass"),
    ("aws.logs.log_group.retention", "mixed", "/app/debug", "fail"),
    ("aws.config.recorder.enabled", "mixed", f"config-recorder ({US})", "pass"),
    ("aws.config.recorder.enabled", "mixed", f"config-recorder ({EU})", "fail"),
    ("aws.guardduty.detector.enabled", "mixed", f"guardduty ({US})", "pass"),
    ("aws.guardduty.detector.enabled", "mixed", f"guardduty ({EU})", "fail"),
    ("aws.kms.key.rotation_enabled", "mixed", "@key_rotated", "pass"),
    ("aws.kms.key.rotation_enabled", "mixed", "@key_not_rotated", "fail"),
    ("aws.kms.key.rotation_enabled", "mixed", "@key_disabled_rotated", "pass"),  # disabled keeps rotation
    ("aws.sns.topic.encrypted", "mixed", "alerts", "pass"),
    ("aws.sns.topic.encrypted", "mixed", "events-plain", "fail"),
    ("aws.sqs.queue.encrypted", "mixed", "jobs-encrypted", "pass"),
    ("aws.sqs.queue.encrypted", "mixed", "jobs-plain", "fail"),
    ("aws.lambda.function.supported_runtime", "mixed", "api-handler", "pass"),
    ("aws.lambda.function.supported_runtime", "mixed", "legacy-export", "fail"),
    ("aws.lambda.function.no_secrets_in_env", "mixed", "api-handler", "pass"),
    ("aws.lambda.function.no_secrets_in_env", "mixed", "legacy-export", "fail"),
    ("aws.elbv2.listener.tls", "mixed", "shop-alb:443", "pass"),
    ("aws.elbv2.listener.tls", "mixed", "shop-alb:80", "fail"),
    ("aws.elbv2.listener.min_tls_version", "mixed", "shop-alb:443", "pass"),
    ("aws.elbv2.listener.min_tls_version", "mixed", "shop-alb:8443", "fail"),
    ("aws.elbv2.listener.min_tls_version", "mixed", "shop-alb:80", "not_applicable"),
    # CIS AWS Foundations 7.0 and the tier-2/tier-3 controls (plugins/posture_aws/checks/foundations.yaml)
    ("aws.iam.user.permissions_through_groups", "mixed", "user/alice", "pass"),
    ("aws.iam.user.permissions_through_groups", "mixed", "user/bob", "fail"),
    ("aws.iam.user.permissions_through_groups", "mixed", "role/lambda-exec", "not_applicable"),
    ("aws.iam.principal.no_broad_managed_policy", "mixed", "role/report-builder", "pass"),
    ("aws.iam.principal.no_broad_managed_policy", "mixed", "user/alice", "pass"),
    ("aws.iam.principal.no_broad_managed_policy", "mixed", "role/lambda-exec", "fail"),
    ("aws.iam.principal.no_broad_managed_policy", "mixed", "role/vendor-admin", "not_applicable"),
    ("aws.iam.role.no_admin_for_external_accounts", "mixed", "role/vendor-audit", "pass"),
    ("aws.iam.role.no_admin_for_external_accounts", "mixed", "role/vendor-admin", "fail"),
    ("aws.iam.role.no_admin_for_external_accounts", "mixed", "role/lambda-exec", "not_applicable"),
    ("aws.iam.policy.no_full_admin", "mixed", "AlmostEverything", "fail"),  # NotAction that keeps iam:*
    ("aws.ec2.instance.instance_profile", "mixed", "app-1", "pass"),
    ("aws.ec2.instance.instance_profile", "mixed", "web-1", "fail"),
    # moto lists every server certificate with a fixed 2012 expiry: the pass is proven with a Stubber
    # (tests/aws/test_foundations.py)
    ("aws.iam.server_certificate.not_expired", "mixed", "shop-2019", "fail"),
    ("aws.accessanalyzer.region.enabled", "mixed", f"access-analyzer ({US})", "pass"),
    ("aws.accessanalyzer.region.enabled", "mixed", f"access-analyzer ({EU})", "fail"),
    ("aws.securityhub.hub.enabled", "mixed", f"security-hub ({US})", "pass"),
    ("aws.securityhub.hub.enabled", "mixed", f"security-hub ({EU})", "fail"),
    ("aws.efs.file_system.encrypted", "mixed", "shared-enc", "pass"),
    ("aws.efs.file_system.encrypted", "mixed", "scratch-plain", "fail"),
    ("aws.s3.bucket.customer_managed_key", "mixed", "acme-logs", "pass"),
    ("aws.s3.bucket.customer_managed_key", "mixed", "acme-public-site", "fail"),
    ("aws.s3.bucket.acls_disabled", "mixed", "acme-logs", "pass"),
    ("aws.s3.bucket.acls_disabled", "mixed", "acme-public-site", "fail"),
    ("aws.cloudtrail.account.s3_write_data_events", "mixed", "cloudtrail S3 data events", "pass"),
    ("aws.cloudtrail.account.s3_write_data_events", "hardened", "cloudtrail S3 data events", "fail"),
    ("aws.cloudtrail.account.s3_read_data_events", "mixed", "cloudtrail S3 data events", "pass"),
    ("aws.cloudtrail.account.s3_read_data_events", "hardened", "cloudtrail S3 data events", "fail"),
    ("aws.rds.db_instance.audit_logs_exported", "mixed", "billing-db", "pass"),
    ("aws.rds.db_instance.audit_logs_exported", "mixed", "orders-db", "fail"),
    ("aws.ec2.security_group.cifs_closed", "mixed", "@sg_web", "pass"),
    ("aws.ec2.security_group.cifs_closed", "mixed", "@sg_all_traffic", "fail"),
    ("aws.ec2.network_acl.admin_ports_closed", "mixed", "@nacl_guarded", "pass"),
    ("aws.ec2.network_acl.admin_ports_closed", "mixed", "@nacl_default", "fail"),
    ("aws.ec2.region.serial_console_disabled", "mixed", f"serial-console-access ({US})", "pass"),
    ("aws.ec2.region.serial_console_disabled", "mixed", f"serial-console-access ({EU})", "fail"),
    ("aws.secretsmanager.secret.rotation_enabled", "mixed", "db-rotated", "pass"),
    ("aws.secretsmanager.secret.rotation_enabled", "mixed", "api-static", "fail"),
    ("aws.kms.key.not_pending_deletion", "mixed", "@key_rotated", "pass"),
    ("aws.kms.key.not_pending_deletion", "mixed", "@key_pending_deletion", "fail"),
    ("aws.s3.bucket.replicated", "mixed", "acme-logs", "pass"),
    ("aws.s3.bucket.replicated", "mixed", "acme-public-site", "fail"),
    ("aws.elbv2.load_balancer.waf_protected", "mixed", "api-alb", "pass"),
    ("aws.elbv2.load_balancer.waf_protected", "mixed", "shop-alb", "fail"),
]
#: checks whose passing (or failing) case moto cannot produce, proven in the named test instead
PROVEN_ELSEWHERE = {
    "aws.iam.server_certificate.not_expired": "tests/aws/test_foundations.py::test_server_certificate_expiry_is_judged_"
                                              "from_the_listing (botocore Stubber)",
}


def aws_checks() -> dict[str, Check]:
    return {cid: c for cid, c in registry().checks.items() if c.provider == "aws"}


def default_params(check: Check) -> dict[str, Any]:
    """The catalogue defaults of the check's controls (what a tier uses unless it tightens them)."""
    catalogue = load_catalogue()
    params: dict[str, Any] = {}
    for cid in check.controls:
        params.update({n: p.default for n, p in catalogue.controls[cid].parameters.items()})
    return params


def test_at_least_forty_aws_checks_each_mapped_to_catalogue_controls_with_remediation() -> None:
    checks = aws_checks()
    catalogue = load_catalogue()
    assert len(checks) >= 40
    for check in checks.values():
        assert check.remediation, check.id
        assert set(check.controls) <= set(catalogue.controls), check.id


def test_every_aws_check_has_a_passing_and_a_failing_case() -> None:
    statuses: dict[str, set[str]] = {}
    for cid, _, _, status in EXPECTED:
        statuses.setdefault(cid, set()).add(status)
    for cid in aws_checks():
        if cid in PROVEN_ELSEWHERE:
            assert statuses.get(cid), f"{cid} has no moto case at all"
            continue
        assert {"pass", "fail"} <= statuses.get(cid, set()), f"{cid} lacks a pass or a fail case"


@pytest.mark.parametrize(("check_id", "account", "resource", "expected"), EXPECTED,
                         ids=[f"{c}-{r}-{s}" for c, _, r, s in EXPECTED])
def test_check_status_on_seeded_resource(check_id: str, account: str, resource: str, expected: str,
                                         mixed_facts: FactSet, hardened_facts: FactSet,
                                         aws_mock: dict[str, Any]) -> None:
    check = aws_checks()[check_id]
    facts = mixed_facts if account == "mixed" else hardened_facts
    ident = aws_mock["ids"][resource[1:]] if resource.startswith("@") else resource
    fact = find_fact(facts, check.fact_type, ident)
    outcome = check.evaluate(fact, default_params(check))
    assert outcome.status == expected, (outcome.message, fact.attributes)


def test_full_scan_collects_every_fact_type_without_errors(mixed_facts: FactSet) -> None:
    from posture_aws.provider import AwsProvider

    assert mixed_facts.errors == []
    assert {f.type for f in mixed_facts.facts} == set(AwsProvider.fact_types)
    assert {c.fact_type for c in mixed_facts.coverage} == set(AwsProvider.fact_types)


def test_lambda_secret_like_variables_are_reported_by_name(mixed_facts: FactSet) -> None:
    fact = find_fact(mixed_facts, "aws.lambda.function", "legacy-export")
    assert fact.attributes["secret_like_env_vars"] == ["DB_PASSWORD", "UPSTREAM_KEY_ID"]
    assert fact.attributes["env_var_names"] == ["DB_PASSWORD", "STAGE", "UPSTREAM_KEY_ID"]


@pytest.mark.parametrize(("protocol", "expected"), [("GENEVE", "not_applicable"), ("UDP", "not_applicable"),
                                                    ("TCP", "fail"), ("TLS", "pass")])
def test_listener_tls_check_applies_only_where_tls_is_possible(protocol: str, expected: str) -> None:
    from posture.facts import Fact

    check = aws_checks()["aws.elbv2.listener.tls"]
    fact = Fact("aws", "123456789012", "us-east-1", "aws.elbv2.listener", "arn:listener", f"lb:{protocol}",
                {"protocol": protocol, "port": 6081, "tls": protocol == "TLS", "redirects_to_https": False})
    assert check.evaluate(fact, default_params(check)).status == expected


@pytest.mark.parametrize(("traffic", "expected"), [(["ALL"], "pass"), (["REJECT"], "pass"),
                                                   (["ACCEPT"], "fail"), ([], "fail")])
def test_flow_logs_must_capture_rejected_traffic(traffic: list[str], expected: str) -> None:
    from posture.facts import Fact

    check = aws_checks()["aws.ec2.vpc.flow_logs"]
    fact = Fact("aws", "123456789012", "us-east-1", "aws.ec2.vpc", "arn:vpc", "vpc-1",
                {"flow_logs_enabled": bool(traffic), "flow_log_traffic_types": traffic})
    assert check.evaluate(fact, default_params(check)).status == expected


def test_every_automated_cis_aws_recommendation_is_decided_by_checks_tested_on_both_outcomes() -> None:
    from posture.frameworks import coverage, load_framework

    fw = load_framework("cis-aws-foundations-7.0")
    cov = coverage(fw, registry().checks)
    assert cov["automated"] == cov["automated_covered"] == 34 and cov["gaps"] == []
    statuses: dict[str, set[str]] = {}
    for cid, _, _, status in EXPECTED:
        statuses.setdefault(cid, set()).add(status)
    for rec in fw.recommendations:
        for cid in rec.checks if rec.automated else ():
            assert cid in PROVEN_ELSEWHERE or {"pass", "fail"} <= statuses.get(cid, set()), (rec.id, cid)
