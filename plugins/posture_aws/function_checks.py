"""Checks whose logic is not a plain condition: port ranges against a port list, required tag keys."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from posture.checks import Check, Outcome, required_keys
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


_TAG_REMEDIATION = ("Add the tier's required tag keys (parameter `required_tags`, e.g. `owner`) to the resource, "
                    "and enforce them with an AWS Organizations tag policy or an SCP on create.")
_TAGGED = (("aws.ec2.instance", "EC2 instance"), ("aws.ec2.volume", "EBS volume"),
           ("aws.rds.db_instance", "RDS DB instance"), ("aws.s3.bucket_tags", "S3 bucket"))


def _tag_check(fact_type: str, label: str) -> Check:
    suffix = fact_type.split(".", 1)[1].replace("bucket_tags", "bucket")
    return Check(id=f"aws.{suffix}.required_tags", title=f"{label} carries the required ownership tags",
                 provider="aws", fact_type=fact_type, controls=("INV-03",), remediation=_TAG_REMEDIATION,
                 function=required_keys("tag_keys"), source=__name__)


FUNCTION_CHECKS: tuple[Check, ...] = (
    Check(
        id="aws.ec2.security_group.admin_ports_closed",
        title="Security group does not open administrative ports to the internet",
        provider="aws", fact_type="aws.ec2.security_group", controls=("NET-01",),
        remediation=("Remove the rule or restrict its source to a known range; reach instances through "
                     "AWS Systems Manager Session Manager or a bastion instead of opening SSH/RDP "
                     "(tier parameter `admin_ports`)."),
        references=("CIS AWS Foundations 5.2", "CIS AWS Foundations 5.3"),
        function=admin_ports_closed, source=__name__,
    ),
    *(_tag_check(ft, label) for ft, label in _TAGGED),
)
