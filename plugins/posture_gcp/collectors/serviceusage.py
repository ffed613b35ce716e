"""Service Usage (discovery client): which APIs are enabled in the project.

One paged ``services.list`` with ``filter=state:ENABLED`` per project. Cloud Asset Inventory being enabled
is what keeps a searchable, historical record of every resource's configuration (INV-01).
"""

from __future__ import annotations

from posture_gcp.collectors import GcpContext, collector, pages

SERVICES = "gcp.serviceusage.project"
CLOUD_ASSET = "cloudasset.googleapis.com"


@collector("serviceusage", level="project", facts={
    "gcp.serviceusage.project": "The APIs enabled in a project (Cloud Asset Inventory among them)",
})
def collect(ctx: GcpContext) -> None:
    project, clients = ctx.project, ctx.clients
    with ctx.feeding(SERVICES):
        enabled = sorted(str((s.get("config") or {}).get("name") or str(s.get("name", "")).rsplit("/", 1)[-1])
                         for s in pages(clients, lambda token: clients.discovery("serviceusage", "v1").services().list(
                             parent=f"projects/{project}", filter="state:ENABLED", pageSize=200, pageToken=token),
                             "services"))
        ctx.add(SERVICES, f"//serviceusage.googleapis.com/projects/{project}", project, "global",
                {"enabled_services": enabled, "cloud_asset_inventory_enabled": CLOUD_ASSET in enabled})

