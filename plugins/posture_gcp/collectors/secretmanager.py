"""Secret Manager (discovery client): secrets' expiry and rotation (metadata only; never a secret version).

One paged ``projects.secrets.list`` per project.
"""

from __future__ import annotations

from typing import Any

from posture_gcp.collectors import GcpContext, collector, label_attributes, pages

SECRET = "gcp.secretmanager.secret"


def secret_attributes(s: dict[str, Any]) -> dict[str, Any]:
    rotation = s.get("rotation") or {}
    return {"expire_time": s.get("expireTime"), "rotation_period": rotation.get("rotationPeriod"),
            "next_rotation_time": rotation.get("nextRotationTime"),
            "expires_or_rotates": bool(s.get("expireTime") or s.get("ttl") or rotation.get("rotationPeriod")),
            "cmek_enabled": bool(((s.get("replication") or {}).get("automatic") or {}).get("customerManagedEncryption")),
            **label_attributes(s.get("labels"))}


@collector("secretmanager", level="project", facts={
    "gcp.secretmanager.secret": "A Secret Manager secret's expiry and rotation (metadata only)",
})
def collect(ctx: GcpContext) -> None:
    project, clients = ctx.project, ctx.clients
    with ctx.feeding(SECRET):
        for s in pages(clients, lambda token: clients.discovery("secretmanager", "v1").projects().secrets().list(
                parent=f"projects/{project}", pageToken=token), "secrets"):
            name = str(s.get("name", ""))
            ctx.add(SECRET, f"//secretmanager.googleapis.com/{name}", name.rsplit("/", 1)[-1], "global",
                    secret_attributes(s))

