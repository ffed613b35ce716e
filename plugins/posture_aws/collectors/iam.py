"""IAM: account-wide calls only (summary, credential report, authorization details)."""

from __future__ import annotations

import csv
import io
import json
import time
import urllib.parse
from typing import Any

from posture_aws.collectors import collector
from posture_aws.context import AwsContext, iso
from posture_aws.errors import has_code

SUPPORT_POLICY = "arn:{partition}:iam::aws:policy/AWSSupportAccess"
REPORT_POLL_SECONDS = (1, 2, 2, 4, 4, 8, 8, 8, 8, 8)


@collector("iam_summary", level="account", facts={
    "aws.iam.root_account": 'root user MFA and access keys (GetAccountSummary)',
})
def collect_summary(ctx: AwsContext) -> None:
    with ctx.feeding("aws.iam.root_account"):
        summary = ctx.client("iam").get_account_summary()["SummaryMap"]
        ctx.add("aws.iam.root_account", f"arn:{ctx.partition}:iam::{ctx.account}:root", "root", None, {
            "mfa_enabled": bool(summary.get("AccountMFAEnabled", 0)),
            "access_keys_present": bool(summary.get("AccountAccessKeysPresent", 0)),
            # a member account whose root credentials the organization manages centrally (posture --org
            # asks the management account once): its root user has no password to protect with MFA
            "root_managed_centrally": bool(ctx.unit.option("root_managed_centrally", False)),
        })


@collector("iam_password_policy", level="account", facts={
    "aws.iam.password_policy": 'account password policy',
})
def collect_password_policy(ctx: AwsContext) -> None:
    with ctx.feeding("aws.iam.password_policy"):
        try:
            policy = ctx.client("iam").get_account_password_policy()["PasswordPolicy"]
            exists = True
        except Exception as exc:
            if not has_code(exc, "NoSuchEntity"):
                raise
            policy, exists = {}, False
        ctx.add("aws.iam.password_policy", f"arn:{ctx.partition}:iam::{ctx.account}:password-policy",
                "password-policy", None, {
            "exists": exists,
            "minimum_length": policy.get("MinimumPasswordLength", 0),
            "require_symbols": policy.get("RequireSymbols", False),
            "require_numbers": policy.get("RequireNumbers", False),
            "require_uppercase": policy.get("RequireUppercaseCharacters", False),
            "require_lowercase": policy.get("RequireLowercaseCharacters", False),
            "reuse_prevention": policy.get("PasswordReusePrevention", 0),
            "max_age_days": policy.get("MaxPasswordAge"),
        })


def _report(ctx: AwsContext) -> str:
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


@collector("iam_credential_report", level="account", facts={
    "aws.iam.user": 'IAM users: console password, MFA, access-key age and last use (credential report)',
})
def collect_users(ctx: AwsContext) -> None:
    with ctx.feeding("aws.iam.user"):
        for row in csv.DictReader(io.StringIO(_report(ctx))):
            if row.get("user") == "<root_account>":
                continue
            ctx.add("aws.iam.user", row["arn"], row["user"], None, _user_attributes(row))


def _document(doc: Any) -> dict[str, Any]:
    if isinstance(doc, str):
        doc = json.loads(urllib.parse.unquote(doc))
    return doc or {}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value is not None else []


AWS_ADMIN_POLICY = "arn:{partition}:iam::aws:policy/AdministratorAccess"


#: NotAction patterns that withhold IAM itself: without them a NotAction allow can grant itself anything
IAM_WITHHELD = {"*", "*:*", "iam:*", "iam:*:*"}


def admin_statements(doc: Any) -> list[str]:
    """Why a policy document amounts to full administrative access, one reason per statement.

    - ``Allow`` of every action (``*`` / ``*:*``) on every resource;
    - ``Allow`` of every action with ``NotResource``: everything except a few resources;
    - ``Allow`` with ``NotAction`` on every resource (or with ``NotResource``) that does not withhold
      IAM (``iam:*``): it can create a policy granting ``*`` and attach it, so it is full admin in two
      steps (PowerUserAccess-style statements withholding ``iam:*`` are not).
    Conditions are not weighed: a conditional admin grant is still an admin grant to review.
    """
    reasons = []
    for st in _as_list(_document(doc).get("Statement")):
        if st.get("Effect") != "Allow":
            continue
        actions = {str(a).lower() for a in _as_list(st.get("Action"))}
        resources = {str(r) for r in _as_list(st.get("Resource"))}
        every_resource = "*" in resources or "NotResource" in st
        if actions & {"*", "*:*"} and "*" in resources:
            reasons.append("Action * on Resource *")
        elif actions & {"*", "*:*"} and "NotResource" in st:
            reasons.append("Action * on NotResource (every resource but a few)")
        elif "NotAction" in st and every_resource:
            withheld = {str(a).lower() for a in _as_list(st.get("NotAction"))}
            if not withheld & IAM_WITHHELD:
                reasons.append("NotAction that does not withhold iam:* (can grant itself anything)")
    return reasons


def allows_full_admin(doc: Any) -> bool:
    """Full administrative access, directly or through NotAction / NotResource (see admin_statements)."""
    return bool(admin_statements(doc))


POLICY, PRINCIPAL, SERVER_CERT = "aws.iam.policy", "aws.iam.principal", "aws.iam.server_certificate"
#: AWS-managed policies as broad as a primitive owner / editor role
BROAD_MANAGED = ("AdministratorAccess", "PowerUserAccess", "IAMFullAccess")


def _trust(doc: Any, account: str, management: str | None) -> dict[str, Any]:
    """Who may assume a role: other AWS accounts (outside this account and the organization's management
    account), everyone (``*``), services, federated providers."""
    accounts, services, federated, everyone = set(), set(), set(), False
    for st in _as_list(_document(doc).get("Statement")):
        if st.get("Effect") != "Allow":
            continue
        principal = st.get("Principal")
        if principal == "*":
            everyone = True
            continue
        for aws in _as_list((principal or {}).get("AWS")):
            text = str(aws)
            if text == "*":
                everyone = True
            elif text.isdigit():
                accounts.add(text)
            elif text.startswith("arn:") and len(text.split(":")) > 4:
                accounts.add(text.split(":")[4])
        services.update(str(x) for x in _as_list((principal or {}).get("Service")))
        federated.update(str(x) for x in _as_list((principal or {}).get("Federated")))
    external = sorted(a for a in accounts if a not in (account, management))
    return {"trusted_accounts_external": external, "trusts_everyone": everyone,
            "trusted_services": sorted(services), "trusted_federated": sorted(federated)}


def _management_account(ctx: AwsContext) -> str | None:
    """The organization's management account (trusting it is not trusting an outsider); None outside one."""
    try:
        return ctx.client("organizations").describe_organization()["Organization"].get("MasterAccountId")
    except Exception:  # noqa: BLE001 - not in an organization, or not allowed to ask: every other account is external
        return None


def _principals(ctx: AwsContext, details: dict[str, list[Any]], admin_policies: set[str]) -> None:
    """One fact per user, group and role: how it gets permissions and whether they amount to admin."""
    groups = {g["GroupName"]: g for g in details["GroupDetailList"]}
    management = _management_account(ctx) if details["RoleDetailList"] else None

    def grants(p: dict[str, Any], inline_key: str) -> tuple[list[str], list[str], bool]:
        attached = [a["PolicyArn"] for a in p.get("AttachedManagedPolicies") or []]
        inline = p.get(inline_key) or []
        admin = any(a in admin_policies for a in attached) or any(
            allows_full_admin(i.get("PolicyDocument")) for i in inline)
        return attached, [i["PolicyName"] for i in inline], admin

    for kind, key, inline_key, name_key in (("user", "UserDetailList", "UserPolicyList", "UserName"),
                                            ("group", "GroupDetailList", "GroupPolicyList", "GroupName"),
                                            ("role", "RoleDetailList", "RolePolicyList", "RoleName")):
        for p in details[key]:
            attached, inline, admin = grants(p, inline_key)
            attrs: dict[str, Any] = {
                "kind": kind, "path": p.get("Path", "/"),
                "attached_policies": sorted(a.rsplit("/", 1)[-1] for a in attached),
                "inline_policies": sorted(inline),
                "direct_policies": bool(attached or inline),
            }
            via_groups = [groups[g] for g in p.get("GroupList") or [] if g in groups]
            group_admin = any(grants(g, "GroupPolicyList")[2] for g in via_groups)
            broad = sorted({a.rsplit("/", 1)[-1] for a in attached if a.startswith(f"arn:{ctx.partition}:iam::aws:")
                            and a.rsplit("/", 1)[-1] in BROAD_MANAGED}
                           | {a.rsplit("/", 1)[-1] for g in via_groups for a in
                              (x["PolicyArn"] for x in g.get("AttachedManagedPolicies") or [])
                              if a.startswith(f"arn:{ctx.partition}:iam::aws:") and a.rsplit("/", 1)[-1] in BROAD_MANAGED})
            attrs.update({"groups": sorted(p.get("GroupList") or []), "admin": admin or group_admin,
                          "broad_managed_policies": broad})
            if kind == "role":
                attrs.update(_trust(p.get("AssumeRolePolicyDocument"), ctx.account, management))
                attrs["service_linked"] = attrs["path"].startswith("/aws-service-role/")
                attrs["workload"] = bool(attrs["trusted_services"]) and not attrs["service_linked"]
            ctx.add(PRINCIPAL, p["Arn"], f"{kind}/{p[name_key]}", None, attrs)


@collector("iam_policies", level="account", facts={
    "aws.iam.policy": 'customer-managed and inline IAM policies (GetAccountAuthorizationDetails)',
    "aws.iam.principal": 'IAM users, groups and roles: direct policies, admin access, role trust (same listing)',
})
def collect_policies(ctx: AwsContext) -> None:
    """``GetAccountAuthorizationDetails`` (paginated) feeds both policies and principals."""
    wanted = [ft for ft in (POLICY, PRINCIPAL) if ctx.wants(ft)]
    with ctx.feeding(*wanted):
        iam = ctx.client("iam")
        details: dict[str, list[Any]] = {"Policies": [], "UserDetailList": [], "GroupDetailList": [],
                                         "RoleDetailList": []}
        for page in iam.get_paginator("get_account_authorization_details").paginate(
                Filter=["LocalManagedPolicy", "User", "Group", "Role"]):
            for key, items in details.items():
                items.extend(page.get(key, []))
        admin_policies = {AWS_ADMIN_POLICY.format(partition=ctx.partition)}
        for pol in details["Policies"]:
            default = next((v for v in pol.get("PolicyVersionList", []) if v.get("IsDefaultVersion")), {})
            if allows_full_admin(default.get("Document")):
                admin_policies.add(pol["Arn"])
        if PRINCIPAL in wanted:
            _principals(ctx, details, admin_policies)
        if POLICY in wanted:
            _policy_facts(ctx, details)


def _policy_facts(ctx: AwsContext, details: dict[str, list[Any]]) -> None:
    for pol in details["Policies"]:
        default = next((v for v in pol.get("PolicyVersionList", []) if v.get("IsDefaultVersion")), {})
        name = pol.get("PolicyName") or pol["Arn"].rsplit("/", 1)[-1]
        ctx.add("aws.iam.policy", pol["Arn"], name, None, {
            "kind": "managed",
            "attached": pol.get("AttachmentCount", 0) > 0,
            "attachment_count": pol.get("AttachmentCount", 0),
            "allows_full_admin": allows_full_admin(default.get("Document")),
            "admin_reasons": admin_statements(default.get("Document")),
        })
    # AWS-managed policies are left out of the listing above (over a thousand documents); the one that
    # grants "*" on "*" is AdministratorAccess, so count who has it attached.
    admin_arn = AWS_ADMIN_POLICY.format(partition=ctx.partition)
    holders = [p for key in ("UserDetailList", "GroupDetailList", "RoleDetailList") for p in details[key]
               if any(a.get("PolicyArn") == admin_arn for a in p.get("AttachedManagedPolicies") or [])]
    if holders:
        ctx.add("aws.iam.policy", admin_arn, "AdministratorAccess", None, {
            "kind": "aws-managed",
            "attached": True,
            "attachment_count": len(holders),
            "attached_to": sorted(p["Arn"] for p in holders),
            "allows_full_admin": True,
        })
    for key, list_key, kind in (("UserDetailList", "UserPolicyList", "user"),
                                ("GroupDetailList", "GroupPolicyList", "group"),
                                ("RoleDetailList", "RolePolicyList", "role")):
        for principal in details[key]:
            for pol in principal.get(list_key, []) or []:
                ctx.add("aws.iam.policy", f"{principal['Arn']}/inline-policy/{pol['PolicyName']}",
                        f"{principal.get(kind.capitalize() + 'Name', '')}/{pol['PolicyName']}", None, {
                    "kind": f"inline-{kind}",
                    "attached": True,
                    "attachment_count": 1,
                    "allows_full_admin": allows_full_admin(pol.get("PolicyDocument")),
                    "admin_reasons": admin_statements(pol.get("PolicyDocument")),
                })


@collector("iam_server_certificates", level="account", facts={
    "aws.iam.server_certificate": 'TLS certificates stored in IAM: expiry (ListServerCertificates)',
})
def collect_server_certificates(ctx: AwsContext) -> None:
    """``ListServerCertificates`` (paginated): metadata only, never the certificate body or key."""
    from datetime import UTC, datetime

    with ctx.feeding(SERVER_CERT):
        now = datetime.now(UTC)
        for cert in ctx.pages(ctx.client("iam"), "list_server_certificates", "ServerCertificateMetadataList"):
            expiration = cert.get("Expiration")
            ctx.add(SERVER_CERT, cert["Arn"], cert["ServerCertificateName"], None, {
                "expiration": iso(expiration), "uploaded": iso(cert.get("UploadDate")),
                "expired": bool(expiration and expiration < now),
            })


@collector("iam_support_role", level="account", facts={
    "aws.iam.support_access": 'roles holding AWSSupportAccess (one fact per account)',
})
def collect_support_access(ctx: AwsContext) -> None:
    with ctx.feeding("aws.iam.support_access"):
        arn = SUPPORT_POLICY.format(partition=ctx.partition)
        roles = list(ctx.pages(ctx.client("iam"), "list_entities_for_policy", "PolicyRoles", PolicyArn=arn))
        ctx.add("aws.iam.support_access", f"arn:{ctx.partition}:iam::{ctx.account}:support-access",
                "support-access", None, {
            "support_roles": sorted(r["RoleName"] for r in roles),
            "support_role_count": len(roles),
        })
