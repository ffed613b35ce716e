"""The collectors: which fact types each produces and whether it runs per region.

Kept import-light (no SDK import) so ``Provider.fact_types`` is cheap.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Collector:
    name: str
    regional: bool
    fact_types: dict[str, str]
    target: str  # "module:function", imported when the unit runs

    def function(self) -> Callable[[Any], None]:
        module, func = self.target.split(":")
        return getattr(importlib.import_module(module), func)


C = Collector
COLLECTORS: tuple[Collector, ...] = (
    C("iam_summary", False, {
        "aws.iam.root_account": "root user MFA and access keys (GetAccountSummary)"},
      "posture_aws.collectors.iam:collect_summary"),
    C("iam_password_policy", False, {
        "aws.iam.password_policy": "account password policy"},
      "posture_aws.collectors.iam:collect_password_policy"),
    C("iam_credential_report", False, {
        "aws.iam.user": "IAM users: console password, MFA, access-key age and last use (credential report)"},
      "posture_aws.collectors.iam:collect_users"),
    C("iam_policies", False, {
        "aws.iam.policy": "customer-managed and inline IAM policies (GetAccountAuthorizationDetails)",
        "aws.iam.principal": "IAM users, groups and roles: direct policies, admin access, role trust (same listing)"},
      "posture_aws.collectors.iam:collect_policies"),
    C("iam_server_certificates", False, {
        "aws.iam.server_certificate": "TLS certificates stored in IAM: expiry (ListServerCertificates)"},
      "posture_aws.collectors.iam:collect_server_certificates"),
    C("iam_support_role", False, {
        "aws.iam.support_access": "roles holding AWSSupportAccess (one fact per account)"},
      "posture_aws.collectors.iam:collect_support_access"),
    C("s3_account", False, {
        "aws.s3.account_public_access_block": "account-level S3 Block Public Access"},
      "posture_aws.collectors.s3:collect_account"),
    C("s3_buckets", False, {
        "aws.s3.bucket_access": "bucket public access block, ACL and policy publicness",
        "aws.s3.bucket_policy": "bucket policy: TLS-only enforcement",
        "aws.s3.bucket_encryption": "bucket default encryption",
        "aws.s3.bucket_versioning": "bucket versioning and MFA delete",
        "aws.s3.bucket_logging": "bucket server access logging",
        "aws.s3.bucket_tags": "bucket tag keys",
        "aws.s3.bucket_ownership": "bucket Object Ownership: whether ACLs are disabled"},
      "posture_aws.collectors.s3:collect_buckets"),
    C("ec2_network", True, {
        "aws.ec2.security_group": "security groups and their ingress/egress rules",
        "aws.ec2.vpc": "VPCs and whether flow logs are enabled",
        "aws.ec2.network_acl": "network ACLs and their ingress entries in evaluation order"},
      "posture_aws.collectors.ec2:collect_network"),
    C("ec2_ebs", True, {
        "aws.ec2.ebs_encryption_default": "EBS encryption by default (one fact per region)",
        "aws.ec2.volume": "EBS volumes: encryption, attachment, tag keys",
        "aws.ec2.snapshot": "EBS snapshots owned by the account: encryption, public",
        "aws.ec2.image": "AMIs owned by the account: public"},
      "posture_aws.collectors.ec2:collect_ebs"),
    C("ec2_instances", True, {
        "aws.ec2.instance": "EC2 instances: IMDS, public IP, tag keys",
        "aws.ec2.address": "Elastic IP addresses: associated or not"},
      "posture_aws.collectors.ec2:collect_instances"),
    C("rds", True, {
        "aws.rds.db_instance": "RDS DB instances: exposure, encryption, backups, protection"},
      "posture_aws.collectors.rds:collect_db_instances"),
    C("cloudtrail", False, {
        "aws.cloudtrail.trail": "the account's CloudTrail trails that apply to the scanned regions",
        "aws.cloudtrail.account": "whether a logging multi-region trail exists (one fact per account)",
        "aws.cloudtrail.s3_data_events": "whether logging multi-region trails record S3 object-level reads and "
                                         "writes for every bucket (one fact per account)"},
      "posture_aws.collectors.cloudtrail:collect_trails"),
    C("kms", True, {
        "aws.kms.key": "customer-managed KMS keys and rotation status"},
      "posture_aws.collectors.kms:collect_keys"),
    C("logs", True, {
        "aws.logs.log_group": "CloudWatch log groups and retention"},
      "posture_aws.collectors.logs:collect_log_groups"),
    C("config", True, {
        "aws.config.recorder": "AWS Config recorder state (one fact per region)"},
      "posture_aws.collectors.config:collect_recorders"),
    C("guardduty", True, {
        "aws.guardduty.detector": "GuardDuty state (one fact per region)"},
      "posture_aws.collectors.guardduty:collect_detectors"),
    C("sns", True, {
        "aws.sns.topic": "SNS topics: encryption at rest"},
      "posture_aws.collectors.messaging:collect_topics"),
    C("sqs", True, {
        "aws.sqs.queue": "SQS queues: encryption at rest"},
      "posture_aws.collectors.messaging:collect_queues"),
    C("lambda", True, {
        "aws.lambda.function": "Lambda functions: runtime, names of secret-like environment variables"},
      "posture_aws.collectors.lambda_:collect_functions"),
    C("accessanalyzer", True, {
        "aws.accessanalyzer.region": "IAM Access Analyzer for external access (one fact per region)"},
      "posture_aws.collectors.governance:collect_access_analyzers"),
    C("securityhub", True, {
        "aws.securityhub.hub": "Security Hub enabled or not (one fact per region)"},
      "posture_aws.collectors.governance:collect_security_hub"),
    C("ec2_serial_console", True, {
        "aws.ec2.serial_console": "EC2 serial console access switch (one fact per region)"},
      "posture_aws.collectors.governance:collect_serial_console"),
    C("efs", True, {
        "aws.efs.file_system": "EFS file systems: encryption at rest"},
      "posture_aws.collectors.storage_extra:collect_file_systems"),
    C("secretsmanager", True, {
        "aws.secretsmanager.secret": "Secrets Manager secrets: rotation (never the value)"},
      "posture_aws.collectors.storage_extra:collect_secrets"),
    C("elbv2", True, {
        "aws.elbv2.listener": "ALB/NLB listeners: protocol, TLS policy"},
      "posture_aws.collectors.elb:collect_listeners"),
)

BY_NAME: dict[str, Collector] = {c.name: c for c in COLLECTORS}
FACT_TYPES: dict[str, str] = {ft: desc for c in COLLECTORS for ft, desc in c.fact_types.items()}
