"""Virtual machines (joined with NICs and public IPs: three subscription-wide lists) and managed disks."""

from __future__ import annotations

from typing import Any

from posture_azure.collectors import collector
from posture_azure.collectors.base import AzureContext, Failed, enum_str, g, tags

VM = "azure.compute.vm"
DISK = "azure.compute.disk"
CMK_TYPES = {"EncryptionAtRestWithCustomerKey", "EncryptionAtRestWithPlatformAndCustomerKeys"}


def public_ips_by_nic(nics: list[Any], ips: list[Any]) -> dict[str, list[str]]:
    """NIC id (lower case) -> the public addresses (or public IP resource names) bound to it."""
    address = {ip.id.lower(): (ip.ip_address or ip.name) for ip in ips}
    out: dict[str, list[str]] = {}
    for nic in nics:
        found = []
        for conf in nic.ip_configurations or []:
            pip = g(conf, "public_ip_address.id")
            if pip:
                found.append(address.get(pip.lower(), pip.rsplit("/", 1)[-1]))
        out[nic.id.lower()] = found
    return out


def vm_attributes(vm: Any, nic_ips: dict[str, list[str]]) -> dict[str, Any]:
    nic_ids = [n.id for n in g(vm, "network_profile.network_interfaces", []) or []]
    public = [ip for nid in nic_ids for ip in nic_ips.get(nid.lower(), [])]
    os_disk = g(vm, "storage_profile.os_disk")
    data_disks = g(vm, "storage_profile.data_disks", []) or []
    managed = all(g(d, "managed_disk") is not None for d in [os_disk, *data_disks] if d is not None)
    return {
        "vm_size": g(vm, "hardware_profile.vm_size"),
        "os_type": enum_str(g(os_disk, "os_type")),
        "public_ips": public,
        "has_public_ip": bool(public),
        "managed_disks": managed,
        "encryption_at_host": bool(g(vm, "security_profile.encryption_at_host", False)),
        "secure_boot": bool(g(vm, "security_profile.uefi_settings.secure_boot_enabled", False)),
        "vtpm": bool(g(vm, "security_profile.uefi_settings.v_tpm_enabled", False)),
        "tags": tags(vm),
    }


def disk_attributes(disk: Any) -> dict[str, Any]:
    enc_type = enum_str(g(disk, "encryption.type"))
    ade = bool(g(disk, "encryption_settings_collection.enabled", False))
    return {
        "encryption_type": enc_type,
        "encrypted": bool(enc_type) or ade,
        "azure_disk_encryption": ade,
        "customer_managed_key": enc_type in CMK_TYPES,
        "disk_state": enum_str(g(disk, "disk_state")),
        "attached": g(disk, "managed_by") is not None,
        "network_access_policy": enum_str(g(disk, "network_access_policy")),
        "public_network_access": enum_str(g(disk, "public_network_access")),
        # AllowAll (also the service default when the property is absent) lets anyone holding a SAS
        # export the disk from any network
        "public_export": (enum_str(g(disk, "network_access_policy")) or "AllowAll") == "AllowAll"
        and enum_str(g(disk, "public_network_access")) != "Disabled",
        "tags": tags(disk),
    }


@collector("compute", level="subscription", facts={
    "azure.compute.vm": 'Virtual machine: public IP addresses, managed disks, encryption at host, secure boot',
    "azure.compute.disk": 'Managed disk: encryption type and key, network export policy',
})
def collect(ctx: AzureContext) -> None:
    from azure.mgmt.compute import ComputeManagementClient
    from azure.mgmt.network import NetworkManagementClient

    compute = ctx.client(ComputeManagementClient)
    if ctx.wants(VM):
        network = ctx.client(NetworkManagementClient)
        vms = ctx.attempt([VM], lambda: compute.virtual_machines.list_all())
        nics = ctx.attempt([VM], lambda: network.network_interfaces.list_all()) if not isinstance(vms, Failed) else vms
        ips = ctx.attempt([VM], lambda: network.public_ip_addresses.list_all()) if not isinstance(nics, Failed) else nics
        if not isinstance(ips, Failed):
            nic_ips = public_ips_by_nic(nics, ips)  # type: ignore[arg-type]
            for vm in vms:  # type: ignore[union-attr]
                ctx.add(VM, vm.id, vm.name, vm.location, vm_attributes(vm, nic_ips))
    if ctx.wants(DISK):
        disks = ctx.attempt([DISK], lambda: compute.disks.list())
        if not isinstance(disks, Failed):
            for disk in disks:
                ctx.add(DISK, disk.id, disk.name, disk.location, disk_attributes(disk))
