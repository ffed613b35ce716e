"""Network security groups (one subscription-wide list): inbound rules, normalised."""

from __future__ import annotations

from typing import Any

from posture_azure.collectors import collector
from posture_azure.collectors.base import AzureContext, Failed, enum_str, tags

NSG = "azure.network.nsg"


def _rule(rule: Any, default: bool) -> dict[str, Any]:
    sources = [rule.source_address_prefix] if rule.source_address_prefix else []
    sources += list(rule.source_address_prefixes or [])
    ports = [rule.destination_port_range] if rule.destination_port_range else []
    ports += list(rule.destination_port_ranges or [])
    # a rule matches only when source, source port, destination and destination port all do: the
    # evaluation needs all four to tell whether a Deny really hides a later Allow
    destinations = [rule.destination_address_prefix] if rule.destination_address_prefix else []
    destinations += list(rule.destination_address_prefixes or [])
    destinations += [asg.id for asg in rule.destination_application_security_groups or [] if asg.id]
    source_ports = [rule.source_port_range] if rule.source_port_range else []
    source_ports += list(rule.source_port_ranges or [])
    return {
        "name": rule.name,
        "priority": rule.priority,
        "access": enum_str(rule.access),
        "protocol": enum_str(rule.protocol),
        "sources": sources,
        "ports": [str(p) for p in ports],
        "destinations": destinations,
        "source_ports": [str(p) for p in source_ports],
        "default": default,
    }


def nsg_attributes(nsg: Any) -> dict[str, Any]:
    rules = [(r, False) for r in nsg.security_rules or []] + [(r, True) for r in nsg.default_security_rules or []]
    inbound = [_rule(r, d) for r, d in rules if enum_str(r.direction) == "Inbound"]
    inbound.sort(key=lambda r: r["priority"] or 0)
    return {
        "inbound_rules": inbound,
        "attached_subnets": len(nsg.subnets or []),
        "attached_interfaces": len(nsg.network_interfaces or []),
        "tags": tags(nsg),
    }


@collector("network", level="subscription", facts={
    "azure.network.nsg": 'Network security group with its inbound rules (custom and default)',
})
def collect(ctx: AzureContext) -> None:
    from azure.mgmt.network import NetworkManagementClient

    client = ctx.client(NetworkManagementClient)
    groups = ctx.attempt([NSG], lambda: client.network_security_groups.list_all())
    if isinstance(groups, Failed):
        return
    for nsg in groups:
        ctx.add(NSG, nsg.id, nsg.name, nsg.location, nsg_attributes(nsg))
