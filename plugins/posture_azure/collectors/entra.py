"""Microsoft Entra ID through Microsoft Graph: tenant sign-in and authorization policies, app credentials.

Graph is the tenant's, so every subscription of the tenant carries the same
tenant fact (the Graph reads are shared, see ``posture_azure.graph``). A
Graph error (403 without the permission, 429 after retries) is an error for
the Graph-fed fact types only, naming the permission to grant.
"""

from __future__ import annotations

from typing import Any

from posture_azure import graph
from posture_azure.collectors import collector
from posture_azure.collectors.base import AzureContext, Failed

TENANT = "azure.entra.tenant"
APPLICATION = "azure.entra.application"
TENANT_RESOURCE = "microsoft-entra-tenant"

SECURITY_DEFAULTS = "/policies/identitySecurityDefaultsEnforcementPolicy"
CONDITIONAL_ACCESS = "/identity/conditionalAccess/policies"
AUTHORIZATION_POLICY = "/policies/authorizationPolicy"
APPLICATIONS = "/applications?$select=id,appId,displayName,passwordCredentials,keyCredentials&$top=999"

#: Entra ID guest-user role template ids (authorizationPolicy.guestUserRoleId)
GUEST_ROLES = {
    "a0b1b346-4d3e-4e8b-98f8-753987be4970": "member",      # same access as members (most permissive)
    "10dae51f-b6af-4016-8d66-8c2a99b929b3": "limited",     # limited access to directory objects (default)
    "2af84b1e-32c8-42b7-82bc-daa82404023b": "restricted",  # own directory objects only (most restrictive)
}


def graph_call(ctx: AzureContext, fact_types: list[str], path: str, fetch: Any) -> Any:
    """A Graph read whose failure names the Graph permission it needs."""
    where = f"Microsoft Graph GET {path.split('?', 1)[0]} (needs {graph.permission_for(path)})"
    return ctx.attempt(fact_types, lambda: fetch(ctx, path), where=where)


def requires_mfa_for_all_users(policy: dict[str, Any]) -> bool:
    """An enabled Conditional Access policy applying to all users and all cloud apps that grants only with MFA
    (built-in control or an authentication strength)."""
    if str(policy.get("state", "")).lower() != "enabled":
        return False
    conditions = policy.get("conditions") or {}
    users = conditions.get("users") or {}
    apps = conditions.get("applications") or {}
    if "All" not in (users.get("includeUsers") or []) or "All" not in (apps.get("includeApplications") or []):
        return False
    grant = policy.get("grantControls") or {}
    return "mfa" in [str(c).lower() for c in grant.get("builtInControls") or []] or bool(
        grant.get("authenticationStrength"))


def tenant_attributes(defaults: dict[str, Any], ca_policies: list[dict[str, Any]] | None,
                      authz: dict[str, Any]) -> dict[str, Any]:
    security_defaults = bool(defaults.get("isEnabled"))
    mfa_policies = sorted(str(p.get("displayName") or p.get("id")) for p in ca_policies or []
                          if requires_mfa_for_all_users(p))
    perms = authz.get("defaultUserRolePermissions") or {}
    guest_role = str(authz.get("guestUserRoleId") or "").lower()
    return {
        "security_defaults_enabled": security_defaults,
        "conditional_access_policies": len(ca_policies or []),
        "conditional_access_mfa_all_users": mfa_policies,
        # security defaults require MFA registration and MFA when needed for every user
        "mfa_required_for_all_users": security_defaults or bool(mfa_policies),
        "guest_user_role": GUEST_ROLES.get(guest_role, guest_role or None),
        "guest_invites_from": authz.get("allowInvitesFrom"),
        "users_can_register_applications": bool(perms.get("allowedToCreateApps", True)),
        "users_can_create_tenants": bool(perms.get("allowedToCreateTenants", True)),
        "users_can_create_security_groups": bool(perms.get("allowedToCreateSecurityGroups", True)),
        "user_consent_policies": sorted(perms.get("permissionGrantPoliciesAssigned") or []),
    }


def application_attributes(app: dict[str, Any]) -> dict[str, Any]:
    """Credential metadata only: counts and expiry dates (Graph never returns secret values; its ``hint``,
    the first characters of a secret, is deliberately not kept)."""
    secrets = app.get("passwordCredentials") or []
    certificates = app.get("keyCredentials") or []
    return {
        "app_id": app.get("appId"),
        "client_secrets": len(secrets),
        "certificates": len(certificates),
        "credential_expiries": sorted(str(c.get("endDateTime")) for c in [*secrets, *certificates]
                                      if c.get("endDateTime")),
    }


@collector("entra", level="subscription", facts={
    "azure.entra.tenant": 'Entra ID tenant (Microsoft Graph): security defaults, Conditional Access MFA, guest and user settings',
    "azure.entra.application": 'Entra ID app registration (Microsoft Graph): client secret and certificate counts',
})
def collect(ctx: AzureContext) -> None:
    if ctx.wants(TENANT):
        defaults = graph_call(ctx, [TENANT], SECURITY_DEFAULTS, graph.get)
        authz = graph_call(ctx, [TENANT], AUTHORIZATION_POLICY, graph.get)
        # Conditional Access is read only when security defaults are off (the two exclude each other)
        ca: Any = None
        if not isinstance(defaults, Failed) and not defaults.get("isEnabled"):
            ca = graph_call(ctx, [TENANT], CONDITIONAL_ACCESS, graph.list_all)
        if not any(isinstance(x, Failed) for x in (defaults, authz, ca)):
            ctx.add(TENANT, TENANT_RESOURCE, "Microsoft Entra ID tenant", "global",
                    tenant_attributes(defaults, ca, authz))
    if ctx.wants(APPLICATION):
        apps = graph_call(ctx, [APPLICATION], APPLICATIONS, graph.list_all)
        if not isinstance(apps, Failed):
            for app in apps:
                ctx.add(APPLICATION, f"/applications/{app.get('id')}", str(app.get("displayName") or app.get("id")),
                        "global", application_attributes(app))
