"""Essential Contacts (discovery client): effective security contacts, inherited ones included.

``contacts:compute`` resolves contacts set on the project, its folders and its
organization in one call, so a contact defined once at the organization counts.
Addresses never enter the fact: only how many contacts and their categories.
"""

from __future__ import annotations

from typing import Any

from posture_gcp.collectors import GcpContext, collector, pages

CONTACTS = "gcp.essentialcontacts.project"


def contacts_attributes(contacts: list[dict[str, Any]]) -> dict[str, Any]:
    categories = sorted({c for x in contacts for c in x.get("notificationCategorySubscriptions") or []})
    valid = [x for x in contacts if x.get("validationState", "VALID") != "INVALID"]
    return {"security_contact_count": len(valid), "invalid_contact_count": len(contacts) - len(valid),
            "categories": categories}


@collector("essentialcontacts", level="project", facts={
    "gcp.essentialcontacts.project": "A project's essential contacts (categories only, no addresses)",
})
def collect(ctx: GcpContext) -> None:
    project, clients = ctx.project, ctx.clients
    with ctx.feeding(CONTACTS):
        contacts = list(pages(clients, lambda token: clients.discovery("essentialcontacts", "v1").projects()
                              .contacts().compute(parent=f"projects/{project}", notificationCategories="SECURITY",
                                                  pageToken=token), "contacts"))
        ctx.add(CONTACTS, f"//essentialcontacts.googleapis.com/projects/{project}", project, "global",
                contacts_attributes(contacts))
