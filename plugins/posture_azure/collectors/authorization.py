"""Role assignments and definitions (one call each), classic administrators (one call).

Guest detection needs Microsoft Graph (``userType``), which is not ARM: the
fact carries ARM's ``principal_type`` (``User``, ``Group``,
``ServicePrincipal``, ``ForeignGroup``) and, as information, ``delegated``: the
assignment names a managed identity of this tenant on behalf of an Azure
Lighthouse delegation (policy remediation), not an external identity.
"""

from __future__ import annotations

from typing import Any

from posture_azure.collectors import collector
from posture_azure.collectors.base import AzureContext, Failed, enum_str, g

ASSIGNMENT = "azure.authorization.role_assignment"
#: privileged role assignments held by users, with the user's Entra ``userType`` (read from Microsoft Graph)
USER_ASSIGNMENT = "azure.authorization.privileged_user_assignment"
OWNERS = "azure.authorization.owners"
GUESTS = "/users?$filter=userType eq 'Guest'&$select=id,userType&$top=999"
DEFINITION = "azure.authorization.role_definition"
SUBSCRIPTION = "azure.authorization.subscription"
PRIVILEGED_ROLES = {"Owner", "Contributor", "User Access Administrator", "Role Based Access Control Administrator"}


def definition_attributes(d: Any) -> dict[str, Any]:
    actions = sorted({a for p in (d.permissions or []) for a in (p.actions or [])})
    return {
        "role_name": d.role_name,
        "role_type": d.role_type,
        "actions": actions,
        "grants_all_actions": "*" in actions,
        "assignable_scopes": list(d.assignable_scopes or []),
    }


def assignment_attributes(a: Any, roles: dict[str, str], subscription: str) -> dict[str, Any]:
    role_name = roles.get(str(a.role_definition_id).rsplit("/", 1)[-1].lower(), "")
    scope = str(a.scope or "")
    return {
        "role_name": role_name,
        "role_definition_id": a.role_definition_id,
        "privileged": role_name in PRIVILEGED_ROLES,
        "principal_id": a.principal_id,
        "principal_type": enum_str(a.principal_type),
        "delegated": bool(g(a, "delegated_managed_identity_resource_id")),
        "scope": scope,
        "subscription_scope": scope.rstrip("/").lower() in ("/", f"/subscriptions/{subscription}".lower())
        or scope.lower().startswith("/providers/microsoft.management/managementgroups/"),
    }


def owners_attributes(assignments: list[dict[str, Any]]) -> dict[str, Any]:
    """Owner assignments effective on the whole subscription (assigned there or inherited from above)."""
    owners = sorted({str(a["principal_id"]) for a in assignments
                     if a["role_name"] == "Owner" and a["subscription_scope"]})
    return {"owner_count": len(owners), "owners": owners}


def add_user_assignments(ctx: AzureContext, judged: list[tuple[Any, dict[str, Any]]]) -> None:
    """Privileged assignments held by users, joined with Graph's guest list (one paged read per tenant)."""
    from posture_azure import graph
    from posture_azure.collectors.entra import graph_call

    users = [(a, attrs) for a, attrs in judged if attrs["privileged"] and attrs["principal_type"] == "User"]
    guests = graph_call(ctx, [USER_ASSIGNMENT], GUESTS, graph.list_all)
    if isinstance(guests, Failed):
        return
    guest_ids = {str(u.get("id", "")).lower() for u in guests}
    for a, attrs in users:
        ctx.add(USER_ASSIGNMENT, a.id, f"{attrs['role_name']} -> {a.principal_id}", "global", {
            "role_name": attrs["role_name"],
            "principal_id": a.principal_id,
            "scope": attrs["scope"],
            "user_type": "Guest" if str(a.principal_id).lower() in guest_ids else "Member",
        })


@collector("authorization", level="subscription", facts={
    "azure.authorization.role_assignment": 'Role assignment visible in a subscription: role, principal type, scope',
    "azure.authorization.role_definition": 'Custom role definition: actions and assignable scopes',
    "azure.authorization.subscription": 'Subscription-level authorization: classic (co-)administrators',
    "azure.authorization.owners": 'Owners of a subscription (assigned there or inherited)',
    "azure.authorization.privileged_user_assignment": "Privileged role assignment held by a user, with the user's Entra ID userType (Microsoft Graph)",
})
def collect(ctx: AzureContext) -> None:
    from azure.mgmt.authorization import AuthorizationManagementClient

    client = ctx.client(AuthorizationManagementClient)
    sub_scope = f"/subscriptions/{ctx.subscription}"
    listed = (ASSIGNMENT, USER_ASSIGNMENT, OWNERS)
    if ctx.wants(*listed, DEFINITION):
        definitions = ctx.attempt([*listed, DEFINITION], lambda: client.role_definitions.list(sub_scope))
        if not isinstance(definitions, Failed):
            roles = {str(d.name).lower(): d.role_name for d in definitions}
            for d in definitions:
                if d.role_type == "CustomRole":
                    ctx.add(DEFINITION, d.id, d.role_name, "global", definition_attributes(d))
            if ctx.wants(*listed):
                assignments = ctx.attempt(listed, lambda: client.role_assignments.list_for_subscription())
                if not isinstance(assignments, Failed):
                    judged = [(a, assignment_attributes(a, roles, ctx.subscription)) for a in assignments]
                    for a, attrs in judged:
                        ctx.add(ASSIGNMENT, a.id, f"{attrs['role_name'] or a.name} -> {a.principal_id}", "global",
                                attrs)
                    if ctx.wants(OWNERS):
                        ctx.add(OWNERS, sub_scope, ctx.subscription, "global", owners_attributes(
                            [attrs for _, attrs in judged]))
                    if ctx.wants(USER_ASSIGNMENT):
                        add_user_assignments(ctx, judged)
    if ctx.wants(SUBSCRIPTION):
        admins = ctx.attempt([SUBSCRIPTION], lambda: client.classic_administrators.list())
        if not isinstance(admins, Failed):
            roles_seen = [str(g(a, "role", "")) for a in admins]
            ctx.add(SUBSCRIPTION, sub_scope, ctx.subscription, "global", {
                "classic_administrators": len(roles_seen),
                "co_administrators": sum(1 for r in roles_seen if "coadministrator" in r.lower()),
            })
