"""Change alerts: log-based metrics (Logging) paired with alert policies (Cloud Monitoring).

A change is *alerted* when an enabled alert policy that notifies at least one channel has a condition on a
user-defined log-based metric whose filter selects that change (or a log-match condition whose own filter
does). Two paged calls per project: ``projects.metrics.list`` and ``projects.alertPolicies.list``.

Filters are recognised by the fragments every correct filter for the change must name (resource type and
method names), compared after lower-casing and removing white space, so spacing, quoting style and extra
clauses do not matter. The fragments are data, below.
"""

from __future__ import annotations

import re
from typing import Any

from posture_gcp.collectors import GcpContext, collector, pages

ALERTS = "gcp.monitoring.change_alerts"
#: change -> fragments a filter must contain (normalised: lower case, no white space, ':"' read as '="')
CHANGES: dict[str, tuple[str, ...]] = {
    "project_ownership": ('"cloudresourcemanager.googleapis.com"', "bindingdeltas", '"roles/owner"'),
    "audit_config": ('"setiampolicy"', "auditconfigdeltas"),
    "custom_role": ('resource.type="iam_role"', "createrole", "deleterole", "updaterole"),
    "firewall_rule": ('resource.type="gce_firewall_rule"', "compute.firewalls.patch", "compute.firewalls.insert",
                      "compute.firewalls.delete"),
    "route": ('resource.type="gce_route"', "compute.routes.delete", "compute.routes.insert"),
    "network": ('resource.type="gce_network"', "compute.networks.insert", "compute.networks.patch",
                "compute.networks.delete", "compute.networks.removepeering", "compute.networks.addpeering"),
    "storage_iam": ('resource.type="gcs_bucket"', '"storage.setiampermissions"'),
    "sql_config": ('"cloudsql.instances.update"',),
}
USER_METRIC = re.compile(r'metric\.type="logging\.googleapis\.com/user/([^"]+)"')


def normalise(filter_text: str | None) -> str:
    text = re.sub(r"\s+", "", str(filter_text or "")).lower().replace("'", '"')
    return text.replace(':"', '="')


def changes_selected(filter_text: str | None) -> list[str]:
    text = normalise(filter_text)
    return [change for change, fragments in CHANGES.items() if text and all(f in text for f in fragments)]


def _condition_filters(policy: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(user metric names referenced, log-match filters) of a policy's conditions."""
    metrics: list[str] = []
    log_filters: list[str] = []
    for cond in policy.get("conditions") or []:
        for kind in ("conditionThreshold", "conditionAbsent"):
            metrics += USER_METRIC.findall(normalise((cond.get(kind) or {}).get("filter")))
        if cond.get("conditionMatchedLog"):
            log_filters.append(cond["conditionMatchedLog"].get("filter", ""))
    return metrics, log_filters


def alert_attributes(metrics: list[dict[str, Any]], policies: list[dict[str, Any]]) -> dict[str, Any]:
    metric_changes = {m.get("name", ""): changes_selected(m.get("filter")) for m in metrics if not m.get("disabled")}
    alerted: dict[str, list[str]] = {change: [] for change in CHANGES}
    for policy in policies:
        if policy.get("enabled") is False or not policy.get("notificationChannels"):
            continue
        names, log_filters = _condition_filters(policy)
        found = {c for name in names for c in metric_changes.get(name, [])}
        found |= {c for f in log_filters for c in changes_selected(f)}
        for change in found:
            alerted[change].append(policy.get("displayName") or policy.get("name", ""))
    return {
        "alerted": {change: bool(by) for change, by in alerted.items()},
        "alert_policies": {change: sorted(set(by)) for change, by in alerted.items() if by},
        "metrics": {change: sorted(n for n, cs in metric_changes.items() if change in cs) for change in CHANGES},
        "metric_count": len(metrics),
        "alert_policy_count": len(policies),
    }


@collector("monitoring", level="project", facts={
    "gcp.monitoring.change_alerts": 'Which security-relevant changes a log-based metric + alert policy pair reports (one fact per project)',
})
def collect(ctx: GcpContext) -> None:
    project, clients = ctx.project, ctx.clients
    with ctx.feeding(ALERTS):
        metrics = list(pages(clients, lambda token: clients.discovery("logging", "v2").projects().metrics().list(
            parent=f"projects/{project}", pageToken=token), "metrics"))
        policies = list(pages(clients, lambda token: clients.discovery("monitoring", "v3").projects()
                              .alertPolicies().list(name=f"projects/{project}", pageToken=token), "alertPolicies"))
        ctx.add(ALERTS, f"//monitoring.googleapis.com/projects/{project}", project, "global",
                alert_attributes(metrics, policies))
