"""Activity log alert rules (one subscription-wide list) and Application Insights components (one list).

An operation counts as alerted when an enabled rule scoped to the whole
subscription matches it (category Administrative and that operation name,
with no narrowing condition on a resource group, resource or caller) and
notifies at least one action group: an alert nobody receives is no alert.
"""

from __future__ import annotations

from typing import Any

from posture_azure.collectors import collector
from posture_azure.collectors.base import AzureContext, Failed, arm_list

ALERTS = "azure.monitor.activity_log_alerts"
APP_INSIGHTS = "azure.monitor.app_insights"
ALERTS_API = "2020-10-01"
COMPONENTS_API = "2020-02-02"
#: fact attribute -> the Azure operation whose activity log entry must raise an alert
OPERATIONS = {
    "create_policy_assignment": "Microsoft.Authorization/policyAssignments/write",
    "delete_policy_assignment": "Microsoft.Authorization/policyAssignments/delete",
    "write_nsg": "Microsoft.Network/networkSecurityGroups/write",
    "delete_nsg": "Microsoft.Network/networkSecurityGroups/delete",
    "write_security_solution": "Microsoft.Security/securitySolutions/write",
    "delete_security_solution": "Microsoft.Security/securitySolutions/delete",
    "write_sql_firewall_rule": "Microsoft.Sql/servers/firewallRules/write",
    "delete_sql_firewall_rule": "Microsoft.Sql/servers/firewallRules/delete",
    "write_public_ip": "Microsoft.Network/publicIPAddresses/write",
    "delete_public_ip": "Microsoft.Network/publicIPAddresses/delete",
}
#: condition fields that narrow a rule to part of the subscription
NARROWING_FIELDS = {"resourcegroup", "resourceid", "caller", "resourcetype"}


def _conditions(rule: dict[str, Any]) -> list[dict[str, Any]]:
    return list(((rule.get("properties") or {}).get("condition") or {}).get("allOf") or [])


def _equals(conditions: list[dict[str, Any]], field: str) -> set[str]:
    found: set[str] = set()
    for c in conditions:
        if str(c.get("field", "")).lower() == field:
            if c.get("equals") is not None:
                found.add(str(c["equals"]).lower())
            found |= {str(v).lower() for v in c.get("containsAny") or []}
        for alt in c.get("anyOf") or []:
            if str(alt.get("field", "")).lower() == field and alt.get("equals") is not None:
                found.add(str(alt["equals"]).lower())
    return found


def usable(rule: dict[str, Any], subscription: str) -> bool:
    props = rule.get("properties") or {}
    scopes = {str(s).rstrip("/").lower() for s in props.get("scopes") or []}
    groups = (props.get("actions") or {}).get("actionGroups") or []
    return bool(props.get("enabled", True)) and f"/subscriptions/{subscription}".lower() in scopes and bool(groups)


def alert_attributes(rules: list[dict[str, Any]], subscription: str) -> dict[str, Any]:
    alerted = {attr: False for attr in OPERATIONS}
    service_health = False
    for rule in rules:
        if not usable(rule, subscription):
            continue
        conditions = _conditions(rule)
        if any(str(c.get("field", "")).lower() in NARROWING_FIELDS for c in conditions):
            continue
        categories = _equals(conditions, "category")
        if "servicehealth" in categories:
            service_health = True
        if "administrative" in categories:
            operations = _equals(conditions, "operationname")
            for attr, operation in OPERATIONS.items():
                alerted[attr] = alerted[attr] or operation.lower() in operations
    return {"rules": len(rules), "alerted": alerted, "service_health": service_health}


@collector("monitor_alerts", level="subscription", facts={
    "azure.monitor.activity_log_alerts": 'Activity log alert rules of a subscription: which operations and service health raise alerts',
    "azure.monitor.app_insights": 'Application Insights components of a subscription (count)',
})
def collect(ctx: AzureContext) -> None:
    sub = f"/subscriptions/{ctx.subscription}"
    if ctx.wants(ALERTS):
        rules = ctx.attempt([ALERTS], lambda: arm_list(
            ctx, f"{sub}/providers/Microsoft.Insights/activityLogAlerts", ALERTS_API))
        if not isinstance(rules, Failed):
            ctx.add(ALERTS, f"{sub}/providers/Microsoft.Insights/activityLogAlerts", ctx.subscription, "global",
                    alert_attributes(rules, ctx.subscription))
    if ctx.wants(APP_INSIGHTS):
        components = ctx.attempt([APP_INSIGHTS], lambda: arm_list(
            ctx, f"{sub}/providers/Microsoft.Insights/components", COMPONENTS_API))
        if not isinstance(components, Failed):
            ctx.add(APP_INSIGHTS, f"{sub}/providers/Microsoft.Insights/components", ctx.subscription, "global", {
                "components": len(components),
                "names": sorted(str(c.get("name")) for c in components),
            })
