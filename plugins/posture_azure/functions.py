"""Checks whose logic is not a plain condition: NSG rule evaluation with priorities and port ranges."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from posture.checks import Check, Outcome, function_check, required_keys_check
from posture.facts import Fact

#: NSG source prefixes meaning "anyone on the internet"
INTERNET_SOURCES = {"*", "any", "internet", "0.0.0.0", "0.0.0.0/0", "::/0", "::"}
TCP_PROTOCOLS = {"tcp", "*", "any"}
DEFAULT_ADMIN_PORTS = (22, 3389)


def port_matches(spec: str, port: int) -> bool:
    """NSG port spec ``"*"``, ``"22"`` or ``"20-30"`` covers ``port``."""
    spec = str(spec).strip()
    if spec in ("*", ""):
        return True
    if "-" in spec:
        low, _, high = spec.partition("-")
        try:
            return int(low) <= port <= int(high)
        except ValueError:
            return False
    try:
        return int(spec) == port
    except ValueError:
        return False


def from_internet(sources: list[str]) -> bool:
    return any(str(s).strip().lower() in INTERNET_SOURCES for s in sources)


#: NSG destinations treated as covering any other destination when a Deny is weighed against a later Allow
COVERING_DESTINATIONS = {"*", "0.0.0.0/0", "virtualnetwork"}


def _lower(values: Any) -> set[str]:
    return {str(v).strip().lower() for v in values or []}


def deny_covers(deny: Mapping[str, Any], allow: Mapping[str, Any]) -> bool:
    """A Deny hides an Allow only if it matches every packet the Allow matches.

    A rule matches only when source, source port, destination and destination port
    all match: a Deny for one destination host, or for some source ports, leaves the
    Allow open elsewhere. Unknown or unequal destinations count as not covering, so
    doubt is reported as exposure.
    """
    if not _lower(deny.get("source_ports")) & {"*", "0-65535"}:
        return False
    deny_dest = _lower(deny.get("destinations"))
    if deny_dest & COVERING_DESTINATIONS:
        return True
    allow_dest = _lower(allow.get("destinations"))
    return bool(allow_dest) and allow_dest <= deny_dest


def internet_exposed_ports(rules: list[Mapping[str, Any]], ports: list[int],
                           protocols: frozenset[str] | set[str] = TCP_PROTOCOLS) -> dict[int, str]:
    """Admin port -> the Allow rule exposing it to the internet.

    NSG rules are evaluated by ascending priority and the first match wins, so
    a higher-priority Deny from the internet hides a later Allow, but only when
    it covers the Allow's destination and every source port (``deny_covers``).
    """
    ordered = sorted(rules, key=lambda r: r.get("priority") or 0)
    exposed: dict[int, str] = {}
    for port in ports:
        denies: list[Mapping[str, Any]] = []
        for rule in ordered:
            if str(rule.get("protocol", "*")).lower() not in protocols:
                continue
            if not from_internet(rule.get("sources") or []):
                continue
            if not any(port_matches(p, port) for p in rule.get("ports") or []):
                continue
            if str(rule.get("access", "")).lower() != "allow":
                denies.append(rule)
            elif not any(deny_covers(d, rule) for d in denies):
                exposed[port] = str(rule.get("name"))
                break
    return exposed


def nsg_admin_ports_closed(fact: Fact, params: Mapping[str, Any]) -> Outcome:
    ports = [int(p) for p in params.get("admin_ports", DEFAULT_ADMIN_PORTS)]
    exposed = internet_exposed_ports(fact.attributes.get("inbound_rules") or [], ports)
    evidence = {"admin_ports": ports, "exposed": {str(k): v for k, v in sorted(exposed.items())}}
    if exposed:
        detail = ", ".join(f"{p} (rule {r})" for p, r in sorted(exposed.items()))
        return Outcome("fail", f"NSG {fact.name} allows administrative ports from the internet: {detail}", evidence)
    return Outcome("pass", f"NSG {fact.name} does not expose administrative ports to the internet", evidence)


def function_checks() -> list[Check]:
    from posture_azure.identity_checks import identity_checks

    return nsg_checks() + service_port_checks() + tag_checks() + identity_checks()


UDP_PROTOCOLS = {"udp", "*", "any"}
#: UDP services abused for reflection/amplification attacks when reachable from the internet
UDP_REFLECTION_PORTS = (53, 123, 161, 389, 1900, 11211)
#: check suffix -> (label, ports, protocols, title, remediation)
SERVICE_PORTS: dict[str, tuple[str, tuple[int, ...], set[str], str, str]] = {
    "rdp_closed": ("RDP", (3389,), TCP_PROTOCOLS, "Network security group does not allow RDP from the internet",
                   "Remove or restrict the inbound rule allowing TCP 3389 from `*`/`Internet`; reach VMs through "
                   "Azure Bastion or just-in-time VM access:\n`az network nsg rule delete -g RG --nsg-name NSG -n RULE`"),
    "ssh_closed": ("SSH", (22,), TCP_PROTOCOLS, "Network security group does not allow SSH from the internet",
                   "Remove or restrict the inbound rule allowing TCP 22 from `*`/`Internet`; use Azure Bastion, "
                   "just-in-time access or a VPN:\n`az network nsg rule update -g RG --nsg-name NSG -n RULE "
                   "--source-address-prefixes 10.0.0.0/8`"),
    "udp_closed": ("UDP", UDP_REFLECTION_PORTS, UDP_PROTOCOLS,
                   "Network security group does not allow amplification-prone UDP services from the internet",
                   "Restrict inbound UDP rules (DNS 53, NTP 123, SNMP 161, CLDAP 389, SSDP 1900, memcached 11211) to "
                   "the sources that need them, or deny them from `Internet`; these services are abused for "
                   "reflection attacks."),
    "http_closed": ("HTTP(S)", (80, 443), TCP_PROTOCOLS,
                    "Network security group does not allow HTTP(S) straight from the internet",
                    "Publish web workloads through Application Gateway (WAF) or Front Door instead of exposing VMs "
                    "on TCP 80/443: restrict the rule's sources to the gateway subnet or the `AzureFrontDoor.Backend` "
                    "service tag."),
}


NSG = "azure.network.nsg"
NSG_DOCS = "https://learn.microsoft.com/azure/virtual-network/network-security-groups-overview"


def service_port_check(label: str, ports: tuple[int, ...], protocols: set[str]) -> Any:
    def check(fact: Fact, params: Mapping[str, Any]) -> Outcome:
        exposed = internet_exposed_ports(fact.attributes.get("inbound_rules") or [], list(ports), protocols)
        evidence = {"ports": list(ports), "exposed": {str(k): v for k, v in sorted(exposed.items())}}
        if exposed:
            detail = ", ".join(f"{p} (rule {r})" for p, r in sorted(exposed.items()))
            return Outcome("fail", f"NSG {fact.name} allows {label} from the internet: {detail}", evidence)
        return Outcome("pass", f"NSG {fact.name} does not allow {label} from the internet", evidence)

    return check


def service_port_checks() -> list[Check]:
    return [
        function_check(
            f"{NSG}.{suffix}", service_port_check(label, ports, protocols), fact_type=NSG, title=title,
            controls=("NET-01",), remediation=fix, references=(NSG_DOCS,), source=__file__,
            description=("Fixed ports, whatever the tier's admin_ports; inbound rules evaluated by priority as for "
                         "admin_ports_closed (a Deny hides an Allow only if it covers it entirely)."))
        for suffix, (label, ports, protocols, title, fix) in SERVICE_PORTS.items()
    ]


def nsg_checks() -> list[Check]:
    return [
        function_check(
            f"{NSG}.admin_ports_closed", nsg_admin_ports_closed, fact_type=NSG, controls=("NET-01",),
            title="Network security group does not allow administrative ports from the internet",
            remediation=(
                "Delete or restrict the inbound rule (source `*`, `Internet`, `0.0.0.0/0`) that allows SSH/RDP "
                "or other administrative ports; use Azure Bastion or just-in-time VM access instead.\n\n"
                "`az network nsg rule update -g RG --nsg-name NSG -n RULE --source-address-prefixes 10.0.0.0/8`"
            ),
            description=("Evaluates inbound rules by priority (first match wins), with port ranges and service tags; "
                         "a Deny hides an Allow only if it covers its destination and every source port."),
            references=(NSG_DOCS,), source=__file__)
    ]


#: fact types carrying the resource's ``tags`` map, and the check id stem for each
TAGGED_FACT_TYPES = {
    "azure.storage.account": "Storage account",
    "azure.compute.vm": "Virtual machine",
    "azure.keyvault.vault": "Key vault",
    "azure.sql.server": "SQL server",
}


def tag_checks() -> list[Check]:
    return [
        required_keys_check(
            f"{fact_type}.required_tags", fact_type, label, attribute="tags",
            case_sensitive=False,  # Azure tag names ignore case
            remediation=("Add the tier's required tag keys (parameter `required_tags`, e.g. `owner`): "
                         "`az tag update --resource-id ID --operation merge --tags owner=team`, and enforce "
                         "them with the built-in Azure Policy *Require a tag on resources*."),
            references=("https://learn.microsoft.com/azure/azure-resource-manager/management/tag-resources",),
            source=__file__)
        for fact_type, label in TAGGED_FACT_TYPES.items()
    ]
