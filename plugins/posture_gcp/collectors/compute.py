"""Compute Engine: firewalls, networks, subnetworks (aggregated), instances (aggregated).

The ``compute.requireOsLogin`` and ``compute.disableSerialPortAccess`` organization policy constraints
override every instance's metadata; each is read (once per project and scan) only when an instance's own
metadata does not already satisfy it.
"""

from __future__ import annotations

import re
from typing import Any

from posture_gcp.collectors import (
    GcpContext,
    collector,
    compute_project,
    label_attributes,
    orgpolicy,
    short,
    truthy,
)

FIREWALL, NETWORK, SUBNET, INSTANCE = (
    "gcp.compute.firewall", "gcp.compute.network", "gcp.compute.subnetwork", "gcp.compute.instance")
FULL_ACCESS_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
DEFAULT_COMPUTE_SA = re.compile(r"^\d+-compute@developer\.gserviceaccount\.com$")
CAI = "//compute.googleapis.com/projects/{project}"


def _as_json(message: Any) -> dict[str, Any]:
    """A compute_v1 proto-plus message in its REST JSON shape (camelCase, enum names)."""
    return type(message).to_dict(message, preserving_proto_field_name=False, use_integers_for_enums=False)


def firewall_attributes(fw: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": fw.get("name"),
        "network": short(fw.get("network")),
        "direction": fw.get("direction") or "INGRESS",
        "disabled": bool(fw.get("disabled", False)),
        "priority": fw.get("priority", 1000),
        "source_ranges": list(fw.get("sourceRanges") or []),
        "allowed": [{"protocol": str(a.get("IPProtocol", "")).lower(), "ports": list(a.get("ports") or [])}
                    for a in fw.get("allowed") or []],
        "denied": [{"protocol": str(a.get("IPProtocol", "")).lower(), "ports": list(a.get("ports") or [])}
                   for a in fw.get("denied") or []],
        "target_tags": list(fw.get("targetTags") or []),
        "target_service_accounts": list(fw.get("targetServiceAccounts") or []),
        "logging_enabled": bool((fw.get("logConfig") or {}).get("enable", False)),
    }


def network_attributes(net: dict[str, Any]) -> dict[str, Any]:
    legacy = bool(net.get("IPv4Range"))
    auto = bool(net.get("autoCreateSubnetworks", False))
    return {
        "name": net.get("name"),
        "is_default": net.get("name") == "default",
        "legacy": legacy,
        "subnet_mode": "legacy" if legacy else ("auto" if auto else "custom"),
        "subnetwork_count": len(net.get("subnetworks") or []),
    }


def subnetwork_attributes(sn: dict[str, Any]) -> dict[str, Any]:
    log = sn.get("logConfig") or {}
    return {
        "name": sn.get("name"),
        "region": short(sn.get("region")),
        "network": short(sn.get("network")),
        "purpose": sn.get("purpose") or "PRIVATE",
        "ip_cidr_range": sn.get("ipCidrRange"),
        "flow_logs_enabled": bool(log.get("enable", sn.get("enableFlowLogs", False))),
        "flow_sampling": log.get("flowSampling"),
        "private_google_access": bool(sn.get("privateIpGoogleAccess", False)),
    }


def _metadata(items: list[dict[str, Any]] | None) -> dict[str, str]:
    """Only the switches we read; metadata values (startup scripts, ssh keys) never enter a fact."""
    wanted = {"enable-oslogin", "serial-port-enable", "block-project-ssh-keys"}
    return {i["key"]: str(i.get("value", "")) for i in items or [] if i.get("key") in wanted}


def disk_attributes(disk: dict[str, Any]) -> dict[str, Any]:
    """How an attached disk is encrypted: ``csek`` (customer-supplied: the API returns only its SHA-256),
    ``cmek`` (a Cloud KMS key) or ``google`` (Google-managed)."""
    key = disk.get("diskEncryptionKey") or {}
    kind = "csek" if key.get("sha256") else ("cmek" if key.get("kmsKeyName") else "google")
    return {"device": disk.get("deviceName"), "boot": bool(disk.get("boot", False)), "encryption": kind}


def instance_attributes(inst: dict[str, Any], project_metadata: dict[str, str],
                        org: dict[str, bool | None] | None = None, org_errors: dict[str, str] | None = None
                        ) -> dict[str, Any]:
    """``org``: the project's constraints (``compute.requireOsLogin``...; None: not read or unknown)."""
    org = org or {}
    meta = _metadata((inst.get("metadata") or {}).get("items"))
    oslogin_src = "instance" if "enable-oslogin" in meta else ("project" if "enable-oslogin" in project_metadata
                                                               else "default")
    oslogin = truthy(meta.get("enable-oslogin", project_metadata.get("enable-oslogin", "false")))
    serial = truthy(meta.get("serial-port-enable", project_metadata.get("serial-port-enable", "false")))
    public_ips: list[str] = []
    external = False
    for nic in inst.get("networkInterfaces") or []:
        for ac in (nic.get("accessConfigs") or []) + (nic.get("ipv6AccessConfigs") or []):
            external = True
            ip = ac.get("natIP") or ac.get("externalIpv6")
            if ip:
                public_ips.append(ip)
    shielded = inst.get("shieldedInstanceConfig") or {}
    sas = []
    for sa in inst.get("serviceAccounts") or []:
        email = sa.get("email", "")
        sas.append({"email": email, "is_default": bool(DEFAULT_COMPUTE_SA.match(email)),
                    "full_api_access": FULL_ACCESS_SCOPE in (sa.get("scopes") or [])})
    labels = inst.get("labels") or {}
    confidential = inst.get("confidentialInstanceConfig") or {}
    return {
        "name": inst.get("name"),
        "zone": short(inst.get("zone")),
        "status": inst.get("status"),
        "machine_type": short(inst.get("machineType")),
        "has_external_ip": external,
        "public_ips": public_ips,
        "os_login_enabled": oslogin,
        "os_login_source": oslogin_src,
        "serial_port_enabled": serial,
        "org_policy_require_os_login": org.get(orgpolicy.REQUIRE_OS_LOGIN),
        "org_policy_disable_serial_port_access": org.get(orgpolicy.DISABLE_SERIAL_PORT),
        "org_policy_errors": dict(org_errors or {}),
        "block_project_ssh_keys": truthy(meta.get("block-project-ssh-keys", "false")),
        "shielded_vm": {
            "secure_boot": bool(shielded.get("enableSecureBoot", False)),
            "vtpm": bool(shielded.get("enableVtpm", False)),
            "integrity_monitoring": bool(shielded.get("enableIntegrityMonitoring", False)),
        },
        "service_accounts": sas,
        "default_sa_full_access": any(s["is_default"] and s["full_api_access"] for s in sas),
        "uses_default_service_account": any(s["is_default"] for s in sas),
        "can_ip_forward": bool(inst.get("canIpForward", False)),
        "disks": [disk_attributes(d) for d in inst.get("disks") or []],
        "confidential_computing": bool(confidential.get("enableConfidentialCompute")
                                       or confidential.get("confidentialInstanceType")),
        "deletion_protection": bool(inst.get("deletionProtection", False)),
        "gke_node": "goog-gke-node" in labels,
        **label_attributes(labels),
    }


PUBLIC_MEMBERS = {"allUsers", "allAuthenticatedUsers"}
SHAREABLE = {"gcp.compute.image": ("ImagesClient", "images"), "gcp.compute.snapshot": ("SnapshotsClient", "snapshots")}


def shared_attributes(item: dict[str, Any], policy: dict[str, Any]) -> dict[str, Any]:
    public = [{"role": b.get("role"), "member": m} for b in policy.get("bindings") or []
              for m in b.get("members") or [] if m in PUBLIC_MEMBERS]
    return {"name": item.get("name"), "status": item.get("status"), "public_grants": public,
            "cmek_enabled": bool((item.get("imageEncryptionKey") or item.get("snapshotEncryptionKey") or {})
                                 .get("kmsKeyName")),
            **label_attributes(item.get("labels"))}


def _collect_shared(ctx: GcpContext, fact_type: str) -> None:
    """Images / snapshots: one list, then each one's IAM policy (sharing is IAM-only in GCP)."""
    kind, path = SHAREABLE[fact_type]
    project, clients = ctx.project, ctx.clients
    client = clients.compute(kind)
    for item in client.list(project=project, retry=clients.retry()):
        d = _as_json(item)
        policy = _as_json(client.get_iam_policy(project=project, resource=d["name"], retry=clients.retry()))
        ctx.add(fact_type, f"{CAI.format(project=project)}/global/{path}/{d['name']}", d["name"], "global",
                shared_attributes(d, policy))


def _region_of_zone(zone: str) -> str:
    return zone.rsplit("-", 1)[0] if zone.count("-") >= 2 else zone


@collector("compute", level="project", facts={
    "gcp.compute.firewall": 'A VPC firewall rule',
    "gcp.compute.network": 'A VPC network (default / legacy)',
    "gcp.compute.subnetwork": 'A subnetwork (flow logs, private Google access)',
    "gcp.compute.instance": 'A VM instance: public IPs, OS Login, serial port, Shielded VM, service account',
    "gcp.compute.image": 'A custom disk image and who it is shared with (IAM policy)',
    "gcp.compute.snapshot": 'A disk snapshot and who it is shared with (IAM policy)',
})
def collect(ctx: GcpContext) -> None:
    project, clients = ctx.project, ctx.clients
    base = CAI.format(project=project)
    if ctx.wants(FIREWALL):
        with ctx.feeding(FIREWALL):
            for fw in clients.compute("FirewallsClient").list(project=project, retry=clients.retry()):
                d = _as_json(fw)
                ctx.add(FIREWALL, f"{base}/global/firewalls/{d['name']}", d["name"], "global", firewall_attributes(d))
    if ctx.wants(NETWORK):
        with ctx.feeding(NETWORK):
            for net in clients.compute("NetworksClient").list(project=project, retry=clients.retry()):
                d = _as_json(net)
                ctx.add(NETWORK, f"{base}/global/networks/{d['name']}", d["name"], "global", network_attributes(d))
    if ctx.wants(SUBNET):
        with ctx.feeding(SUBNET):
            pager = clients.compute("SubnetworksClient").aggregated_list(project=project, retry=clients.retry())
            for _scope, scoped in pager:
                for sn in scoped.subnetworks:
                    d = _as_json(sn)
                    attrs = subnetwork_attributes(d)
                    ctx.add(SUBNET, f"{base}/regions/{attrs['region']}/subnetworks/{d['name']}", d["name"],
                            attrs["region"], attrs)
    for fact_type in SHAREABLE:
        if ctx.wants(fact_type):
            with ctx.feeding(fact_type):
                _collect_shared(ctx, fact_type)
    if ctx.wants(INSTANCE):
        with ctx.feeding(INSTANCE):
            # One project read gives the project-wide metadata defaults (OS Login, serial port).
            proj = compute_project.read_project(ctx)
            project_meta = _metadata((proj.get("commonInstanceMetadata") or {}).get("items"))
            pager = clients.compute("InstancesClient").aggregated_list(project=project, retry=clients.retry())
            found = [_as_json(inst) for _scope, scoped in pager for inst in scoped.instances]
            own = [instance_attributes(d, project_meta) for d in found]
            needed = [c for c, unmet in ((orgpolicy.REQUIRE_OS_LOGIN, any(not a["os_login_enabled"] for a in own)),
                                         (orgpolicy.DISABLE_SERIAL_PORT, any(a["serial_port_enabled"] for a in own)))
                      if unmet]
            org, org_errors = orgpolicy.constraints(ctx, needed)
            for d in found:
                attrs = instance_attributes(d, project_meta, org, org_errors)
                ctx.add(INSTANCE, f"{base}/zones/{attrs['zone']}/instances/{d['name']}", d["name"],
                        _region_of_zone(attrs["zone"]), attrs)
