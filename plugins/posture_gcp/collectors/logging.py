"""Cloud Logging config (discovery client): sinks (one fact per project) and log buckets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from posture_gcp.collectors import GcpContext, ancestors, collector, pages

PROJECT, BUCKET = "gcp.logging.project", "gcp.logging.bucket"


def _destination_type(destination: str) -> str:
    for prefix, kind in (("storage.googleapis.com", "storage"), ("bigquery.googleapis.com", "bigquery"),
                         ("pubsub.googleapis.com", "pubsub"), ("logging.googleapis.com", "logging")):
        if destination.startswith(prefix):
            return kind
    return "other"


def _summary(s: dict[str, Any]) -> dict[str, Any]:
    return {"name": s.get("name"), "destination_type": _destination_type(s.get("destination", "")),
            "filter_empty": not (s.get("filter") or "").strip(), "disabled": bool(s.get("disabled", False)),
            "enabled_exclusions": [e.get("name") for e in s.get("exclusions") or [] if not e.get("disabled")]}


def _exports_all(s: dict[str, Any]) -> bool:
    """Everything goes out only with an empty filter and no enabled exclusion (entries matching any enabled
    exclusion are not exported); ``_Required`` / ``_Default`` route into the resource's own buckets."""
    return (not str(s["name"]).startswith("_") and s["filter_empty"] and not s["disabled"]
            and not s["enabled_exclusions"])


def sinks_attributes(sinks: list[dict[str, Any]], inherited: Sequence[tuple[str, list[dict[str, Any]]]] = (),
                     unreadable: Sequence[str] = ()) -> dict[str, Any]:
    """The project's sinks plus the aggregated sinks (``includeChildren``) of its folders and organization,
    which receive the project's log entries too."""
    summary = [_summary(s) for s in sinks]
    user = [s for s in summary if not str(s["name"]).startswith("_")]
    aggregated = [{**_summary(s), "parent": parent} for parent, found in inherited for s in found
                  if s.get("includeChildren")]
    return {
        "sinks": summary,
        "export_sink_count": len(user),
        "inherited_sinks": aggregated,
        "unreadable_ancestors": list(unreadable),
        "exports_all_logs": any(_exports_all(s) for s in summary + aggregated),
    }


def bucket_attributes(b: dict[str, Any]) -> dict[str, Any]:
    parts = b.get("name", "").split("/")
    return {
        "bucket_id": parts[-1],
        "location": parts[3] if len(parts) > 3 else "global",
        "retention_days": int(b.get("retentionDays", 30)),
        "locked": bool(b.get("locked", False)),
        "lifecycle_state": b.get("lifecycleState"),
        "cmek_enabled": bool((b.get("cmekSettings") or {}).get("kmsKeyName")),
    }


def _ancestor_sinks(ctx: GcpContext, name: str) -> list[dict[str, Any]]:
    """``folders.sinks.list`` / ``organizations.sinks.list``, every page (once per ancestor and scan)."""
    clients = ctx.clients
    resource = "organizations" if name.startswith("organizations/") else "folders"
    return list(pages(clients, lambda token: getattr(clients.discovery("logging", "v2"), resource)().sinks().list(
        parent=name, pageToken=token), "sinks"))


@collector("logging", level="project", facts={
    "gcp.logging.project": "A project's log sinks (one fact per project)",
    "gcp.logging.bucket": 'A log bucket: retention, lock',
})
def collect(ctx: GcpContext) -> None:
    project, clients = ctx.project, ctx.clients
    parent = f"projects/{project}"
    if ctx.wants(PROJECT):
        with ctx.feeding(PROJECT):
            sinks = list(pages(clients, lambda token: clients.discovery("logging", "v2").projects().sinks().list(
                parent=parent, pageToken=token), "sinks"))
            inherited, unreadable = ancestors.read_each(ctx, "logging-sinks", lambda name: _ancestor_sinks(ctx, name))
            ctx.add(PROJECT, f"//logging.googleapis.com/{parent}", project, "global",
                    sinks_attributes(sinks, inherited, unreadable))
    if ctx.wants(BUCKET):
        with ctx.feeding(BUCKET):
            for b in pages(clients, lambda token: clients.discovery("logging", "v2").projects().locations()
                           .buckets().list(parent=f"{parent}/locations/-", pageToken=token), "buckets"):
                attrs = bucket_attributes(b)
                ctx.add(BUCKET, f"//logging.googleapis.com/{b['name']}", attrs["bucket_id"], attrs["location"],
                        attrs)
