"""Seed a moto account with a realistic mix of compliant and misconfigured resources.

Every seeded setting goes through the public AWS API, except what AWS offers
no API for and moto keeps in memory (an access key's creation date, backdated
to make one key "old", and the root user's MFA flag),, a secret's rotation
settings (moto's RotateSecret would run the rotation function in Docker), and
the settings of the read APIs moto lacks (posture_aws.testing.missing_apis). Planted
secrets (:data:`PLANTED_SECRETS`) sit in Lambda environment values, EC2 user
data and tag values; they must never reach a fact or a report.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from typing import Any

PLANTED_SECRETS = ("AKIAPLANTEDSECRET123", "hunter2-secret-value", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYPLANTED")
OWNER = [{"Key": "owner", "Value": "platform-team"}]


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("handler.py", "def handler(event, context):\n    return 'ok'\n")
    return buf.getvalue()


def _tls_only_policy(bucket: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]})


def _public_policy(bucket: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*"}]})


ADMIN_DOC = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
READ_DOC = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"],
                                                               "Resource": "arn:aws:s3:::acme-logs/*"}]})
TRUST_DOC = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                                "Principal": {"Service": "lambda.amazonaws.com"}}]})
#: everything but a few services, IAM included: full admin in two steps
NOT_ACTION_DOC = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "NotAction": ["organizations:*", "account:*"], "Resource": "*"}]})
VENDOR_ACCOUNT = "999988887777"


def _trust_account(account: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
        "Condition": {"StringEquals": {"sts:ExternalId": "vendor"}}}]})


class Seeder:
    """Seeds one account through a boto3 session (the moto server is reached via AWS_ENDPOINT_URL)."""

    def __init__(self, session: Any, account: str, regions: tuple[str, ...], scale: int = 1) -> None:
        self.session = session
        self.account = account
        self.regions = regions
        self.scale = max(1, scale)
        self.count = 0
        #: ids of the first copy of each seeded resource, for tests to find them
        self.ids: dict[str, str] = {}

    def remember(self, key: str, value: str) -> str:
        self.ids.setdefault(key, value)
        return value

    def c(self, service: str, region: str | None = None) -> Any:
        return self.session.client(service, region_name=region or self.regions[0])

    def _n(self, k: int = 1) -> None:
        self.count += k

    # -- the weak/mixed account (what `posture demo` and the benchmark scan) -------------
    def seed_mixed(self) -> int:
        self.iam_mixed()
        self.s3_buckets()
        for i, region in enumerate(self.regions):
            good = i == 0  # the first region has the regional services on, the others not
            self.regional_services(region, good)
            for n in range(self.scale):
                sfx = f"{n}" if self.scale > 1 else ""
                if good:
                    self.regional_resources(region, sfx)
                else:
                    self.leftovers(region, sfx)
        return self.count

    def iam_mixed(self) -> None:
        iam = self.c("iam")
        iam.update_account_password_policy(MinimumPasswordLength=8, RequireSymbols=False)
        users = ["alice", "bob", "ci-deployer", "legacy-batch", "svc-readonly"]
        for n in range(1, self.scale):
            users += [f"dev-{n}"]
        for u in users:
            iam.create_user(UserName=u, Tags=[{"Key": "api-token", "Value": PLANTED_SECRETS[0]}])
            self._n()
        iam.create_login_profile(UserName="alice", Password="Sup3r!Secret-pw")
        mfa = iam.create_virtual_mfa_device(VirtualMFADeviceName="alice")["VirtualMFADevice"]
        iam.enable_mfa_device(UserName="alice", SerialNumber=mfa["SerialNumber"],
                              AuthenticationCode1="123456", AuthenticationCode2="654321")
        iam.create_login_profile(UserName="bob", Password="Sup3r!Secret-pw")
        iam.create_access_key(UserName="ci-deployer")
        iam.create_access_key(UserName="legacy-batch")
        admin = iam.create_policy(PolicyName="AdminEverything", PolicyDocument=ADMIN_DOC)["Policy"]["Arn"]
        read = iam.create_policy(PolicyName="LogsReadOnly", PolicyDocument=READ_DOC)["Policy"]["Arn"]
        iam.attach_user_policy(UserName="bob", PolicyArn=admin)
        iam.attach_user_policy(UserName="ci-deployer", PolicyArn=read)
        iam.create_role(RoleName="lambda-exec", AssumeRolePolicyDocument=TRUST_DOC)
        iam.put_role_policy(RoleName="lambda-exec", PolicyName="inline-admin", PolicyDocument=ADMIN_DOC)
        iam.attach_role_policy(RoleName="lambda-exec", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
        # permissions through a group (alice) versus attached to the user (bob, ci-deployer)
        iam.create_group(GroupName="readers")
        iam.attach_group_policy(GroupName="readers", PolicyArn=read)
        iam.add_user_to_group(GroupName="readers", UserName="alice")
        # a NotAction allow that still grants IAM, attached to a batch role
        almost = iam.create_policy(PolicyName="AlmostEverything", PolicyDocument=NOT_ACTION_DOC)["Policy"]["Arn"]
        iam.create_role(RoleName="batch-runner", AssumeRolePolicyDocument=TRUST_DOC)
        iam.attach_role_policy(RoleName="batch-runner", PolicyArn=almost)
        # a vendor's account trusted as admin, and one trusted read-only
        iam.create_role(RoleName="vendor-admin", AssumeRolePolicyDocument=_trust_account(VENDOR_ACCOUNT))
        iam.attach_role_policy(RoleName="vendor-admin", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
        iam.create_role(RoleName="vendor-audit", AssumeRolePolicyDocument=_trust_account(VENDOR_ACCOUNT))
        iam.attach_role_policy(RoleName="vendor-audit", PolicyArn=read)
        iam.create_role(RoleName="report-builder", AssumeRolePolicyDocument=TRUST_DOC)
        iam.attach_role_policy(RoleName="report-builder", PolicyArn=read)
        iam.upload_server_certificate(ServerCertificateName="shop-2019", CertificateBody=_CERT_BODY,
                                      PrivateKey="not-a-real-key")
        self._n(10)
        age_access_key(self.account, "legacy-batch", days=400)
        set_root_access_keys(self.account, True)

    def s3_buckets(self) -> None:
        home, other = self.regions[0], self.regions[-1]
        for n in range(self.scale):
            sfx = f"-{n}" if self.scale > 1 else ""
            good, public, plain = f"acme-logs{sfx}", f"acme-public-site{sfx}", f"acme-data-eu{sfx}"
            self.remember("bucket_logs", good)
            s3 = self.c("s3", home)
            s3.create_bucket(Bucket=good)
            s3.put_public_access_block(Bucket=good, PublicAccessBlockConfiguration={
                "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True})
            cmk = self.c("kms", home).create_key(Description=f"s3-logs{sfx}")["KeyMetadata"]["Arn"]
            s3.put_bucket_encryption(Bucket=good, ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms",
                                                                  "KMSMasterKeyID": cmk}}]})
            s3.put_bucket_ownership_controls(Bucket=good, OwnershipControls={
                "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
            s3.put_bucket_versioning(Bucket=good, VersioningConfiguration={"Status": "Enabled"})
            s3.put_bucket_acl(Bucket=good, GrantWrite="uri=http://acs.amazonaws.com/groups/s3/LogDelivery",
                              GrantReadACP="uri=http://acs.amazonaws.com/groups/s3/LogDelivery")
            s3.put_bucket_logging(Bucket=good, BucketLoggingStatus={
                "LoggingEnabled": {"TargetBucket": good, "TargetPrefix": "self/"}})
            s3.put_bucket_policy(Bucket=good, Policy=_tls_only_policy(good))
            s3.put_bucket_tagging(Bucket=good, Tagging={"TagSet": OWNER})
            s3.create_bucket(Bucket=public)
            s3.put_bucket_acl(Bucket=public, ACL="public-read")
            s3.put_bucket_policy(Bucket=public, Policy=_public_policy(public))
            s3.put_bucket_tagging(Bucket=public, Tagging={"TagSet": [
                {"Key": "deploy-key", "Value": PLANTED_SECRETS[1]}]})
            s3o = self.c("s3", other)
            kwargs = {} if other == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": other}}
            s3o.create_bucket(Bucket=plain, **kwargs)
            # the logs bucket replicates to the bucket in the other region
            s3o.put_bucket_versioning(Bucket=plain, VersioningConfiguration={"Status": "Enabled"})
            s3.put_bucket_replication(Bucket=good, ReplicationConfiguration={
                "Role": f"arn:aws:iam::{self.account}:role/s3-replication",
                "Rules": [{"ID": "to-other-region", "Status": "Enabled", "Priority": 1,
                           "DeleteMarkerReplication": {"Status": "Disabled"}, "Filter": {"Prefix": ""},
                           "Destination": {"Bucket": f"arn:aws:s3:::{plain}"}}]})
            self._n(3)

    def regional_services(self, region: str, good: bool) -> None:
        if not good:
            from posture_aws.testing.missing_apis import region_state

            region_state(region)["serial_console"] = True
            return
        self.c("guardduty", region).create_detector(Enable=True)
        cfg = self.c("config", region)
        cfg.put_configuration_recorder(ConfigurationRecorder={
            "name": "default", "roleARN": f"arn:aws:iam::{self.account}:role/config",
            "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True}})
        cfg.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": self.ids["bucket_logs"]})
        cfg.start_configuration_recorder(ConfigurationRecorderName="default")
        self.c("ec2", region).enable_ebs_encryption_by_default()
        kms = self.c("kms", region)
        key = kms.create_key(Description="cloudtrail")["KeyMetadata"]["Arn"]
        ct = self.c("cloudtrail", region)
        ct.create_trail(Name="org-audit", S3BucketName=self.ids["bucket_logs"], IsMultiRegionTrail=True,
                        EnableLogFileValidation=True, KmsKeyId=key)
        ct.start_logging(Name="org-audit")
        # object-level logging of every bucket, reads and writes, next to all management events
        ct.put_event_selectors(TrailName="org-audit", EventSelectors=[{
            "ReadWriteType": "All", "IncludeManagementEvents": True,
            "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]}])
        ct.create_trail(Name="legacy-trail", S3BucketName=self.ids["bucket_logs"])
        self.c("securityhub", region).enable_security_hub()
        # settings moto has no API for, answered by posture_aws.testing.missing_apis: an external-access analyzer in the
        # first region only; serial console access left on and snapshot sharing unblocked in the others
        from posture_aws.testing.missing_apis import region_state

        region_state(region)["analyzers"] = ["external-access"]
        self._n(7)

    def regional_resources(self, region: str, sfx: str) -> None:
        ec2 = self.c("ec2", region)
        d = f"-{sfx}" if sfx else ""
        # network: a logged VPC with a clean default group, and the default VPC as AWS leaves it
        vpc = self.remember("vpc_logged", ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"])
        default_vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
        self.remember("vpc_default", default_vpc)
        self.remember("sg_default_untouched", ec2.describe_security_groups(Filters=[
            {"Name": "vpc-id", "Values": [default_vpc]}, {"Name": "group-name", "Values": ["default"]}])[
            "SecurityGroups"][0]["GroupId"])
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24")["Subnet"]["SubnetId"]
        self._flow_log(region, vpc)
        sg_default = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]},
                                                           {"Name": "group-name", "Values": ["default"]}])
        for g in sg_default["SecurityGroups"]:
            self.remember("sg_default_clean", g["GroupId"])
            if g["IpPermissions"]:
                ec2.revoke_security_group_ingress(GroupId=g["GroupId"], IpPermissions=g["IpPermissions"])
            if g["IpPermissionsEgress"]:
                ec2.revoke_security_group_egress(GroupId=g["GroupId"], IpPermissions=g["IpPermissionsEgress"])
        ssh = self.remember("sg_ssh", ec2.create_security_group(
            GroupName=f"open-ssh{d}", Description="ssh from anywhere", VpcId=vpc)["GroupId"])
        ec2.authorize_security_group_ingress(GroupId=ssh, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        rdp = self.remember("sg_rdp_range_v6", ec2.create_security_group(
            GroupName=f"rdp-range-v6{d}", Description="wide range", VpcId=vpc)["GroupId"])
        ec2.authorize_security_group_ingress(GroupId=rdp, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 3000, "ToPort": 4000, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}])
        # a network ACL that denies SSH/RDP from anywhere before allowing the rest
        acl = self.remember("nacl_guarded", ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"])
        for rule, port in ((50, 22), (60, 3389)):
            ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=rule, Protocol="6", RuleAction="deny",
                                         Egress=False, CidrBlock="0.0.0.0/0", PortRange={"From": port, "To": port})
        ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=100, Protocol="-1", RuleAction="allow",
                                     Egress=False, CidrBlock="0.0.0.0/0")
        self.remember("nacl_default", ec2.describe_network_acls(Filters=[
            {"Name": "vpc-id", "Values": [vpc]}, {"Name": "default", "Values": ["true"]}])["NetworkAcls"][0][
            "NetworkAclId"])
        web = self.remember("sg_web", ec2.create_security_group(
            GroupName=f"web-https{d}", Description="https", VpcId=vpc)["GroupId"])
        ec2.authorize_security_group_ingress(GroupId=web, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])
        self._n(5)
        # compute
        ami = ec2.describe_images(Owners=["amazon"], MaxResults=5)["Images"][0]["ImageId"]
        web1 = ec2.run_instances(
            ImageId=ami, MinCount=1, MaxCount=1, InstanceType="t3.micro",
            UserData=f"#!/bin/sh\nexport AWS_ACCESS_KEY_ID={PLANTED_SECRETS[0]}\nexport DB_PASSWORD={PLANTED_SECRETS[1]}\n",
            NetworkInterfaces=[{"DeviceIndex": 0, "SubnetId": subnet, "AssociatePublicIpAddress": True,
                                "Groups": [ssh]}],
            MetadataOptions={"HttpTokens": "optional"},
            TagSpecifications=[{"ResourceType": "instance", "Tags": [
                {"Key": "Name", "Value": f"web-1{d}"}, {"Key": "db-password", "Value": PLANTED_SECRETS[1]}]}],
        )["Instances"][0]["InstanceId"]
        app1 = ec2.run_instances(
            ImageId=ami, MinCount=1, MaxCount=1, InstanceType="t3.micro", SubnetId=subnet,
            IamInstanceProfile={"Name": self._instance_profile()},
            MetadataOptions={"HttpTokens": "required", "HttpEndpoint": "enabled"},
            TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": f"app-1{d}"}, *OWNER]}],
        )["Instances"][0]["InstanceId"]
        eip = self.remember("eip_associated", ec2.allocate_address(Domain="vpc")["AllocationId"])
        ec2.associate_address(AllocationId=eip, InstanceId=web1)
        self.remember("eip_free", ec2.allocate_address(Domain="vpc")["AllocationId"])
        self._n(4)
        # storage
        az = f"{region}a"
        enc = ec2.create_volume(AvailabilityZone=az, Size=8, Encrypted=True, TagSpecifications=[
            {"ResourceType": "volume", "Tags": OWNER}])["VolumeId"]
        plain = ec2.create_volume(AvailabilityZone=az, Size=8, Encrypted=False)["VolumeId"]
        self.remember("vol_encrypted", enc)
        self.remember("vol_plain", plain)
        ec2.attach_volume(VolumeId=enc, InstanceId=app1, Device="/dev/sdf")
        self.remember("snap_private", ec2.create_snapshot(VolumeId=enc, Description="encrypted private")["SnapshotId"])
        pub = ec2.create_snapshot(VolumeId=plain, Description="plain public")["SnapshotId"]
        self.remember("snap_public", pub)
        ec2.modify_snapshot_attribute(SnapshotId=pub, Attribute="createVolumePermission",
                                      OperationType="add", GroupNames=["all"])
        img_private = ec2.create_image(InstanceId=app1, Name=f"app-golden{d}")["ImageId"]
        img_public = ec2.create_image(InstanceId=web1, Name=f"web-public{d}")["ImageId"]
        ec2.modify_image_attribute(ImageId=img_public, LaunchPermission={"Add": [{"Group": "all"}]})
        self.remember("img_private", img_private)
        self.remember("img_public", img_public)
        self._n(6)
        self._databases(region, d)
        self._data_services(region, d, vpc, subnet)

    def _instance_profile(self) -> str:
        if "instance_profile" not in self.ids:
            iam = self.c("iam")
            iam.create_instance_profile(InstanceProfileName="app-instance")
            self.remember("instance_profile", "app-instance")
        return self.ids["instance_profile"]

    def leftovers(self, region: str, sfx: str) -> None:
        """A secondary region: a forgotten group, volume and log group."""
        d = f"-{sfx}" if sfx else ""
        ec2 = self.c("ec2", region)
        sg = self.remember("sg_all_traffic", ec2.create_security_group(
            GroupName=f"temp-ssh{d}", Description="temporary")["GroupId"])
        ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[
            {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        ec2.create_volume(AvailabilityZone=f"{region}a", Size=4, Encrypted=False)
        self.c("logs", region).create_log_group(logGroupName=f"/tmp/scratch{d}")
        self._n(3)

    def _flow_log(self, region: str, vpc: str) -> None:
        self.c("logs", region).create_log_group(logGroupName=f"/vpc/flow/{vpc}")
        self.c("ec2", region).create_flow_logs(
            ResourceIds=[vpc], ResourceType="VPC", TrafficType="ALL", LogGroupName=f"/vpc/flow/{vpc}",
            DeliverLogsPermissionArn=f"arn:aws:iam::{self.account}:role/flow-logs")
        self.c("logs", region).put_retention_policy(logGroupName=f"/vpc/flow/{vpc}", retentionInDays=365)

    def _databases(self, region: str, d: str) -> None:
        rds = self.c("rds", region)
        rds.create_db_instance(DBInstanceIdentifier=f"orders-db{d}", DBInstanceClass="db.t3.micro",
                               Engine="postgres", MasterUsername="admin", MasterUserPassword=PLANTED_SECRETS[1],
                               AllocatedStorage=20, PubliclyAccessible=True, StorageEncrypted=False,
                               BackupRetentionPeriod=0, AutoMinorVersionUpgrade=False)
        rds.create_db_instance(DBInstanceIdentifier=f"billing-db{d}", DBInstanceClass="db.t3.micro",
                               Engine="postgres", MasterUsername="admin", MasterUserPassword=PLANTED_SECRETS[1],
                               AllocatedStorage=20, PubliclyAccessible=False, StorageEncrypted=True,
                               BackupRetentionPeriod=14, DeletionProtection=True, AutoMinorVersionUpgrade=True,
                               EnableCloudwatchLogsExports=["postgresql"], Tags=OWNER)
        # Aurora keeps deletion protection and backups on the cluster; its member instances carry neither.
        rds.create_db_cluster(DBClusterIdentifier=f"ledger{d}", Engine="aurora-postgresql", MasterUsername="admin",
                              MasterUserPassword=PLANTED_SECRETS[1], StorageEncrypted=True,
                              BackupRetentionPeriod=14, DeletionProtection=True, Tags=OWNER)
        rds.create_db_instance(DBInstanceIdentifier=f"ledger-1{d}", DBInstanceClass="db.r6g.large",
                               Engine="aurora-postgresql", DBClusterIdentifier=f"ledger{d}",
                               PubliclyAccessible=False, AutoMinorVersionUpgrade=True, Tags=OWNER)
        self._n(4)

    def _data_services(self, region: str, d: str, vpc: str, subnet: str) -> None:
        kms = self.c("kms", region)
        rotated = kms.create_key(Description=f"rotated{d}")["KeyMetadata"]["KeyId"]
        kms.enable_key_rotation(KeyId=rotated)
        self.remember("key_rotated", rotated)
        self.remember("key_not_rotated", kms.create_key(Description=f"not-rotated{d}")["KeyMetadata"]["KeyId"])
        parked = kms.create_key(Description=f"parked{d}")["KeyMetadata"]["KeyId"]
        kms.enable_key_rotation(KeyId=parked)
        kms.disable_key(KeyId=parked)  # disabling keeps the rotation setting
        self.remember("key_disabled_rotated", parked)
        doomed = kms.create_key(Description=f"doomed{d}")["KeyMetadata"]["KeyId"]
        kms.schedule_key_deletion(KeyId=doomed, PendingWindowInDays=7)
        self.remember("key_pending_deletion", doomed)
        efs = self.c("efs", region)
        self.remember("efs_encrypted", efs.create_file_system(
            CreationToken=f"shared-enc{d}", Encrypted=True, Tags=[{"Key": "Name", "Value": f"shared-enc{d}"}])[
            "FileSystemId"])
        self.remember("efs_plain", efs.create_file_system(
            CreationToken=f"scratch-plain{d}", Tags=[{"Key": "Name", "Value": f"scratch-plain{d}"}])["FileSystemId"])

        logs = self.c("logs", region)
        logs.create_log_group(logGroupName=f"/app/audit{d}")
        logs.put_retention_policy(logGroupName=f"/app/audit{d}", retentionInDays=400)
        logs.create_log_group(logGroupName=f"/app/debug{d}")
        logs.put_retention_policy(logGroupName=f"/app/debug{d}", retentionInDays=7)
        sns = self.c("sns", region)
        sns.create_topic(Name=f"alerts{d}", Attributes={"KmsMasterKeyId": "alias/aws/sns"})
        sns.create_topic(Name=f"events-plain{d}")
        sqs = self.c("sqs", region)
        sqs.create_queue(QueueName=f"jobs-encrypted{d}", Attributes={"SqsManagedSseEnabled": "true"})
        sqs.create_queue(QueueName=f"jobs-plain{d}", Attributes={"SqsManagedSseEnabled": "false"})
        lam = self.c("lambda", region)
        role = f"arn:aws:iam::{self.account}:role/lambda-exec"
        lam.create_function(FunctionName=f"api-handler{d}", Runtime="python3.12", Role=role, Handler="handler.handler",
                            Code={"ZipFile": _zip()}, Environment={"Variables": {"LOG_LEVEL": "info"}})
        lam.create_function(FunctionName=f"legacy-export{d}", Runtime="python3.8", Role=role,
                            Handler="handler.handler", Code={"ZipFile": _zip()},
                            Environment={"Variables": {"DB_PASSWORD": PLANTED_SECRETS[1],
                                                       "UPSTREAM_KEY_ID": PLANTED_SECRETS[0],
                                                       "STAGE": "prod"}})
        rotator = lam.create_function(FunctionName=f"secret-rotator{d}", Runtime="python3.12", Role=role,
                                      Handler="handler.handler", Code={"ZipFile": _zip()})["FunctionArn"]
        sm = self.c("secretsmanager", region)
        sm.create_secret(Name=f"db-rotated{d}", SecretString=PLANTED_SECRETS[2])
        set_secret_rotation(self.account, region, f"db-rotated{d}", rotator, days=30)
        sm.create_secret(Name=f"api-static{d}", SecretString=PLANTED_SECRETS[1])
        self._n(17)
        self._load_balancer(region, d, vpc, subnet)

    def _load_balancer(self, region: str, d: str, vpc: str, subnet: str) -> None:
        ec2 = self.c("ec2", region)
        subnet2 = ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{2 + len(d)}.0/24",
                                    AvailabilityZone=f"{region}b")["Subnet"]["SubnetId"]
        elb = self.c("elbv2", region)
        lb = elb.create_load_balancer(Name=f"shop-alb{d}", Subnets=[subnet, subnet2], Scheme="internet-facing",
                                      Type="application")["LoadBalancers"][0]
        tg = elb.create_target_group(Name=f"shop-tg{d}", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]
        cert = self.c("acm", region).request_certificate(DomainName=f"shop{d}.example.com")["CertificateArn"]
        forward = [{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}]
        elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80, DefaultActions=forward)
        # an internet-facing ALB behind AWS WAF (shop-alb has none)
        api = elb.create_load_balancer(Name=f"api-alb{d}", Subnets=[subnet, subnet2], Scheme="internet-facing",
                                       Type="application")["LoadBalancers"][0]
        waf = self.c("wafv2", region)
        acl = waf.create_web_acl(Name=f"edge{d}", Scope="REGIONAL", DefaultAction={"Allow": {}}, Rules=[],
                                 VisibilityConfig={"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True,
                                                   "MetricName": f"edge{d}"})["Summary"]["ARN"]
        waf.associate_web_acl(WebACLArn=acl, ResourceArn=api["LoadBalancerArn"])
        elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTPS", Port=443,
                            SslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06", Certificates=[{"CertificateArn": cert}],
                            DefaultActions=forward)
        elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTPS", Port=8443,
                            SslPolicy="ELBSecurityPolicy-2016-08", Certificates=[{"CertificateArn": cert}],
                            DefaultActions=forward)
        self._n(6)

    # -- a hardened account: the account-level settings done right ----------------------
    def seed_hardened(self) -> int:
        iam = self.c("iam")
        iam.update_account_password_policy(
            MinimumPasswordLength=16, RequireSymbols=True, RequireNumbers=True, RequireUppercaseCharacters=True,
            RequireLowercaseCharacters=True, PasswordReusePrevention=24)
        iam.create_role(RoleName="incident-support", AssumeRolePolicyDocument=TRUST_DOC)
        iam.attach_role_policy(RoleName="incident-support", PolicyArn="arn:aws:iam::aws:policy/AWSSupportAccess")
        from posture_aws.sessions import _strip_account_host_label

        s3control = self.c("s3control")
        s3control.meta.events.register("before-sign.s3-control", _strip_account_host_label)
        s3control.put_public_access_block(AccountId=self.account, PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True})
        set_root_mfa(self.account, True)
        self._n(4)
        return self.count


#: a self-signed certificate's body (no private key is stored: IAM keeps it, posture never reads either)
_CERT_BODY = """-----BEGIN CERTIFICATE-----
MIIBkTCB+wIJAKHBfpegPjMCMA0GCSqGSIb3DQEBCwUAMBExDzANBgNVBAMMBnVu
dXNlZDAeFw0xOTAxMDEwMDAwMDBaFw0yMDAxMDEwMDAwMDBaMBExDzANBgNVBAMM
BnVudXNlZDBcMA0GCSqGSIb3DQEBAQUAA0sAMEgCQQC7o96WqwZMnk9oA4QxAhbW
-----END CERTIFICATE-----"""


def _iam_backend(account: str) -> Any:
    from moto.iam.models import iam_backends

    return iam_backends[account]["aws"]


def age_access_key(account: str, user: str, days: int) -> None:
    """Backdate a user's access keys in the in-process moto backend (AWS has no API for this)."""
    for key in _iam_backend(account).get_user(user).access_keys:
        key.create_date = key.create_date - timedelta(days=days)


def set_root_access_keys(account: str, present: bool) -> None:
    """moto cannot create root access keys through the API; set the summary flag directly."""
    _iam_backend(account).account_summary._account_access_keys_present = int(present)


def set_secret_rotation(account: str, region: str, name: str, function_arn: str, days: int) -> None:
    """moto's RotateSecret runs the rotation function in Docker; record what it would set."""
    from moto.secretsmanager.models import secretsmanager_backends

    secret = secretsmanager_backends[account][region].secrets[name]
    secret.rotation_requested = True
    secret.rotation_enabled, secret.rotation_lambda_arn, secret.auto_rotate_after_days = True, function_arn, days


def set_root_mfa(account: str, enabled: bool) -> None:
    """moto has no API to give the root user an MFA device; set the summary flag directly."""
    _iam_backend(account).account_summary._account_mfa_enabled = int(enabled)
