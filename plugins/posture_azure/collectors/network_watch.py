"""Virtual networks, Network Watcher and its flow logs, Bastion hosts: four subscription-wide lists plus one
flow-log list per Network Watcher (one watcher per region).

A virtual network is flow-logged when a VNet flow log targets it, or when every
subnet's NSG has an NSG flow log (the retired-in-2027 mechanism).
"""

from __future__ import annotations

from typing import Any

from posture_azure.collectors import collector
from posture_azure.collectors.base import AzureContext, Failed, arm_list

VNET = "azure.network.vnet"
FLOW_LOG = "azure.network.flow_log"
WATCHER_REGION = "azure.network.watcher_region"
BASTION = "azure.network.bastion"
NETWORK_API = "2024-05-01"
#: platform subnets that do not take (or must not have) an NSG
PLATFORM_SUBNETS = {"gatewaysubnet", "azurefirewallsubnet", "azurefirewallmanagementsubnet", "routeserversubnet"}


def _lid(value: Any) -> str:
    return str(value or "").lower()


def flow_log_attributes(log: dict[str, Any]) -> dict[str, Any]:
    props = log.get("properties") or {}
    target = str(props.get("targetResourceId") or "")
    retention = props.get("retentionPolicy") or {}
    analytics = (props.get("flowAnalyticsConfiguration") or {}).get("networkWatcherFlowAnalyticsConfiguration") or {}
    return {
        "target": target,
        "target_type": "vnet" if "/virtualnetworks/" in target.lower() else
        "nsg" if "/networksecuritygroups/" in target.lower() else "other",
        "enabled": bool(props.get("enabled")),
        # retention 0 with the policy enabled, or no policy, keeps the logs forever (storage lifecycle aside)
        "retention_enabled": bool(retention.get("enabled")),
        "retention_days": int(retention.get("days") or 0) if retention.get("enabled") else 0,
        "storage_account": props.get("storageId"),
        "traffic_analytics": bool(analytics.get("enabled")),
    }


def vnet_attributes(vnet: dict[str, Any], flow_logged_targets: set[str]) -> dict[str, Any]:
    props = vnet.get("properties") or {}
    subnets = props.get("subnets") or []
    without_nsg = sorted(str(s.get("name")) for s in subnets if str(s.get("name", "")).lower() not in PLATFORM_SUBNETS
                         and str(s.get("name", "")).lower() != "azurebastionsubnet"
                         and not (s.get("properties") or {}).get("networkSecurityGroup"))
    nsgs = {_lid(((s.get("properties") or {}).get("networkSecurityGroup") or {}).get("id")) for s in subnets
            if str(s.get("name", "")).lower() not in PLATFORM_SUBNETS}
    vnet_logged = _lid(vnet.get("id")) in flow_logged_targets
    nsg_logged = bool(subnets) and "" not in nsgs and nsgs <= flow_logged_targets
    return {
        "subnets": len(subnets),
        "subnets_without_nsg": without_nsg,
        "ddos_protection": bool(props.get("enableDdosProtection")),
        "vnet_flow_log": vnet_logged,
        "flow_logged": vnet_logged or nsg_logged,
    }


@collector("network_watch", level="subscription", facts={
    "azure.network.vnet": 'Virtual network: subnets without an NSG, DDoS protection, flow logging',
    "azure.network.flow_log": 'Network Watcher flow log (NSG or virtual network): enabled, retention, destination',
    "azure.network.watcher_region": 'Azure region in use (has a virtual network) and whether Network Watcher runs there',
    "azure.network.bastion": 'Azure Bastion hosts of a subscription (count, regions)',
})
def collect(ctx: AzureContext) -> None:
    sub = f"/subscriptions/{ctx.subscription}/providers/Microsoft.Network"
    vnets: Any = []
    if ctx.wants(VNET, WATCHER_REGION):
        vnets = ctx.attempt([VNET, WATCHER_REGION], lambda: arm_list(ctx, f"{sub}/virtualNetworks", NETWORK_API))
    flow_logs: list[dict[str, Any]] = []
    watchers: Any = []
    if ctx.wants(VNET, FLOW_LOG, WATCHER_REGION):
        watchers = ctx.attempt([VNET, FLOW_LOG, WATCHER_REGION],
                            lambda: arm_list(ctx, f"{sub}/networkWatchers", NETWORK_API))
        if not isinstance(watchers, Failed) and ctx.wants(VNET, FLOW_LOG):
            for _, found in ctx.fan_out(lambda w: ctx.attempt([VNET, FLOW_LOG], lambda: arm_list(
                    ctx, f"{w['id']}/flowLogs", NETWORK_API), where=str(w.get("name"))), watchers):
                if not isinstance(found, Failed):
                    flow_logs.extend(found)
    for log in flow_logs:
        ctx.add(FLOW_LOG, str(log.get("id")), str(log.get("name")), log.get("location"), flow_log_attributes(log))
    if not isinstance(vnets, Failed):
        targets = {_lid((log.get("properties") or {}).get("targetResourceId")) for log in flow_logs
                   if (log.get("properties") or {}).get("enabled")}
        for vnet in vnets:
            ctx.add(VNET, str(vnet.get("id")), str(vnet.get("name")), vnet.get("location"),
                    vnet_attributes(vnet, targets))
        if not isinstance(watchers, Failed):
            running = {str(w.get("location", "")).lower() for w in watchers
                       if (w.get("properties") or {}).get("provisioningState", "Succeeded") == "Succeeded"}
            for region in sorted({str(v.get("location", "")).lower() for v in vnets if v.get("location")}):
                ctx.add(WATCHER_REGION, f"/subscriptions/{ctx.subscription}/locations/{region}", region, region,
                        {"network_watcher": region in running})
    if ctx.wants(BASTION):
        hosts = ctx.attempt([BASTION], lambda: arm_list(ctx, f"{sub}/bastionHosts", NETWORK_API))
        if not isinstance(hosts, Failed):
            ctx.add(BASTION, f"{sub}/bastionHosts", ctx.subscription, "global", {
                "bastion_hosts": len(hosts),
                "regions": sorted({str(h.get("location", "")).lower() for h in hosts}),
            })
