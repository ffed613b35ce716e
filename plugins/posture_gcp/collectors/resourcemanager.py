"""Resource Manager: the project itself and its IAM policy (bindings + audit configs)."""

from __future__ import annotations

import re
from typing import Any

from posture_gcp.collectors import GcpContext, ancestors, collector, label_attributes

PROJECT, POLICY = "gcp.resourcemanager.project", "gcp.resourcemanager.iam_policy"
PUBLIC_MEMBERS = {"allUsers", "allAuthenticatedUsers"}
PRIMITIVE_ROLES = {"roles/owner", "roles/editor"}
IMPERSONATION_ROLES = {"roles/iam.serviceAccountUser", "roles/iam.serviceAccountTokenCreator"}
#: Separation of duties: nobody may hold a role of the first set together with one of the second.
DUTY_CONFLICTS = {
    "service_account_role_conflicts": ({"roles/iam.serviceAccountAdmin"}, {"roles/iam.serviceAccountUser"}),
    "kms_role_conflicts": ({"roles/cloudkms.admin"}, {"roles/cloudkms.cryptoKeyEncrypterDecrypter",
                                                      "roles/cloudkms.cryptoKeyEncrypter",
                                                      "roles/cloudkms.cryptoKeyDecrypter"}),
}
DEFAULT_SA = re.compile(r"^serviceAccount:(\d+-compute@developer|[a-z0-9-]+@appspot)\.gserviceaccount\.com$")
HUMAN_PREFIXES = ("user:", "group:", "domain:")
#: Federated identities: workforce pools hold people (an external IdP's users), workload pools hold workloads.
WORKFORCE = re.compile(r"^principal(Set)?://iam\.[^/]+/locations/[^/]+/workforcePools/")
#: One person: a Google account, or a single workforce identity (``.../workforcePools/P/subject/S``).
INDIVIDUAL = re.compile(r"^(user:|principal://iam\.[^/]+/locations/[^/]+/workforcePools/[^/]+/subject/)")
WORKLOAD = re.compile(r"^principal(Set)?://iam\.[^/]+/projects/[^/]+/locations/[^/]+/workloadIdentityPools/")
#: Google-managed service agents: Google grants them roles (the Google APIs Service Agent holds roles/editor on
#: every project) and documents not to revoke them, so they are not the project's privilege findings.
SERVICE_AGENTS = (
    re.compile(r"^serviceAccount:\d+@cloudservices\.gserviceaccount\.com$"),
    re.compile(r"^serviceAccount:service-(org-)?\d+@gcp-sa-[a-z0-9-]+\.iam\.gserviceaccount\.com$"),
    re.compile(r"^serviceAccount:service-\d+@(?P<project>[a-z0-9-]+)\.iam\.gserviceaccount\.com$"),
)


def is_service_agent(member: str, project: str | None = None) -> bool:
    """True for a Google-managed service agent; ``service-N@PROJECT.iam...`` of the scanned project itself is
    a user-managed account that happens to be named like one."""
    for pattern in SERVICE_AGENTS:
        m = pattern.match(member)
        if m:
            return not (project and m.groupdict().get("project") == project)
    return False


def project_attributes(p: dict[str, Any]) -> dict[str, Any]:
    return {
        "project_id": p.get("projectId"),
        "project_number": str(p.get("name", "")).rsplit("/", 1)[-1],
        "display_name": p.get("displayName"),
        "state": p.get("state"),
        "parent": p.get("parent"),
        **label_attributes(p.get("labels")),
    }


def is_admin_role(role: str) -> bool:
    """Owner, Editor, or any role named an administrator (``roles/iam.securityAdmin``, custom ``...Admin``)."""
    return role in PRIMITIVE_ROLES or "admin" in role.rsplit("/", 1)[-1].lower()


def duty_conflicts(bindings: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Members holding both sides of a separated duty (one entry per member, with the roles found)."""
    roles_of: dict[str, set[str]] = {}
    for b in bindings:
        for m in b["members"]:
            roles_of.setdefault(m, set()).add(b["role"])
    found: dict[str, list[dict[str, Any]]] = {}
    for name, (admin, use) in DUTY_CONFLICTS.items():
        found[name] = [{"member": m, "roles": sorted(roles & (admin | use))} for m, roles in sorted(roles_of.items())
                       if roles & admin and roles & use]
    return found


def policy_attributes(policy: dict[str, Any], project: str | None = None) -> dict[str, Any]:
    bindings = []
    public, sa_primitive, human_primitive, default_sa, impersonation, sa_admin, individual = [], [], [], [], [], [], []
    for b in policy.get("bindings") or []:
        role, members = b.get("role", ""), list(b.get("members") or [])
        bindings.append({"role": role, "members": members, "conditional": bool(b.get("condition"))})
        for m in members:
            grant = {"role": role, "member": m}
            if m in PUBLIC_MEMBERS:
                public.append(grant)
            agent = is_service_agent(m, project)
            if role in PRIMITIVE_ROLES and not agent:
                if m.startswith("serviceAccount:") or WORKLOAD.match(m):
                    sa_primitive.append(grant)
                elif m.startswith(HUMAN_PREFIXES) or WORKFORCE.match(m):
                    human_primitive.append(grant)
                if DEFAULT_SA.match(m):
                    default_sa.append(grant)
            if INDIVIDUAL.match(m):
                individual.append(grant)
            if role in IMPERSONATION_ROLES and not agent:
                impersonation.append(grant)
            if is_admin_role(role) and not agent and (m.startswith("serviceAccount:") or WORKLOAD.match(m)):
                sa_admin.append(grant)
    return {
        "bindings": bindings,
        "public_grants": public,
        "service_account_primitive_grants": sa_primitive,
        "human_primitive_grants": human_primitive,
        "default_service_account_primitive_grants": default_sa,
        "service_account_impersonation_grants": impersonation,
        "service_account_admin_grants": sa_admin,
        "individual_user_grants": individual,
        **duty_conflicts(bindings),
        **audit_attributes([policy]),
    }


def audit_attributes(policies: list[dict[str, Any]]) -> dict[str, Any]:
    """The effective audit config: GCP applies the union of the auditConfigs of the project and all its
    ancestors (a log type enabled anywhere is on; exempted members add up)."""
    log_types: list[str] = []
    exempted: list[str] = []
    configs = [cfg for policy in policies for cfg in policy.get("auditConfigs") or []]
    for cfg in configs:
        if cfg.get("service") != "allServices":
            continue
        for lc in cfg.get("auditLogConfigs") or []:
            log_types += [t for t in [lc.get("logType")] if t not in log_types]
            exempted += [m for m in lc.get("exemptedMembers") or [] if m not in exempted]
    return {"audit_all_services": {"log_types": log_types, "exempted_members": exempted},
            "audited_services": sorted({c.get("service") for c in configs})}


def inherited_audit(ctx: GcpContext, own: dict[str, Any]) -> dict[str, Any]:
    """Audit attributes including the folders' and organization's policies (one read per ancestor and
    scan); unreadable ancestors are named, never an error."""
    from google.protobuf.json_format import MessageToDict

    clients = ctx.clients

    def read(name: str) -> dict[str, Any]:
        client = clients.organizations() if name.startswith("organizations/") else clients.folders()
        return MessageToDict(client.get_iam_policy(request={"resource": name}, retry=clients.retry()))

    policies, unreadable = ancestors.read_each(ctx, "rm-iam-policy", read)
    return {**audit_attributes([own, *(p for _, p in policies)]),
            "audit_inherited_from": [n for n, p in policies if audit_attributes([p])["audited_services"]],
            "unreadable_ancestors": unreadable}


@collector("resourcemanager", level="project", facts={
    "gcp.resourcemanager.project": 'A project: state, parent, labels',
    "gcp.resourcemanager.iam_policy": "A project's IAM policy: bindings, public/primitive grants, audit configs",
})
def collect(ctx: GcpContext) -> None:
    from google.protobuf.json_format import MessageToDict

    project, clients = ctx.project, ctx.clients
    resource_id = f"//cloudresourcemanager.googleapis.com/projects/{project}"
    if ctx.wants(PROJECT):
        with ctx.feeding(PROJECT):
            d = ancestors.project(ctx)
            ctx.add(PROJECT, resource_id, d.get("displayName") or project, "global", project_attributes(d))
    if ctx.wants(POLICY):
        with ctx.feeding(POLICY):
            policy = MessageToDict(clients.projects().get_iam_policy(
                request={"resource": f"projects/{project}", "options": {"requested_policy_version": 3}},
                retry=clients.retry()))
            attrs = policy_attributes(policy, project)
            ctx.add(POLICY, resource_id, project, "global", {**attrs, **inherited_audit(ctx, policy)})
