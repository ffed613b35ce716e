"""Cloud Storage HMAC keys (discovery client): static credentials for the S3-compatible XML API.

One paged ``projects.hmacKeys.list`` per project; the list never carries the secret.
"""

from __future__ import annotations

from posture_gcp.collectors import GcpContext, collector, pages

HMAC = "gcp.storage.hmac_key"


@collector("storage_hmac", level="project", facts={
    "gcp.storage.hmac_key": "A Cloud Storage HMAC key (access id and state; never the secret)",
})
def collect(ctx: GcpContext) -> None:
    project, clients = ctx.project, ctx.clients
    with ctx.feeding(HMAC):
        for k in pages(clients, lambda token: clients.discovery("storage", "v1").projects().hmacKeys().list(
                projectId=project, pageToken=token), "items"):
            access_id = str(k.get("accessId", ""))
            ctx.add(HMAC, f"//storage.googleapis.com/projects/{project}/hmacKeys/{access_id}", access_id, "global",
                    {"service_account_email": k.get("serviceAccountEmail"), "state": k.get("state"),
                     "time_created": k.get("timeCreated")})

