"""Cloud DNS (discovery client): managed zones (DNSSEC) and DNS server policies (query logging per network).

``managedZones.list`` gives every zone's DNSSEC state and key algorithms in one paged call per project.
Query logging is a DNS server *policy* attached to networks, so ``policies.list`` is joined with the
project's ``networks.list`` (Compute Engine): a network no logging policy names does not log queries.
"""

from __future__ import annotations

from typing import Any

from posture_gcp.collectors import GcpContext, collector, pages, short

ZONE, NETWORK = "gcp.dns.managed_zone", "gcp.dns.network"


def zone_attributes(zone: dict[str, Any]) -> dict[str, Any]:
    dnssec = zone.get("dnssecConfig") or {}
    specs = dnssec.get("defaultKeySpecs") or []

    def algorithms(kind: str) -> list[str]:
        return sorted({str(s.get("algorithm", "")).lower() for s in specs if s.get("keyType") == kind})

    return {
        "dns_name": zone.get("dnsName"),
        "visibility": zone.get("visibility") or "public",
        "dnssec_state": dnssec.get("state") or "off",
        "key_signing_algorithms": algorithms("keySigning"),
        "zone_signing_algorithms": algorithms("zoneSigning"),
    }


def network_attributes(network: str, policies: list[dict[str, Any]]) -> dict[str, Any]:
    """``network``: the network's name; ``policies``: every DNS policy of the project."""
    attached = [p for p in policies if network in {short(n.get("networkUrl")) for n in p.get("networks") or []}]
    return {"dns_policies": [p.get("name") for p in attached],
            "query_logging": any(bool(p.get("enableLogging")) for p in attached)}


@collector("dns", level="project", facts={
    "gcp.dns.managed_zone": 'A Cloud DNS zone: visibility, DNSSEC state and key algorithms',
    "gcp.dns.network": "A VPC network's DNS server policies and whether they log queries",
})
def collect(ctx: GcpContext) -> None:
    project, clients = ctx.project, ctx.clients
    if ctx.wants(ZONE):
        with ctx.feeding(ZONE):
            for zone in pages(clients, lambda token: clients.discovery("dns", "v1").managedZones().list(
                    project=project, pageToken=token), "managedZones"):
                ctx.add(ZONE, f"//dns.googleapis.com/projects/{project}/managedZones/{zone['name']}", zone["name"],
                        "global", zone_attributes(zone))
    if ctx.wants(NETWORK):
        with ctx.feeding(NETWORK):
            policies = list(pages(clients, lambda token: clients.discovery("dns", "v1").policies().list(
                project=project, pageToken=token), "policies"))
            for net in clients.compute("NetworksClient").list(project=project, retry=clients.retry()):
                ctx.add(NETWORK, f"//compute.googleapis.com/projects/{project}/global/networks/{net.name}", net.name,
                        "global", network_attributes(net.name, policies))
