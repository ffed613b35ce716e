"""Checks whose logic is not a condition: firewall port ranges and required labels."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from posture.checks import Check, Outcome, function_check, required_keys_check
from posture.facts import Fact

INTERNET = {"0.0.0.0/0", "::/0"}
#: protocols that carry TCP admin ports ("all" and the protocol number 6 included)
TCP_PROTOCOLS = {"tcp", "all", "6"}


def _port_range(spec: str) -> tuple[int, int]:
    lo, _, hi = str(spec).partition("-")
    return int(lo), int(hi or lo)


def exposed_admin_ports(attributes: Mapping[str, Any], admin_ports: list[int]) -> list[int]:
    """Admin ports an ingress allow rule opens to the internet ("all" / no ports = every port)."""
    if attributes.get("direction") != "INGRESS" or attributes.get("disabled"):
        return []
    if not INTERNET & set(attributes.get("source_ranges") or []):
        return []
    exposed: set[int] = set()
    wanted = {int(p) for p in admin_ports}
    for rule in attributes.get("allowed") or []:
        if str(rule.get("protocol", "")).lower() not in TCP_PROTOCOLS:
            continue
        ports = rule.get("ports") or []
        if not ports:
            exposed |= wanted
            continue
        for spec in ports:
            lo, hi = _port_range(spec)
            exposed |= {p for p in wanted if lo <= p <= hi}
    return sorted(exposed)


def firewall_admin_ports_closed(fact: Fact, params: Mapping[str, Any]) -> Outcome:
    ports = exposed_admin_ports(fact.attributes, list(params.get("admin_ports") or [22, 3389]))
    evidence = {k: fact.attributes.get(k) for k in ("direction", "disabled", "source_ranges", "allowed")}
    evidence["exposed_admin_ports"] = ports
    if ports:
        return Outcome("fail", f"Firewall rule {fact.name} opens administrative port(s) "
                               f"{', '.join(map(str, ports))} to the internet", evidence)
    return Outcome("pass", f"Firewall rule {fact.name} opens no administrative port to the internet", evidence)


LABEL_REMEDIATION = """\
Add the labels your tier requires (parameter `required_tags`), e.g.
`gcloud {cmd} --update-labels=owner=team-x`. Labels drive ownership, cost and incident routing."""

LABELLED = {
    "gcp.resourcemanager.project": ("Project", "projects update PROJECT_ID"),
    "gcp.storage.bucket": ("Cloud Storage bucket", "storage buckets update gs://BUCKET"),
    "gcp.compute.instance": ("VM instance", "compute instances update INSTANCE"),
    "gcp.sql.instance": ("Cloud SQL instance", "sql instances patch INSTANCE"),
}


def function_checks() -> list[Check]:
    return [
        function_check(
            "gcp.compute.firewall.admin_ports_closed", firewall_admin_ports_closed, fact_type="gcp.compute.firewall",
            title="Firewall rule does not open administrative ports to the internet", controls=("NET-01",),
            remediation="Restrict the rule's source ranges to known networks, or reach instances through "
                        "Identity-Aware Proxy TCP forwarding (source 35.235.240.0/20) instead:\n"
                        "`gcloud compute firewall-rules update RULE --source-ranges=35.235.240.0/20`. "
                        "Port ranges and protocol `all` count as opening every admin port they cover.",
            references=("CIS GCP 3.6", "CIS GCP 3.7"),
        ),
        *(required_keys_check(f"gcp.{fact_type.split('.', 1)[1]}.required_labels", fact_type, what,
                              attribute="label_keys", noun="label", remediation=LABEL_REMEDIATION.format(cmd=cmd))
          for fact_type, (what, cmd) in LABELLED.items()),
    ]
