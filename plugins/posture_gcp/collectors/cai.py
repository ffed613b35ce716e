"""Cloud Asset Inventory first: one paged ``searchAllResources`` instead of per-service listing.

Where a resource list would otherwise take one call per region, dataset or table (Dataproc clusters,
BigQuery tables' keys), a collector asks Cloud Asset Inventory for the project's resources of the asset
types it needs, once per project, asset types and scan. When the API is not enabled or not granted
(``cloudasset.assets.searchAllResources``, in ``roles/cloudasset.viewer``), :func:`search` answers None
and the collector lists through the service's own API, as before; the fact says which source answered.
"""

from __future__ import annotations

from typing import Any

from posture_gcp.collectors import GcpContext, pages

PAGE_SIZE = 500  # the API's maximum


def search(ctx: GcpContext, *asset_types: str) -> list[dict[str, Any]] | None:
    """Every ``ResourceSearchResult`` of ``asset_types`` in the project, or None when the inventory cannot
    be searched (any error: the caller falls back to the service API, which reports its own errors)."""
    clients = ctx.clients

    def run() -> list[dict[str, Any]] | None:
        try:
            return list(pages(clients, lambda token: clients.discovery("cloudasset", "v1").v1().searchAllResources(
                scope=f"projects/{ctx.project}", assetTypes=list(asset_types), pageSize=PAGE_SIZE, pageToken=token),
                "results"))
        except Exception:  # disabled, denied or failing: the per-service path decides
            return None

    return clients.shared.once(("cloudasset", ctx.project, asset_types), run, large=True)
