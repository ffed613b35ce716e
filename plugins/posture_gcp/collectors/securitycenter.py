"""Security Command Center v1 (discovery client): active identity findings of Security Health Analytics.

GCP has no API listing users' 2-Step Verification; Security Health Analytics
reads it from Cloud Identity / Workspace and raises ``MFA_NOT_ENFORCED`` on the
*organization* resource. So the findings are read at the project's
organization (found with one ``projects.getAncestry`` call), and at the
project itself when it belongs to no organization. One paged findings call
per organization and scan (projects of one organization share the answer),
filtered server-side to active MFA findings.

SCC not activated, or the API disabled, means MFA cannot be assessed: that is
an error with a hint (never a pass, never not_applicable).
"""

from __future__ import annotations

from typing import Any

from posture_gcp.collectors import GcpContext, collector, pages

FINDINGS = "gcp.securitycenter.identity_findings"
MFA_CATEGORY = "MFA_NOT_ENFORCED"
FILTER = f'state="ACTIVE" AND category="{MFA_CATEGORY}"'
HINT = ("MFA cannot be assessed: activate Security Command Center (standard tier, Security Health Analytics) "
        "for the organization and grant roles/securitycenter.findingsViewer, or verify that 2-Step "
        "Verification is enforced in Cloud Identity / Workspace")


def organization_of(ctx: GcpContext) -> str | None:
    """``organizations/N`` the project belongs to (through any folders), or None."""
    clients = ctx.clients
    ancestry = clients.execute(clients.discovery("cloudresourcemanager", "v1").projects().getAncestry(
        projectId=ctx.project, body={}))
    for ancestor in ancestry.get("ancestor") or []:
        rid = ancestor.get("resourceId") or {}
        if rid.get("type") == "organization" and rid.get("id"):
            return f"organizations/{rid['id']}"
    return None


def list_findings(ctx: GcpContext, parent: str) -> list[dict[str, Any]]:
    """Every active MFA finding under ``parent`` (``organizations/N`` or ``projects/P``), all pages."""
    clients = ctx.clients
    resource = parent.split("/", 1)[0]

    def request(token: str | None) -> Any:
        findings = getattr(clients.discovery("securitycenter", "v1"), resource)().sources().findings()
        return findings.list(parent=f"{parent}/sources/-", filter=FILTER, pageSize=1000, pageToken=token)

    return list(pages(clients, request, "listFindingsResults"))


def findings_attributes(parent: str, results: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts and finding names only: resource names of org/project, no user identities."""
    active = [r.get("finding") or {} for r in results]
    active = [f for f in active if f.get("state", "ACTIVE") == "ACTIVE" and f.get("category") == MFA_CATEGORY]
    return {
        "parent": parent,
        "reported": True,
        "mfa_not_enforced_active": len(active),
        "findings": [{"name": f.get("name"), "category": f.get("category"), "resource_name": f.get("resourceName"),
                      "severity": f.get("severity"), "event_time": f.get("eventTime")} for f in active[:20]],
    }


@collector("securitycenter", level="project", facts={
    "gcp.securitycenter.identity_findings": "Active Security Health Analytics identity findings (MFA_NOT_ENFORCED) for a project's organization (counts only)",
})
def collect(ctx: GcpContext) -> None:
    clients = ctx.clients
    try:
        parent = organization_of(ctx) or f"projects/{ctx.project}"
        results = clients.shared.once(("scc-findings", parent, FILTER), lambda: list_findings(ctx, parent))
    except Exception as exc:  # not activated, disabled or denied: not assessable, never a pass
        ctx.fail([FINDINGS], exc, where="Security Command Center findings", hint=HINT)
        return
    with ctx.feeding(FINDINGS):
        ctx.add(FINDINGS, f"//securitycenter.googleapis.com/projects/{ctx.project}", ctx.project, "global",
                findings_attributes(parent, results))
