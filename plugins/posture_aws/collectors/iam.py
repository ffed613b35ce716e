"""IAM: account-wide calls only (summary, credential report, authorization details)."""

from __future__ import annotations

import csv
import io
import json
import time
import urllib.parse
from typing import Any

from posture_aws.context import UnitContext
from posture_aws.errors import has_code

SUPPORT_POLICY = "arn:{partition}:iam::aws:policy/AWSSupportAccess"
REPORT_POLL_SECONDS = (1, 2, 2, 4, 4, 8, 8, 8, 8, 8)


def collect_summary(ctx: UnitContext) -> None:
    with ctx.collecting("aws.iam.root_account") as sink:
        summary = ctx.client("iam").get_account_summary()["SummaryMap"]
        sink.add(ctx.fact("aws.iam.root_account", f"arn:{ctx.partition}:iam::{ctx.account}:root", "root", {
            "mfa_enabled": bool(summary.get("AccountMFAEnabled", 0)),
            "access_keys_present": bool(summary.get("AccountAccessKeysPresent", 0)),
        }))


def collect_password_policy(ctx: UnitContext) -> None:
    with ctx.collecting("aws.iam.password_policy") as sink:
        try:
            policy = ctx.client("iam").get_account_password_policy()["PasswordPolicy"]
            exists = True
        except Exception as exc:
            if not has_code(exc, "NoSuchEntity"):
                raise
            policy, exists = {}, False
        sink.add(ctx.fact("aws.iam.password_policy", f"arn:{ctx.partition}:iam::{ctx.account}:password-policy",
                          "password-policy", {
            "exists": exists,
            "minimum_length": policy.get("MinimumPasswordLength", 0),
            "require_symbols": policy.get("RequireSymbols", False),
            "require_numbers": policy.get("RequireNumbers", False),
            "require_uppercase": policy.get("RequireUppercaseCharacters", False),
            "require_lowercase": policy.get("RequireLowercaseCharacters", False),
            "reuse_prevention": policy.get("PasswordReusePrevention", 0),
            "max_age_days": policy.get("MaxPasswordAge"),
        }))


def _report(ctx: UnitContext) -> str:
    """Generate (if needed) and fetch the credential report, polling politely."""
    iam = ctx.client("iam")
    for delay in (0, *REPORT_POLL_SECONDS):
        if delay:
            time.sleep(delay)
        if iam.generate_credential_report()["State"] == "COMPLETE":
            break
    content = iam.get_credential_report()["Content"]
    return content.decode("utf-8") if isinstance(content, bytes) else str(content)


def _when(value: str | None) -> str | None:
    """Credential-report timestamps: ``N/A`` / ``no_information`` / ``not_supported`` mean none."""
    if not value or value in ("N/A", "no_information", "not_supported"):
        return None
    return value.replace("Z", "+00:00") if value.endswith("Z") else value


def _user_attributes(row: dict[str, str]) -> dict[str, Any]:
    password_enabled = row.get("password_enabled") == "true"
    created = _when(row.get("user_creation_time"))
    keys = []
    for slot in (1, 2):
        active = row.get(f"access_key_{slot}_active") == "true"
        rotated = _when(row.get(f"access_key_{slot}_last_rotated"))
        if not active and rotated is None:
            continue
        used = _when(row.get(f"access_key_{slot}_last_used_date"))
        keys.append({"slot": slot, "active": active, "last_rotated": rotated, "last_used": used,
                     "last_activity": used or rotated})
    password_used = _when(row.get("password_last_used"))
    return {
        "created": created,
        "password_enabled": password_enabled,
        "password_last_used": password_used,
        "password_last_activity": (password_used or _when(row.get("password_last_changed")) or created)
        if password_enabled else None,
        "mfa_active": row.get("mfa_active") == "true",
        "access_keys": keys,
        "active_access_keys": sum(k["active"] for k in keys),
    }


def collect_users(ctx: UnitContext) -> None:
    with ctx.collecting("aws.iam.user") as sink:
        for row in csv.DictReader(io.StringIO(_report(ctx))):
            if row.get("user") == "<root_account>":
                continue
            sink.add(ctx.fact("aws.iam.user", row["arn"], row["user"], _user_attributes(row)))


def _document(doc: Any) -> dict[str, Any]:
    if isinstance(doc, str):
        doc = json.loads(urllib.parse.unquote(doc))
    return doc or {}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value is not None else []


AWS_ADMIN_POLICY = "arn:{partition}:iam::aws:policy/AdministratorAccess"


def allows_full_admin(doc: Any) -> bool:
    """An ``Allow`` of every action (``*`` / ``*:*``) on every resource."""
    for st in _as_list(_document(doc).get("Statement")):
        if st.get("Effect") != "Allow" or "NotAction" in st or "NotResource" in st:
            continue
        actions = {str(a) for a in _as_list(st.get("Action"))}
        resources = {str(r) for r in _as_list(st.get("Resource"))}
        if actions & {"*", "*:*"} and "*" in resources:
            return True
    return False


def collect_policies(ctx: UnitContext) -> None:
    with ctx.collecting("aws.iam.policy") as sink:
        iam = ctx.client("iam")
        details: dict[str, list[Any]] = {"Policies": [], "UserDetailList": [], "GroupDetailList": [],
                                         "RoleDetailList": []}
        for page in iam.get_paginator("get_account_authorization_details").paginate(
                Filter=["LocalManagedPolicy", "User", "Group", "Role"]):
            for key, items in details.items():
                items.extend(page.get(key, []))
        for pol in details["Policies"]:
            default = next((v for v in pol.get("PolicyVersionList", []) if v.get("IsDefaultVersion")), {})
            name = pol.get("PolicyName") or pol["Arn"].rsplit("/", 1)[-1]
            sink.add(ctx.fact("aws.iam.policy", pol["Arn"], name, {
                "kind": "managed",
                "attached": pol.get("AttachmentCount", 0) > 0,
                "attachment_count": pol.get("AttachmentCount", 0),
                "allows_full_admin": allows_full_admin(default.get("Document")),
            }))
        # AWS-managed policies are left out of the listing above (over a thousand documents); the one that
        # grants "*" on "*" is AdministratorAccess, so count who has it attached.
        admin_arn = AWS_ADMIN_POLICY.format(partition=ctx.partition)
        holders = [p for key in ("UserDetailList", "GroupDetailList", "RoleDetailList") for p in details[key]
                   if any(a.get("PolicyArn") == admin_arn for a in p.get("AttachedManagedPolicies") or [])]
        if holders:
            sink.add(ctx.fact("aws.iam.policy", admin_arn, "AdministratorAccess", {
                "kind": "aws-managed",
                "attached": True,
                "attachment_count": len(holders),
                "attached_to": sorted(p["Arn"] for p in holders),
                "allows_full_admin": True,
            }))
        for key, list_key, kind in (("UserDetailList", "UserPolicyList", "user"),
                                    ("GroupDetailList", "GroupPolicyList", "group"),
                                    ("RoleDetailList", "RolePolicyList", "role")):
            for principal in details[key]:
                for pol in principal.get(list_key, []) or []:
                    sink.add(ctx.fact("aws.iam.policy", f"{principal['Arn']}/inline-policy/{pol['PolicyName']}",
                                      f"{principal.get(kind.capitalize() + 'Name', '')}/{pol['PolicyName']}", {
                        "kind": f"inline-{kind}",
                        "attached": True,
                        "attachment_count": 1,
                        "allows_full_admin": allows_full_admin(pol.get("PolicyDocument")),
                    }))


def collect_support_access(ctx: UnitContext) -> None:
    with ctx.collecting("aws.iam.support_access") as sink:
        arn = SUPPORT_POLICY.format(partition=ctx.partition)
        roles = list(ctx.pages(ctx.client("iam"), "list_entities_for_policy", "PolicyRoles", PolicyArn=arn))
        sink.add(ctx.fact("aws.iam.support_access", f"arn:{ctx.partition}:iam::{ctx.account}:support-access",
                          "support-access", {
            "support_roles": sorted(r["RoleName"] for r in roles),
            "support_role_count": len(roles),
        }))
