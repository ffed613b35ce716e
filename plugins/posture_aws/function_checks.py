"""Checks whose logic is not a plain condition: port ranges against a port list, required tag keys."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from posture.checks import Check, Outcome, function_check, required_keys_check
from posture.facts import Fact

OPEN_CIDRS = (ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0"))
DEFAULT_ADMIN_PORTS = (22, 3389)


def _is_open(cidr: str | None) -> bool:
    if not cidr:
        return False
    try:
        return ipaddress.ip_network(cidr, strict=False) in OPEN_CIDRS
    except ValueError:
        return False


def _rule_ports(rule: Mapping[str, Any], ports: list[int]) -> list[int]:
    if rule.get("protocol") not in ("all", "tcp", "6"):
        return []
    if rule.get("protocol") == "all" or rule.get("from_port") is None:
        return ports
    lo, hi = int(rule["from_port"]), int(rule["to_port"] if rule.get("to_port") is not None else rule["from_port"])
    return [p for p in ports if lo <= p <= hi]


def admin_ports_closed(fact: Fact, params: Mapping[str, Any]) -> Outcome:
    """Fail when a rule from 0.0.0.0/0 or ::/0 covers any administrative TCP port (ranges included)."""
    ports = [int(p) for p in params.get("admin_ports", DEFAULT_ADMIN_PORTS)]
    exposed = sorted({p for r in fact.attributes.get("ingress_rules", []) if _is_open(r.get("cidr"))
                      for p in _rule_ports(r, ports)})
    evidence = {"admin_ports": ports, "exposed_ports": exposed}
    if exposed:
        return Outcome("fail", f"Security group {fact.name} opens port(s) {', '.join(map(str, exposed))} "
                               "to the internet", evidence)
    return Outcome("pass", f"{fact.name}: no administrative port open to the internet", evidence)


def _entry_covers(entry: Mapping[str, Any], port: int) -> bool:
    if entry.get("protocol") not in ("all", "tcp", "6"):
        return False
    if entry.get("all_ports") or entry.get("from_port") is None:
        return True
    return int(entry["from_port"]) <= port <= int(entry.get("to_port") or entry["from_port"])


def nacl_admin_ports_closed(fact: Fact, params: Mapping[str, Any]) -> Outcome:
    """Fail when, for traffic from anywhere, the first matching ingress entry (lowest rule number, the way a
    network ACL evaluates) for an administrative TCP port allows it. Entries for narrower sources do not
    decide internet traffic and are skipped, so an earlier ``deny 0.0.0.0/0`` closes the port."""
    ports = [int(p) for p in params.get("admin_ports", DEFAULT_ADMIN_PORTS)]
    exposed: dict[int, int | None] = {}
    entries = fact.attributes.get("ingress_entries", [])
    for port in ports:
        for family in ("0.0.0.0/0", "::/0"):
            first = next((e for e in entries if _is_open(e.get("cidr")) and str(ipaddress.ip_network(
                e["cidr"], strict=False)) == family and _entry_covers(e, port)), None)
            if first is not None and first.get("action") == "allow":
                exposed.setdefault(port, first.get("rule_number"))
    evidence = {"admin_ports": ports, "exposed_ports": sorted(exposed),
                "allowing_rules": sorted({r for r in exposed.values() if r is not None})}
    if exposed:
        return Outcome("fail", f"Network ACL {fact.name} admits port(s) {', '.join(map(str, sorted(exposed)))} "
                               "from the internet", evidence)
    return Outcome("pass", f"{fact.name}: no administrative port admitted from the internet", evidence)


_TAG_REMEDIATION = ("Add the tier's required tag keys (parameter `required_tags`, e.g. `owner`) to the resource, "
                    "and enforce them with an AWS Organizations tag policy or an SCP on create.")
_TAGGED = (("aws.ec2.instance", "EC2 instance"), ("aws.ec2.volume", "EBS volume"),
           ("aws.rds.db_instance", "RDS DB instance"), ("aws.s3.bucket_tags", "S3 bucket"))


def _tag_check(fact_type: str, label: str) -> Check:
    suffix = fact_type.split(".", 1)[1].replace("bucket_tags", "bucket")
    return required_keys_check(f"aws.{suffix}.required_tags", fact_type, label, attribute="tag_keys",
                               remediation=_TAG_REMEDIATION, source=__name__)


FUNCTION_CHECKS: tuple[Check, ...] = (
    function_check(
        "aws.ec2.security_group.admin_ports_closed", admin_ports_closed, fact_type="aws.ec2.security_group",
        title="Security group does not open administrative ports to the internet", controls=("NET-01",),
        remediation=("Remove the rule or restrict its source to a known range; reach instances through "
                     "AWS Systems Manager Session Manager or a bastion instead of opening SSH/RDP "
                     "(tier parameter `admin_ports`)."),
        references=("CIS AWS Foundations 5.2", "CIS AWS Foundations 5.3"), source=__name__,
    ),
    function_check(
        "aws.ec2.network_acl.admin_ports_closed", nacl_admin_ports_closed, fact_type="aws.ec2.network_acl",
        title="Network ACL does not admit administrative ports from the internet", controls=("NET-01",),
        remediation=("Add an inbound `deny` entry for 0.0.0.0/0 and ::/0 on the administrative ports (tier "
                     "parameter `admin_ports`) with a lower rule number than any `allow` that covers them, or "
                     "narrow the allowing entry's source: `aws ec2 create-network-acl-entry --network-acl-id ACL "
                     "--ingress --rule-number 50 --protocol tcp --port-range From=22,To=22 --cidr-block "
                     "0.0.0.0/0 --rule-action deny`. Security groups remain the primary control; the network "
                     "ACL is the second line."),
        references=("CIS AWS Foundations 7.0 6.2",), source=__name__,
    ),
    *(_tag_check(ft, label) for ft, label in _TAGGED),
)
