"""KMS: customer-managed keys and their rotation status.

``ListAliases`` (one call) identifies AWS-managed keys (``alias/aws/...``), so
``DescribeKey``/``GetKeyRotationStatus`` run only for the others, concurrently.
"""

from __future__ import annotations

from typing import Any

from posture_aws.collectors import collector
from posture_aws.context import AwsContext, iso

FT = "aws.kms.key"


@collector("kms", level="region", facts={
    "aws.kms.key": 'customer-managed KMS keys and rotation status',
})
def collect_keys(ctx: AwsContext) -> None:
    with ctx.feeding(FT):
        kms = ctx.client("kms")
        aws_managed = {a["TargetKeyId"] for a in ctx.pages(kms, "list_aliases", "Aliases")
                       if a.get("AliasName", "").startswith("alias/aws/") and a.get("TargetKeyId")}
        keys = [k for k in ctx.pages(kms, "list_keys", "Keys") if k["KeyId"] not in aws_managed]

        def one(key: dict[str, Any]) -> dict[str, Any] | None:
            meta = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
            if meta.get("KeyManager") != "CUSTOMER" or meta.get("KeyState") == "PendingImport":
                return None
            rotatable = (meta.get("KeySpec", meta.get("CustomerMasterKeySpec")) == "SYMMETRIC_DEFAULT"
                         and meta.get("Origin") == "AWS_KMS")
            rotation: dict[str, Any] = {}
            # Disabling a key keeps its rotation status; only Enabled and Disabled keys can be asked.
            if rotatable and meta.get("KeyState") in ("Enabled", "Disabled"):
                rotation = kms.get_key_rotation_status(KeyId=key["KeyId"])
            elif rotatable:
                rotatable = False  # Unavailable, Creating, Updating, PendingReplicaDeletion: not assessable now
            return {"arn": meta["Arn"], "key_id": meta["KeyId"], "attrs": {
                "state": meta.get("KeyState"), "spec": meta.get("KeySpec"), "origin": meta.get("Origin"),
                "rotatable": rotatable,
                "rotation_enabled": bool(rotation.get("KeyRotationEnabled")),
                "rotation_period_days": rotation.get("RotationPeriodInDays",
                                                     365 if rotation.get("KeyRotationEnabled") else None),
                "created": iso(meta.get("CreationDate")),
                "pending_deletion": meta.get("KeyState") in ("PendingDeletion", "PendingReplicaDeletion"),
                "deletion_date": iso(meta.get("DeletionDate")),
            }}

        for _key, info, exc in ctx.parallel(one, keys):
            if exc is not None:
                raise exc
            if info:
                ctx.add(FT, info["arn"], info["key_id"], None, info["attrs"])
