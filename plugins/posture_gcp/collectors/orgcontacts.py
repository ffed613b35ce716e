"""Essential Contacts of the project's organization (discovery client), judged at the organization.

The organization comes from the project's ancestor chain (shared with the other ancestor readers);
``organizations.contacts.list`` is read once per organization and scan, whatever the number of its
projects. Addresses never enter the fact: only the notification categories covered.
"""

from __future__ import annotations

from typing import Any

from posture_gcp.collectors import GcpContext, ancestors, collector, pages

ORG_CONTACTS = "gcp.essentialcontacts.organization"
#: the categories an organization should route to someone (ALL covers every one)
REQUIRED = ("LEGAL", "SECURITY", "SUSPENSION", "TECHNICAL", "TECHNICAL_INCIDENTS")


def contact_attributes(organization: str | None, contacts: list[dict[str, Any]]) -> dict[str, Any]:
    valid = [c for c in contacts if c.get("validationState", "VALID") != "INVALID"]
    covered = {cat for c in valid for cat in c.get("notificationCategorySubscriptions") or []}
    if "ALL" in covered:
        covered |= set(REQUIRED)
    return {"organization": organization, "contact_count": len(valid), "categories": sorted(covered),
            "missing_categories": [c for c in REQUIRED if c not in covered]}


@collector("orgcontacts", level="project", facts={
    "gcp.essentialcontacts.organization": "The project's organization's essential contacts (categories only)",
})
def collect(ctx: GcpContext) -> None:
    clients = ctx.clients
    with ctx.feeding(ORG_CONTACTS):
        names, unreadable = ancestors.chain(ctx)
        orgs = [n for n in names if n.startswith("organizations/")]
        if not orgs and unreadable:
            raise PermissionError(f"the organization above {ctx.project} is unknown: {', '.join(unreadable)} "
                                  "could not be read (grant roles/browser)")
        if not orgs:  # a project outside any organization: nothing to judge at organization level
            ctx.add(ORG_CONTACTS, f"//essentialcontacts.googleapis.com/projects/{ctx.project}", ctx.project, "global",
                    contact_attributes(None, []))
            return
        org = orgs[0]
        contacts = clients.shared.once(("org-contacts", org), lambda: list(pages(
            clients, lambda token: clients.discovery("essentialcontacts", "v1").organizations().contacts().list(
                parent=org, pageToken=token), "contacts")))
        ctx.add(ORG_CONTACTS, f"//essentialcontacts.googleapis.com/{org}", org, "global",
                contact_attributes(org, contacts))

