"""S3: one global listing per account, then only the per-bucket calls the requested fact types need.

Per-bucket calls run concurrently on the provider's bounded pool, each against
the bucket's own region (``ListBuckets``' ``BucketRegion``; ``GetBucketLocation``
only when an endpoint omits it).
"""

from __future__ import annotations

import json
from typing import Any

from posture_aws.collectors import collector
from posture_aws.context import AwsContext, iso, tag_keys
from posture_aws.errors import has_code

ACCESS, POLICY, ENCRYPTION = "aws.s3.bucket_access", "aws.s3.bucket_policy", "aws.s3.bucket_encryption"
VERSIONING, LOGGING, TAGS = "aws.s3.bucket_versioning", "aws.s3.bucket_logging", "aws.s3.bucket_tags"
OWNERSHIP, REPLICATION = "aws.s3.bucket_ownership", "aws.s3.bucket_replication"
BUCKET_TYPES = (ACCESS, POLICY, ENCRYPTION, VERSIONING, LOGGING, TAGS, OWNERSHIP, REPLICATION)
ALL_USERS = ("http://acs.amazonaws.com/groups/global/AllUsers",
             "http://acs.amazonaws.com/groups/global/AuthenticatedUsers")
PAB_KEYS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
#: condition keys that can pin a ``Principal: *`` statement to known callers ("The meaning of public",
#: S3 Block Public Access): only with fixed values under a positive operator
RESTRICTING_KEYS = ("aws:sourcearn", "aws:sourceaccount", "aws:sourcevpce", "aws:sourcevpc", "aws:sourceip",
                    "aws:principalorgid", "aws:principalaccount", "aws:principalarn", "aws:sourceowner",
                    "aws:userid", "s3:dataaccesspointarn", "s3:dataaccesspointaccount")
#: operators that require the key to be present and equal to (one of) the values. ``...IfExists``,
#: negated operators, ``Null`` and ``ForAllValues:`` (true when the key is absent, as on an anonymous
#: request) never restrict.
POSITIVE_OPERATORS = ("stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike", "ipaddress")
#: a source-IP range wider than this is treated as public (posture's conservative choice)
MIN_IPV4_PREFIX, MIN_IPV6_PREFIX = 8, 32


def account_block(ctx: AwsContext) -> dict[str, bool]:
    """The account-wide Block Public Access settings (all false when none are configured)."""
    try:
        conf = ctx.client("s3control").get_public_access_block(AccountId=ctx.account)[
            "PublicAccessBlockConfiguration"]
    except Exception as exc:
        if not has_code(exc, "NoSuchPublicAccessBlockConfiguration"):
            raise
        conf = {}
    return {_snake(k): bool(conf.get(k, False)) for k in PAB_KEYS}


@collector("s3_account", level="account", facts={
    "aws.s3.account_public_access_block": 'account-level S3 Block Public Access',
})
def collect_account(ctx: AwsContext) -> None:
    ft = "aws.s3.account_public_access_block"
    with ctx.feeding(ft):
        attrs: dict[str, Any] = dict(account_block(ctx))
        attrs["all_blocked"] = all(attrs.values())
        ctx.add(ft, f"arn:{ctx.partition}:s3:::account/{ctx.account}", "s3-account-public-access-block", None,
                attrs)


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


def _region_of(ctx: AwsContext, bucket: dict[str, Any]) -> str:
    if bucket.get("BucketRegion"):
        return str(bucket["BucketRegion"])
    loc = ctx.client("s3").get_bucket_location(Bucket=bucket["Name"]).get("LocationConstraint")
    return {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(loc, loc)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value is not None else []


def _principal_is_public(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return any(p == "*" for v in principal.values() for p in _as_list(v))
    return False


def _fixed_value(key: str, value: Any) -> bool:
    """A value that names specific callers: no wildcard or policy variable; a narrow source-IP range."""
    text = str(value)
    if not text or any(c in text for c in "*?") or "${" in text:
        return False
    if key == "aws:sourceip":
        import ipaddress

        try:
            net = ipaddress.ip_network(text, strict=False)
        except ValueError:
            return False
        return net.prefixlen >= (MIN_IPV4_PREFIX if net.version == 4 else MIN_IPV6_PREFIX)
    return True


def _restricting(condition: dict[str, Any] | None) -> bool:
    """One condition (conditions are ANDed) that only fixed callers can satisfy restricts the statement."""
    for operator, body in (condition or {}).items():
        op = operator.lower()
        if op.startswith("foranyvalue:"):
            op = op.split(":", 1)[1]
        if op not in POSITIVE_OPERATORS or not isinstance(body, dict):
            continue
        for key, values in body.items():
            values = _as_list(values)
            if key.lower() in RESTRICTING_KEYS and values and all(_fixed_value(key.lower(), v) for v in values):
                return True
    return False


def policy_is_public(policy: dict[str, Any]) -> bool:
    """An ``Allow`` to everyone (``Principal: *``, or any ``NotPrincipal``) not pinned to fixed callers."""
    return any(st.get("Effect") == "Allow"
               and ("NotPrincipal" in st or _principal_is_public(st.get("Principal")))
               and not _restricting(st.get("Condition"))
               for st in _as_list(policy.get("Statement")))


def policy_denies_insecure_transport(policy: dict[str, Any]) -> bool:
    """A ``Deny`` for everyone when ``aws:SecureTransport`` is false."""
    for st in _as_list(policy.get("Statement")):
        if st.get("Effect") != "Deny" or not _principal_is_public(st.get("Principal")):
            continue
        actions = {str(a).lower() for a in _as_list(st.get("Action"))}
        if not actions & {"s3:*", "*"}:
            continue
        for op, body in (st.get("Condition") or {}).items():
            if op.lower() == "bool" and isinstance(body, dict):
                for key, val in body.items():
                    if key.lower() == "aws:securetransport" and str(_as_list(val)[0]).lower() == "false":
                        return True
    return False


class _Bucket:
    """The per-bucket calls, each made at most once and only if a wanted fact type needs it."""

    def __init__(self, ctx: AwsContext, bucket: dict[str, Any], account: dict[str, bool] | None = None) -> None:
        self.ctx = ctx
        #: account-wide Block Public Access; None when it could not be read (bucket settings alone then)
        self.account = account
        self.name = bucket["Name"]
        self.created = iso(bucket.get("CreationDate"))
        self.region = _region_of(ctx, bucket)
        self.s3 = ctx.client("s3", self.region)
        self._policy: dict[str, Any] | None = None

    def _get(self, method: str, missing: tuple[str, ...], **kwargs: Any) -> dict[str, Any] | None:
        try:
            return getattr(self.s3, method)(Bucket=self.name, **kwargs)
        except Exception as exc:
            if has_code(exc, *missing):
                return None
            raise

    def policy(self) -> dict[str, Any]:
        if self._policy is None:
            resp = self._get("get_bucket_policy", ("NoSuchBucketPolicy",))
            self._policy = json.loads(resp["Policy"]) if resp else {}
        return self._policy

    def access(self) -> dict[str, Any]:
        pab = self._get("get_public_access_block", ("NoSuchPublicAccessBlockConfiguration",))
        conf = (pab or {}).get("PublicAccessBlockConfiguration", {})
        acl = self.s3.get_bucket_acl(Bucket=self.name)
        public_grants = [g.get("Permission") for g in acl.get("Grants", [])
                         if g.get("Grantee", {}).get("URI") in ALL_USERS]
        block = {_snake(k): bool(conf.get(k, False)) for k in PAB_KEYS}
        # AWS applies the most restrictive combination of the bucket's and the account's settings.
        effective = {k: v or bool((self.account or {}).get(k)) for k, v in block.items()}
        acl_public = bool(public_grants) and not effective["ignore_public_acls"]
        policy_public = policy_is_public(self.policy()) and not effective["restrict_public_buckets"]
        return {"public_access_block": block, "public_access_block_all": all(block.values()),
                "effective_public_access_block": effective, "account_block_known": self.account is not None,
                "acl_public": acl_public, "acl_public_permissions": sorted(set(public_grants)),
                "policy_public": policy_public, "public": acl_public or policy_public}

    def tls(self) -> dict[str, Any]:
        policy = self.policy()
        return {"has_policy": bool(policy), "tls_only": policy_denies_insecure_transport(policy)}

    def encryption(self) -> dict[str, Any]:
        resp = self._get("get_bucket_encryption", ("ServerSideEncryptionConfigurationNotFoundError",))
        rules = (resp or {}).get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
        defaults = [r.get("ApplyServerSideEncryptionByDefault", {}) for r in rules]
        algos = [d.get("SSEAlgorithm") for d in defaults if d.get("SSEAlgorithm")]
        # SSE-KMS without a key id uses the AWS-managed key aws/s3; a named key other than that alias is the
        # customer's (its policy, rotation and revocation are theirs)
        key_ids = [d.get("KMSMasterKeyID") for d in defaults if d.get("SSEAlgorithm") in ("aws:kms", "aws:kms:dsse")]
        return {"enabled": bool(algos), "algorithm": algos[0] if algos else None,
                "kms_encrypted": any(a in ("aws:kms", "aws:kms:dsse") for a in algos),
                "kms_key_id": next((k for k in key_ids if k), None),
                "customer_managed_key": any(k and not str(k).endswith("alias/aws/s3") for k in key_ids)}

    def ownership(self) -> dict[str, Any]:
        resp = self._get("get_bucket_ownership_controls", ("OwnershipControlsNotFoundError",))
        rules = (resp or {}).get("OwnershipControls", {}).get("Rules", [])
        setting = rules[0].get("ObjectOwnership") if rules else None
        return {"object_ownership": setting, "acls_disabled": setting == "BucketOwnerEnforced"}

    def replication(self) -> dict[str, Any]:
        resp = self._get("get_bucket_replication", ("ReplicationConfigurationNotFoundError",))
        rules = (resp or {}).get("ReplicationConfiguration", {}).get("Rules", [])
        enabled = [r for r in rules if r.get("Status") == "Enabled"]
        return {"replication_enabled": bool(enabled),
                "destinations": sorted({r.get("Destination", {}).get("Bucket", "") for r in enabled} - {""})}

    def versioning(self) -> dict[str, Any]:
        resp = self.s3.get_bucket_versioning(Bucket=self.name)
        return {"status": resp.get("Status", "Disabled"), "enabled": resp.get("Status") == "Enabled",
                "mfa_delete": resp.get("MFADelete") == "Enabled"}

    def logging(self) -> dict[str, Any]:
        target = self.s3.get_bucket_logging(Bucket=self.name).get("LoggingEnabled") or {}
        return {"enabled": bool(target), "target_bucket": target.get("TargetBucket")}

    def tags(self) -> dict[str, Any]:
        resp = self._get("get_bucket_tagging", ("NoSuchTagSet", "NoSuchTagSetError"))
        return {"tag_keys": tag_keys((resp or {}).get("TagSet"))}


_READERS = {ACCESS: _Bucket.access, POLICY: _Bucket.tls, ENCRYPTION: _Bucket.encryption,
            VERSIONING: _Bucket.versioning, LOGGING: _Bucket.logging, TAGS: _Bucket.tags,
            OWNERSHIP: _Bucket.ownership, REPLICATION: _Bucket.replication}


@collector("s3_buckets", level="account", facts={
    "aws.s3.bucket_access": 'bucket public access block, ACL and policy publicness',
    "aws.s3.bucket_policy": 'bucket policy: TLS-only enforcement',
    "aws.s3.bucket_encryption": 'bucket default encryption',
    "aws.s3.bucket_versioning": 'bucket versioning and MFA delete',
    "aws.s3.bucket_logging": 'bucket server access logging',
    "aws.s3.bucket_tags": 'bucket tag keys',
    "aws.s3.bucket_ownership": 'bucket Object Ownership: whether ACLs are disabled',
    "aws.s3.bucket_replication": 'bucket replication rules (enabled, destination buckets)',
})
def collect_buckets(ctx: AwsContext) -> None:
    wanted = [ft for ft in BUCKET_TYPES if ctx.wants(ft)]
    try:
        buckets = list(ctx.pages(ctx.client("s3"), "list_buckets", "Buckets"))
    except Exception as exc:
        ctx.fail(wanted, exc)
        return

    account: dict[str, bool] | None = None
    if ACCESS in wanted and buckets:
        try:
            account = account_block(ctx)
        except Exception:  # noqa: BLE001 - without it, each bucket's own settings decide (never a false pass)
            account = None

    def one(bucket: dict[str, Any]) -> tuple[_Bucket | None, dict[str, Any]]:
        try:
            b = _Bucket(ctx, bucket, account)
        except Exception as exc:
            return None, {ft: exc for ft in wanted}
        out: dict[str, Any] = {}
        for ft in wanted:
            try:
                out[ft] = _READERS[ft](b)
            except Exception as exc:
                out[ft] = exc
        return b, out

    failed: set[str] = set()
    for bucket, result, _ in ctx.parallel(one, buckets):
        assert result is not None
        b, per_type = result
        region = b.region if b else "global"
        arn = f"arn:{ctx.partition}:s3:::{bucket['Name']}"
        for ft, value in per_type.items():
            if isinstance(value, BaseException):
                ctx.fail([ft], value, region=region, where=bucket["Name"])
                failed.add(ft)
            else:
                ctx.add(ft, arn, bucket["Name"], region, {"created": b.created if b else None, **value})
    ctx.covered([ft for ft in wanted if ft not in failed])
