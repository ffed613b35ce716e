"""Google Kubernetes Engine (discovery client): clusters and whether their node pools upgrade themselves.

One ``projects.locations.clusters.list`` (location ``-``: every zone and region) per project.
"""

from __future__ import annotations

from typing import Any

from posture_gcp.collectors import GcpContext, collector

CLUSTER = "gcp.container.cluster"


def cluster_attributes(c: dict[str, Any]) -> dict[str, Any]:
    pools = [{"name": p.get("name"), "auto_upgrade": bool((p.get("management") or {}).get("autoUpgrade"))}
             for p in c.get("nodePools") or []]
    return {"location": c.get("location"), "release_channel": (c.get("releaseChannel") or {}).get("channel"),
            "autopilot": bool((c.get("autopilot") or {}).get("enabled")), "node_pools": pools,
            "current_master_version": c.get("currentMasterVersion")}


@collector("container", level="project", facts={
    "gcp.container.cluster": "A GKE cluster and whether its node pools upgrade automatically",
})
def collect(ctx: GcpContext) -> None:
    project, clients = ctx.project, ctx.clients
    with ctx.feeding(CLUSTER):
        found = clients.execute(clients.discovery("container", "v1").projects().locations().clusters().list(
            parent=f"projects/{project}/locations/-"))
        for c in found.get("clusters") or []:
            loc = c.get("location", "")
            ctx.add(CLUSTER, f"//container.googleapis.com/projects/{project}/locations/{loc}/clusters/{c['name']}",
                    c["name"], loc, cluster_attributes(c))

