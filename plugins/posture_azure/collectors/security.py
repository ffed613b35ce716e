"""Defender for Cloud plans (pricings, one call), security contacts (one call) and identity
recommendations (one paged assessments list)."""

from __future__ import annotations

from typing import Any

from posture_azure.assessments import identity_attributes
from posture_azure.collectors import collector
from posture_azure.collectors.base import AzureContext, Failed, enum_str, g

PRICING = "azure.security.pricing"
CONTACTS = "azure.security.contacts"
IDENTITY = "azure.security.identity_assessments"


def contacts_attributes(contacts: list[Any]) -> dict[str, Any]:
    return {
        "contacts": len(contacts),
        "email_configured": any(bool(g(c, "emails")) for c in contacts),
        "alert_notifications": any(enum_str(g(c, "alert_notifications.state")) == "On" for c in contacts),
        "notify_roles": sorted({str(r) for c in contacts if enum_str(g(c, "notifications_by_role.state")) == "On"
                                for r in (g(c, "notifications_by_role.roles", []) or [])}),
        "alert_minimal_severity": next((enum_str(g(c, "alert_notifications.minimal_severity")) for c in contacts
                                        if g(c, "alert_notifications.minimal_severity")), None),
    }


@collector("security", level="subscription", facts={
    "azure.security.pricing": 'Defender for Cloud plan of one resource type: pricing tier',
    "azure.security.contacts": 'Defender for Cloud security contacts of a subscription (presence, not addresses)',
    "azure.security.identity_assessments": 'Defender for Cloud identity recommendations of a subscription: MFA, guest and blocked accounts',
})
def collect(ctx: AzureContext) -> None:
    from azure.mgmt.security import SecurityCenter

    client = ctx.client(SecurityCenter)
    if ctx.wants(PRICING):
        pricings = ctx.attempt([PRICING], lambda: client.pricings.list(scope_id=f"subscriptions/{ctx.subscription}"))
        if not isinstance(pricings, Failed):
            for p in getattr(pricings, "value", pricings) or []:
                ctx.add(PRICING, p.id, p.name, "global", {
                    "pricing_tier": enum_str(p.pricing_tier),
                    "sub_plan": g(p, "sub_plan"),
                    "deprecated": bool(g(p, "deprecated", False)),
                })
    if ctx.wants(CONTACTS):
        contacts = ctx.attempt([CONTACTS], lambda: client.security_contacts.list())
        if not isinstance(contacts, Failed):
            ctx.add(CONTACTS, f"/subscriptions/{ctx.subscription}/providers/Microsoft.Security/securityContacts",
                    ctx.subscription, "global", contacts_attributes(list(contacts)))
    if ctx.wants(IDENTITY):
        found = ctx.attempt([IDENTITY], lambda: client.assessments.list(scope=f"subscriptions/{ctx.subscription}"))
        if not isinstance(found, Failed):
            ctx.add(IDENTITY, f"/subscriptions/{ctx.subscription}/providers/Microsoft.Security/assessments",
                    ctx.subscription, "global",
                    identity_attributes((str(a.name), enum_str(g(a, "status.code"))) for a in found))
