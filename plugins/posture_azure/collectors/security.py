"""Defender for Cloud plans (pricings, one call), security contacts (one call) and identity and machine
recommendations (one paged assessments list shared by both fact types)."""

from __future__ import annotations

from typing import Any

from posture_azure.assessments import identity_attributes, roll_up
from posture_azure.collectors import collector
from posture_azure.collectors.base import AzureContext, Failed, arm_list, enum_str, g

PRICING = "azure.security.pricing"
PLANS = "azure.security.defender_plans"
CONTACTS = "azure.security.contacts"
IDENTITY = "azure.security.identity_assessments"
MACHINES = "azure.security.machine_assessments"
#: security contacts with notification sources (alerts, attack paths): the 2023-12-01-preview shape
CONTACTS_API = "2023-12-01-preview"
#: fact attribute -> display-name prefixes of the Defender for Cloud recommendations that decide it
MACHINE_RECOMMENDATIONS: dict[str, tuple[str, ...]] = {
    "system_updates": ("system updates should be installed on your machines",
                       "machines should be configured to periodically check for missing system updates"),
    "endpoint_protection": ("edr solution should be installed on virtual machines",
                            "install endpoint protection solution on virtual machines",
                            "endpoint protection health issues should be resolved on your machines"),
}


def contacts_attributes(contacts: list[dict[str, Any]]) -> dict[str, Any]:
    """Security contacts as ARM returns them (``properties.notificationsSources``: Alert / AttackPath)."""
    props = [c.get("properties") or {} for c in contacts]
    enabled = [p for p in props if p.get("isEnabled", True)]
    sources = [s for p in enabled for s in p.get("notificationsSources") or []]
    alert = [s for s in sources if str(s.get("sourceType")).lower() == "alert"]
    attack = [s for s in sources if str(s.get("sourceType")).lower() == "attackpath"]
    return {
        "contacts": len(contacts),
        "email_configured": any(bool(p.get("emails")) for p in enabled),
        "alert_notifications": bool(alert),
        "notify_roles": sorted({str(r) for p in enabled
                                if str((p.get("notificationsByRole") or {}).get("state")) == "On"
                                for r in (p.get("notificationsByRole") or {}).get("roles") or []}),
        "alert_minimal_severity": next((s.get("minimalSeverity") for s in alert if s.get("minimalSeverity")), None),
        "attack_path_notifications": bool(attack),
        "attack_path_minimal_risk": next((s.get("minimalRiskLevel") for s in attack if s.get("minimalRiskLevel")),
                                         None),
    }


def machine_attributes(assessments: list[tuple[str, str | None]]) -> dict[str, Any]:
    """(display name, status code) pairs -> one rolled-up status per machine recommendation (None: not reported)."""
    attrs: dict[str, Any] = {}
    for attr, prefixes in MACHINE_RECOMMENDATIONS.items():
        codes = [str(code or "") for name, code in assessments if name.lower().startswith(prefixes)]
        attrs[attr] = roll_up(codes)
        attrs[f"{attr}_unhealthy"] = codes.count("Unhealthy")
    return attrs


@collector("security", level="subscription", facts={
    "azure.security.pricing": 'Defender for Cloud plan of one resource type: pricing tier',
    "azure.security.contacts": 'Defender for Cloud security contacts of a subscription (presence, not addresses)',
    "azure.security.identity_assessments": 'Defender for Cloud identity recommendations of a subscription: MFA, guest and blocked accounts',
    "azure.security.defender_plans": 'Defender for Cloud plans of a subscription: plan name -> pricing tier',
    "azure.security.machine_assessments": 'Defender for Cloud machine recommendations of a subscription: system updates, endpoint protection',
})
def collect(ctx: AzureContext) -> None:
    from azure.mgmt.security import SecurityCenter

    client = ctx.client(SecurityCenter)
    sub = f"/subscriptions/{ctx.subscription}"
    if ctx.wants(PRICING, PLANS):
        pricings = ctx.attempt([PRICING, PLANS],
                            lambda: client.pricings.list(scope_id=f"subscriptions/{ctx.subscription}"))
        if not isinstance(pricings, Failed):
            plans = list(getattr(pricings, "value", pricings) or [])
            for p in plans:
                ctx.add(PRICING, p.id, p.name, "global", {
                    "pricing_tier": enum_str(p.pricing_tier),
                    "sub_plan": g(p, "sub_plan"),
                    "deprecated": bool(g(p, "deprecated", False)),
                })
            # one fact per subscription: a plan the list does not return reads as off, never as absent
            ctx.add(PLANS, f"{sub}/providers/Microsoft.Security/pricings", ctx.subscription, "global",
                    {"plans": {str(p.name): enum_str(p.pricing_tier) for p in plans}})
    if ctx.wants(CONTACTS):
        contacts = ctx.attempt([CONTACTS], lambda: arm_list(
            ctx, f"{sub}/providers/Microsoft.Security/securityContacts", CONTACTS_API))
        if not isinstance(contacts, Failed):
            ctx.add(CONTACTS, f"{sub}/providers/Microsoft.Security/securityContacts",
                    ctx.subscription, "global", contacts_attributes(contacts))
    if ctx.wants(IDENTITY, MACHINES):
        found = ctx.attempt([IDENTITY, MACHINES],
                         lambda: client.assessments.list(scope=f"subscriptions/{ctx.subscription}"))
        if not isinstance(found, Failed):
            ctx.add(IDENTITY, f"{sub}/providers/Microsoft.Security/assessments",
                    ctx.subscription, "global",
                    identity_attributes((str(a.name), enum_str(g(a, "status.code"))) for a in found))
            ctx.add(MACHINES, f"{sub}/providers/Microsoft.Security/assessments/machines", ctx.subscription, "global",
                    machine_attributes([(str(g(a, "display_name", "")), enum_str(g(a, "status.code")))
                                        for a in found]))
