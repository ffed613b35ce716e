"""Cloud Storage buckets that receive the project's exported logs, and their retention lock (Bucket Lock).

``sinks.list`` (Logging) names the destinations; each Cloud Storage destination bucket is read once per
scan (``storage.buckets.get``, it may live in another project) for its retention policy. Exported logs
are tamper-proof only when that policy is locked.
"""

from __future__ import annotations

from typing import Any

from posture_gcp.collectors import GcpContext, collector, pages

DESTINATION = "gcp.logging.sink_destination"
PREFIX = "storage.googleapis.com/"


def destination_attributes(bucket: str, sinks: list[str], b: dict[str, Any]) -> dict[str, Any]:
    policy = b.get("retentionPolicy") or {}
    seconds = int(policy.get("retentionPeriod") or 0)
    return {"bucket": bucket, "sinks": sorted(sinks), "retention_period_days": round(seconds / 86400, 2),
            "retention_locked": bool(policy.get("isLocked", False))}


@collector("logsinks", level="project", facts={
    "gcp.logging.sink_destination": "A Cloud Storage bucket receiving exported logs: retention and its lock",
})
def collect(ctx: GcpContext) -> None:
    project, clients = ctx.project, ctx.clients
    with ctx.feeding(DESTINATION):
        sinks = list(pages(clients, lambda token: clients.discovery("logging", "v2").projects().sinks().list(
            parent=f"projects/{project}", pageToken=token), "sinks"))
        by_bucket: dict[str, list[str]] = {}
        for s in sinks:
            dest = str(s.get("destination", ""))
            if dest.startswith(PREFIX) and not s.get("disabled"):
                by_bucket.setdefault(dest[len(PREFIX):].strip("/"), []).append(str(s.get("name", "")))
        for bucket, names in sorted(by_bucket.items()):
            try:
                b = clients.shared.once(("storage-bucket", bucket), lambda bucket=bucket: clients.execute(
                    clients.discovery("storage", "v1").buckets().get(bucket=bucket, fields="name,retentionPolicy")))
            except Exception as exc:  # this destination unreadable: its fact is an error, the others stand
                ctx.fail([DESTINATION], exc, where=f"log sink destination bucket {bucket}")
                continue
            ctx.add(DESTINATION, f"//storage.googleapis.com/projects/_/buckets/{bucket}", bucket, "global",
                    destination_attributes(bucket, names, b))

