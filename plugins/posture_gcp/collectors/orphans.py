"""Compute Engine resources that outlive their use: unattached disks and reserved, unused external addresses.

``disks.aggregatedList`` (``users`` empty: attached to no instance) and ``addresses.aggregatedList``
(status ``RESERVED``: held but not in use), one paged call each per project.
"""

from __future__ import annotations

from typing import Any

from posture_gcp.collectors import GcpContext, collector, label_attributes, short

DISK, ADDRESS = "gcp.compute.disk", "gcp.compute.address"


def _as_json(message: Any) -> dict[str, Any]:
    return type(message).to_dict(message, preserving_proto_field_name=False, use_integers_for_enums=False)


def disk_attributes(d: dict[str, Any]) -> dict[str, Any]:
    return {"attached": bool(d.get("users")), "size_gb": int(d.get("sizeGb") or 0), "status": d.get("status"),
            "last_detach_time": d.get("lastDetachTimestamp") or None, **label_attributes(d.get("labels"))}


def address_attributes(a: dict[str, Any]) -> dict[str, Any]:
    return {"address_type": a.get("addressType") or "EXTERNAL", "status": a.get("status"),
            "in_use": a.get("status") != "RESERVED", "purpose": a.get("purpose")}


@collector("orphans", level="project", facts={
    "gcp.compute.disk": "A persistent disk and whether any instance uses it",
    "gcp.compute.address": "A reserved IP address and whether anything uses it",
})
def collect(ctx: GcpContext) -> None:
    project, clients = ctx.project, ctx.clients
    base = f"//compute.googleapis.com/projects/{project}"
    if ctx.wants(DISK):
        with ctx.feeding(DISK):
            for scope, scoped in clients.compute("DisksClient").aggregated_list(project=project,
                                                                                retry=clients.retry()):
                for disk in scoped.disks:
                    d = _as_json(disk)
                    where = scope.split("/", 1)[1] if "/" in scope else short(d.get("zone"))
                    kind = "zones" if scope.startswith("zones/") else "regions"
                    ctx.add(DISK, f"{base}/{kind}/{where}/disks/{d['name']}", d["name"], where, disk_attributes(d))
    if ctx.wants(ADDRESS):
        with ctx.feeding(ADDRESS):
            for scope, scoped in clients.compute("AddressesClient").aggregated_list(project=project,
                                                                                    retry=clients.retry()):
                for address in scoped.addresses:
                    a = _as_json(address)
                    where = scope.split("/", 1)[1] if "/" in scope else "global"
                    path = "global" if where == "global" else f"regions/{where}"
                    ctx.add(ADDRESS, f"{base}/{path}/addresses/{a['name']}", a["name"], where, address_attributes(a))

