"""Dataproc (discovery client, v1): clusters and the key encrypting their disks.

Clusters are listed per region (``projects.regions.clusters.list``: no aggregated list), about 40 regions.
Cloud Asset Inventory first: one search finds the regions that hold a cluster, and only those are listed;
without it, every region from Compute Engine's ``regions.list`` is.
"""

from __future__ import annotations

from typing import Any

from posture_gcp.collectors import GcpContext, cai, collector, label_attributes, pages

CLUSTER = "gcp.dataproc.cluster"
CLUSTER_ASSET = "dataproc.googleapis.com/Cluster"


def cluster_attributes(c: dict[str, Any], region: str, source: str) -> dict[str, Any]:
    enc = (c.get("config") or {}).get("encryptionConfig") or {}
    return {
        "region": region,
        "state": (c.get("status") or {}).get("state"),
        "cmek_enabled": bool(enc.get("gcePdKmsKeyName") or enc.get("kmsKey")),
        "regions_from": source,
        **label_attributes(c.get("labels")),
    }


def _regions(ctx: GcpContext) -> tuple[list[str], str]:
    found = cai.search(ctx, CLUSTER_ASSET)
    if found is not None:
        return sorted({str(r.get("location", "")) for r in found if r.get("location")}), "cloudasset"
    clients = ctx.clients
    regions = clients.compute("RegionsClient").list(project=ctx.project, retry=clients.retry())
    return sorted(r.name for r in regions), "compute"


@collector("dataproc", level="project", facts={
    "gcp.dataproc.cluster": "A Dataproc cluster and whether a customer-managed key encrypts its disks",
})
def collect(ctx: GcpContext) -> None:
    project, clients = ctx.project, ctx.clients
    with ctx.feeding(CLUSTER):
        regions, source = _regions(ctx)

        def clusters_in(region: str) -> list[dict[str, Any]]:
            return list(pages(clients, lambda token: clients.discovery("dataproc", "v1").projects().regions()
                              .clusters().list(projectId=project, region=region, pageToken=token), "clusters"))

        for region, clusters in ctx.fan_out(clusters_in, regions):
            for c in clusters:
                name = c.get("clusterName", "")
                ctx.add(CLUSTER, f"//dataproc.googleapis.com/projects/{project}/regions/{region}/clusters/{name}",
                        name, region, cluster_attributes(c, region, source))

