"""API Keys API v2 (discovery client): the project's API keys (restrictions and age; never the key string).

One paged ``projects.locations.keys.list`` (location ``global``) per project gives one fact per key and one
per project (how many keys exist); the list never carries key strings (``getKeyString`` is not called).
"""

from __future__ import annotations

from typing import Any

from posture_gcp.collectors import GcpContext, collector, pages

KEY, PROJECT = "gcp.apikeys.key", "gcp.apikeys.project"
APP_RESTRICTIONS = ("browserKeyRestrictions", "serverKeyRestrictions", "androidKeyRestrictions",
                    "iosKeyRestrictions")


def key_attributes(k: dict[str, Any]) -> dict[str, Any]:
    restrictions = k.get("restrictions") or {}
    return {
        "display_name": k.get("displayName"),
        "create_time": k.get("createTime"),
        "api_targets": sorted(str(t.get("service", "")) for t in restrictions.get("apiTargets") or []),
        "application_restricted": any(restrictions.get(r) for r in APP_RESTRICTIONS),
        "service_account_bound": bool(k.get("serviceAccountEmail")),
    }


@collector("apikeys", level="project", facts={
    "gcp.apikeys.key": "An API key: API and application restrictions, creation time (never the key string)",
    "gcp.apikeys.project": "How many API keys a project has (one fact per project)",
})
def collect(ctx: GcpContext) -> None:
    project, clients = ctx.project, ctx.clients
    with ctx.feeding(KEY, PROJECT):
        keys = list(pages(clients, lambda token: clients.discovery("apikeys", "v2").projects().locations().keys()
                          .list(parent=f"projects/{project}/locations/global", pageToken=token), "keys"))
        if ctx.wants(KEY):
            for k in keys:
                name = str(k.get("name", ""))
                ctx.add(KEY, f"//apikeys.googleapis.com/{name}", k.get("displayName") or name.rsplit("/", 1)[-1],
                        "global", key_attributes(k))
        if ctx.wants(PROJECT):
            ctx.add(PROJECT, f"//apikeys.googleapis.com/projects/{project}", project, "global",
                    {"key_count": len(keys), "keys": [k.get("displayName") or k.get("uid") for k in keys]})

