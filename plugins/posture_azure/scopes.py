"""Subscription discovery: explicit ids, every visible subscription, or a management group."""

from __future__ import annotations

from typing import Any

from posture.collecting import BoundedCache
from posture_azure import session
from posture_azure.errors import classify
from posture_azure.settings import AzureSettings

MG_API = "2020-05-01"
USABLE_STATES = {"Enabled", "Warned", "PastDue"}
Found = list[dict[str, str]]
Denied = list[tuple[str, str, str]]


def _client(settings: AzureSettings, cache: BoundedCache[Any]) -> Any:
    from azure.mgmt.resource.subscriptions import SubscriptionClient

    return session.client(settings, SubscriptionClient, None, cache)


def _state(sub: Any) -> str:
    return str(getattr(sub.state, "value", sub.state) or "")


def explicit(settings: AzureSettings, cache: BoundedCache[Any], ids: list[str]) -> tuple[Found, Denied]:
    """GET each subscription; a denied or unknown one is reported, the others go on."""
    client = _client(settings, cache)
    found: Found = []
    denied: Denied = []
    for sid in dict.fromkeys(ids):
        try:
            sub = client.subscriptions.get(sid)
        except Exception as exc:  # noqa: BLE001 - reported as a plan error
            failure = classify(exc)
            denied.append((sid, failure.code, failure.message))
            continue
        found.append({"id": sub.subscription_id, "name": sub.display_name or sid, "parent": sub.tenant_id or ""})
    return found, denied


def visible(settings: AzureSettings, cache: BoundedCache[Any]) -> tuple[Found, Denied]:
    """Every subscription the identity can see (one paginated call)."""
    try:
        subs = list(_client(settings, cache).subscriptions.list())
    except Exception as exc:  # noqa: BLE001
        failure = classify(exc)
        return [], [("*", failure.code, failure.message)]
    return [{"id": s.subscription_id, "name": s.display_name or s.subscription_id, "parent": s.tenant_id or ""}
            for s in subs if _state(s) in USABLE_STATES], []


def under_management_group(settings: AzureSettings, cache: BoundedCache[Any], group: str) -> tuple[Found, Denied]:
    """Subscriptions among a management group's descendants (one paginated call, no extra SDK)."""
    from azure.core.rest import HttpRequest

    client = _client(settings, cache)
    url: str | None = f"/providers/Microsoft.Management/managementGroups/{group}/descendants?api-version={MG_API}"
    found: Found = []
    try:
        while url:
            resp = client.send_request(HttpRequest("GET", url))
            resp.raise_for_status()
            body = resp.json()
            for item in body.get("value", []):
                # descendant type is "/subscriptions" (management groups: "Microsoft.Management/managementGroups")
                if str(item.get("type", "")).lower().endswith("/subscriptions"):
                    props = item.get("properties") or {}
                    parent = ((props.get("parent") or {}).get("id") or "").rsplit("/", 1)[-1]
                    found.append({"id": item["name"], "name": props.get("displayName") or item["name"],
                                  "parent": parent or group})
            url = body.get("nextLink")
    except Exception as exc:  # noqa: BLE001
        failure = classify(exc)
        return [], [(f"managementGroups/{group}", failure.code, failure.message)]
    return found, []
