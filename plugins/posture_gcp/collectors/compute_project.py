"""Compute Engine project-wide settings, judged on the project even when it has no VM.

Project metadata (``commonInstanceMetadata``) sets OS Login, the serial port and project-wide SSH keys
for every instance that does not override them. ``projects.get`` is read once per project and scan and
shared with the instances collector (which needs the same defaults). SSH key *values* never enter a
fact: only how many there are.
"""

from __future__ import annotations

from typing import Any

from posture_gcp.collectors import GcpContext, collector, orgpolicy, truthy

PROJECT = "gcp.compute.project"
SSH_KEY_ITEMS = ("ssh-keys", "sshKeys")


def read_project(ctx: GcpContext) -> dict[str, Any]:
    """``projects.get`` of Compute Engine in its REST JSON shape, once per project and scan."""
    clients, project = ctx.clients, ctx.project

    def read() -> dict[str, Any]:
        proj = clients.compute("ProjectsClient").get(project=project, retry=clients.retry())
        return type(proj).to_dict(proj, preserving_proto_field_name=False, use_integers_for_enums=False)

    return clients.shared.once(("compute-project", project), read, large=True)


def project_attributes(proj: dict[str, Any], org: dict[str, bool | None] | None = None,
                       org_errors: dict[str, str] | None = None) -> dict[str, Any]:
    org = org or {}
    items = {i.get("key"): str(i.get("value", "")) for i in (proj.get("commonInstanceMetadata") or {}).get("items")
             or []}
    ssh_keys = sum(1 for key in SSH_KEY_ITEMS for line in items.get(key, "").splitlines() if line.strip())
    return {
        "os_login_enabled": truthy(items.get("enable-oslogin", "false")),
        "os_login_2fa": truthy(items.get("enable-oslogin-2fa", "false")),
        "serial_port_enabled": truthy(items.get("serial-port-enable", "false")),
        "project_ssh_key_count": ssh_keys,
        "org_policy_require_os_login": org.get(orgpolicy.REQUIRE_OS_LOGIN),
        "org_policy_disable_serial_port_access": org.get(orgpolicy.DISABLE_SERIAL_PORT),
        "org_policy_errors": dict(org_errors or {}),
    }


@collector("compute_project", level="project", facts={
    "gcp.compute.project": 'Compute Engine project-wide metadata: OS Login, serial port, how many project SSH keys',
})
def collect(ctx: GcpContext) -> None:
    with ctx.feeding(PROJECT):
        proj = read_project(ctx)
        own = project_attributes(proj)
        needed = [c for c, unmet in ((orgpolicy.REQUIRE_OS_LOGIN, not own["os_login_enabled"]),
                                     (orgpolicy.DISABLE_SERIAL_PORT, own["serial_port_enabled"])) if unmet]
        org, org_errors = orgpolicy.constraints(ctx, needed)
        ctx.add(PROJECT, f"//compute.googleapis.com/projects/{ctx.project}", ctx.project, "global",
                project_attributes(proj, org, org_errors))
