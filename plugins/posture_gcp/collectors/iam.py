"""IAM admin (discovery client): service accounts and their user-managed keys.

Keys are listed per service account (the API has no project-wide key list);
those calls run concurrently, bounded, each thread with its own httplib2.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from posture_gcp.collectors import CollectorSpec, UnitContext, pages
from posture_gcp.facttypes import COLLECTOR_FACT_TYPES

SERVICE_ACCOUNT = "gcp.iam.service_account"
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


def collect(ctx: UnitContext) -> None:
    project, clients = ctx.project, ctx.clients
    with ctx.feeding(SERVICE_ACCOUNT):
        accounts = list(pages(
            clients,
            lambda token: clients.discovery("iam", "v1").projects().serviceAccounts().list(
                name=f"projects/{project}", pageToken=token, pageSize=100),
            "accounts"))

        def keys_of(sa: dict[str, Any]) -> tuple[dict[str, Any], Any]:
            try:
                req = clients.discovery("iam", "v1").projects().serviceAccounts().keys().list(
                    name=sa["name"], keyTypes="USER_MANAGED")
                return sa, clients.execute(req).get("keys", [])
            except Exception as exc:  # recorded per account below
                return sa, exc

        with ThreadPoolExecutor(max_workers=clients.settings.max_workers) as pool:
            for sa, keys in pool.map(keys_of, accounts):
                rid = f"//iam.googleapis.com/{sa['name']}"
                if isinstance(keys, BaseException):
                    ctx.error(SERVICE_ACCOUNT, keys, what=f"keys of {sa.get('email')}")
                    continue
                ctx.add(SERVICE_ACCOUNT, rid, sa.get("email", sa["name"]), "global",
                        service_account_attributes(sa, keys))


SPEC = CollectorSpec("iam", COLLECTOR_FACT_TYPES["iam"], collect)
