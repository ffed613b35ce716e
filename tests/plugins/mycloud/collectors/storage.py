"""Buckets: one paginated list per account and region."""

from __future__ import annotations

from posture.collecting import UnitContext
from tests.plugins.mycloud.collectors import collector

BUCKET = "mycloud.storage.bucket"


@collector("buckets", level="region", facts={BUCKET: "A bucket: public access and encryption"})
def collect(ctx: UnitContext) -> None:
    with ctx.feeding(BUCKET):
        path = f"/v1/accounts/{ctx.scope}/regions/{ctx.unit.region}/buckets"
        for b in ctx.client.pages(path, "buckets"):  # type: ignore[attr-defined]
            ctx.add(BUCKET, f"mycloud://{ctx.scope}/buckets/{b['name']}", b["name"], None,
                    {"public": bool(b.get("public")), "encrypted": bool(b.get("encrypted"))})
