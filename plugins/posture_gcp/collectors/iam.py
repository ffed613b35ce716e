"""IAM admin (discovery client): service accounts and their user-managed keys.

Keys are listed per service account (the API has no project-wide key list);
those calls run concurrently, bounded, each thread with its own httplib2.
Only when the tier needs ``gcp.iam.service_account_key`` (INV-02) and the
project has a user-managed key, one paged Policy Analyzer activity query
(``serviceAccountKeyLastAuthentication``) adds when each key last authenticated.
"""

from __future__ import annotations

import re
from typing import Any

from posture_gcp.collectors import GcpContext, collector, pages

SERVICE_ACCOUNT = "gcp.iam.service_account"
SERVICE_ACCOUNT_KEY = "gcp.iam.service_account_key"
KEY_ACTIVITY = "serviceAccountKeyLastAuthentication"
ACTIVITY_HINT = ("key use cannot be assessed: enable policyanalyzer.googleapis.com and grant "
                 "roles/policyanalyzer.activityAnalysisViewer")
DEFAULT_SA = re.compile(r"^(\d+-compute@developer|[a-z0-9-]+@appspot)\.gserviceaccount\.com$")


def service_account_attributes(sa: dict[str, Any], keys: list[dict[str, Any]]) -> dict[str, Any]:
    user_keys = [
        {
            "key_id": str(k.get("name", "")).rsplit("/", 1)[-1],
            "valid_after_time": k.get("validAfterTime"),
            "valid_before_time": k.get("validBeforeTime"),
            "disabled": bool(k.get("disabled", False)),
            "origin": k.get("keyOrigin"),
        }
        for k in keys
        if k.get("keyType", "USER_MANAGED") == "USER_MANAGED"
    ]
    email = sa.get("email", "")
    return {
        "email": email,
        "display_name": sa.get("displayName"),
        "disabled": bool(sa.get("disabled", False)),
        "is_default": bool(DEFAULT_SA.match(email)),
        "user_managed_keys": user_keys,
        "active_user_managed_keys": [k for k in user_keys if not k["disabled"]],
    }


def key_attributes(sa: dict[str, Any], key: dict[str, Any], activity: dict[str, Any] | None) -> dict[str, Any]:
    """One user-managed key; ``last_authenticated_time`` is None when Policy Analyzer saw no use of it."""
    observed = (activity or {}).get("activity") or {}
    period = (activity or {}).get("observationPeriod") or {}
    return {
        "service_account_email": sa.get("email", ""),
        "service_account_disabled": bool(sa.get("disabled", False)),
        "key_id": key_id(key.get("name", "")),
        "valid_after_time": key.get("validAfterTime"),
        "disabled": bool(key.get("disabled", False)),
        "origin": key.get("keyOrigin"),
        "last_authenticated_time": observed.get("lastAuthenticatedTime"),
        "observed_until": period.get("endTime"),
    }


def key_id(name: str) -> str:
    return str(name).rstrip("/").rsplit("/", 1)[-1]


def _join_key(full_resource_name: str) -> tuple[str, str]:
    """(service account email, key id) from ``//iam.googleapis.com/projects/P/serviceAccounts/E/keys/K``."""
    parts = full_resource_name.rstrip("/").split("/")
    try:
        at = parts.index("serviceAccounts")
        return parts[at + 1], parts[at + 3]
    except (ValueError, IndexError):
        return "", ""


def last_authentications(ctx: GcpContext) -> dict[tuple[str, str], dict[str, Any]]:
    """Policy Analyzer ``serviceAccountKeyLastAuthentication`` activities of the project, by (email, key id)."""
    clients = ctx.clients
    parent = f"projects/{ctx.project}/locations/global/activityTypes/{KEY_ACTIVITY}"
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for item in pages(clients, lambda token: clients.discovery("policyanalyzer", "v1").projects().locations()
                      .activityTypes().activities().query(parent=parent, pageSize=1000, pageToken=token),
                      "activities"):
        found[_join_key(str(item.get("fullResourceName", "")))] = item
    return found


def _list_accounts(ctx: GcpContext) -> list[tuple[dict[str, Any], Any]]:
    """Every service account with its user-managed keys (or the exception listing them raised)."""
    project, clients = ctx.project, ctx.clients
    accounts = list(pages(
        clients,
        lambda token: clients.discovery("iam", "v1").projects().serviceAccounts().list(
            name=f"projects/{project}", pageToken=token, pageSize=100),
        "accounts"))

    def keys_of(sa: dict[str, Any]) -> Any:
        try:
            req = clients.discovery("iam", "v1").projects().serviceAccounts().keys().list(
                name=sa["name"], keyTypes="USER_MANAGED")
            return clients.execute(req).get("keys", [])
        except Exception as exc:  # recorded per account by the caller
            return exc

    return ctx.fan_out(keys_of, accounts)


@collector("iam", level="project", facts={
    "gcp.iam.service_account": 'A service account and its user-managed keys (ids, ages; never key material)',
    "gcp.iam.service_account_key": 'A user-managed service account key and when it last authenticated (Policy Analyzer activity)',
})
def collect(ctx: GcpContext) -> None:
    wanted = [ft for ft in (SERVICE_ACCOUNT, SERVICE_ACCOUNT_KEY) if ctx.wants(ft)]
    try:
        listed = _list_accounts(ctx)
    except Exception as exc:  # the account list itself failed: nothing of this unit is known
        ctx.fail(wanted, exc)
        return
    readable: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    for sa, keys in listed:
        if isinstance(keys, BaseException):
            ctx.fail(wanted, keys, where=f"keys of {sa.get('email')}")
            continue
        readable.append((sa, [k for k in keys if k.get("keyType", "USER_MANAGED") == "USER_MANAGED"]))
    if ctx.wants(SERVICE_ACCOUNT):
        with ctx.feeding(SERVICE_ACCOUNT):
            for sa, keys in readable:
                ctx.add(SERVICE_ACCOUNT, f"//iam.googleapis.com/{sa['name']}", sa.get("email", sa["name"]),
                        "global", service_account_attributes(sa, keys))
    if ctx.wants(SERVICE_ACCOUNT_KEY):
        _collect_keys(ctx, readable)


def _collect_keys(ctx: GcpContext, readable: list[tuple[dict[str, Any], list[dict[str, Any]]]]) -> None:
    """Key facts joined with Policy Analyzer; the activity query runs only when a key exists."""
    if any(keys for _, keys in readable):
        try:
            activity = last_authentications(ctx)
        except Exception as exc:
            ctx.fail([SERVICE_ACCOUNT_KEY], exc, where="Policy Analyzer activity query", hint=ACTIVITY_HINT)
            return
    else:
        activity = {}
    with ctx.feeding(SERVICE_ACCOUNT_KEY):
        for sa, keys in readable:
            email = sa.get("email", "")
            for key in keys:
                kid = key_id(key.get("name", ""))
                ctx.add(SERVICE_ACCOUNT_KEY, f"//iam.googleapis.com/{key['name']}", f"{email}/{kid}", "global",
                        key_attributes(sa, key, activity.get((email, kid))))
