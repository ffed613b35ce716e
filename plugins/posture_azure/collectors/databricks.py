"""Azure Databricks workspaces (one subscription-wide list); the virtual networks list only when a workspace
is VNet-injected (to read its subnets' NSGs); diagnostic settings per workspace only when asked."""

from __future__ import annotations

from typing import Any

from posture_azure.collectors import collector
from posture_azure.collectors.base import AzureContext, Failed, arm_list

WORKSPACE = "azure.databricks.workspace"
DATABRICKS_API = "2024-05-01"
NETWORK_API = "2024-05-01"
DIAGNOSTICS_API = "2021-05-01-preview"


def _param(props: dict[str, Any], name: str) -> Any:
    return ((props.get("parameters") or {}).get(name) or {}).get("value")


def workspace_attributes(ws: dict[str, Any], subnets: dict[str, dict[str, Any]],
                         diagnostics: list[dict[str, Any]]) -> dict[str, Any]:
    props = ws.get("properties") or {}
    vnet = str(_param(props, "customVirtualNetworkId") or "")
    names = [n for n in (_param(props, "customPublicSubnetName"), _param(props, "customPrivateSubnetName")) if n]
    without_nsg = sorted(n for n in names
                         if not ((subnets.get(f"{vnet}/subnets/{n}".lower()) or {}).get("properties") or {})
                         .get("networkSecurityGroup"))
    approved = [c for c in props.get("privateEndpointConnections") or []
                if str(((c.get("properties") or {}).get("privateLinkServiceConnectionState") or {})
                       .get("status")).lower() == "approved"]
    return {
        "vnet_injected": bool(vnet),
        "subnets_without_nsg": without_nsg if vnet else None,
        "no_public_ip": bool(_param(props, "enableNoPublicIp")),
        "public_network_access": props.get("publicNetworkAccess", "Enabled"),
        "private_endpoints": len(approved),
        "sku": (ws.get("sku") or {}).get("name"),
        "diagnostic_log_delivery": any(
            log.get("enabled") for s in diagnostics for log in (s.get("properties") or {}).get("logs") or []),
    }


@collector("databricks", level="subscription", facts={
    "azure.databricks.workspace": 'Azure Databricks workspace: VNet injection, subnet NSGs, no public IP, public access, diagnostics',
})
def collect(ctx: AzureContext) -> None:
    sub = f"/subscriptions/{ctx.subscription}"
    workspaces = ctx.attempt([WORKSPACE], lambda: arm_list(
        ctx, f"{sub}/providers/Microsoft.Databricks/workspaces", DATABRICKS_API))
    if isinstance(workspaces, Failed):
        return
    subnets: dict[str, dict[str, Any]] = {}
    if any(_param(w.get("properties") or {}, "customVirtualNetworkId") for w in workspaces):
        vnets = ctx.attempt([WORKSPACE], lambda: arm_list(ctx, f"{sub}/providers/Microsoft.Network/virtualNetworks",
                                                       NETWORK_API))
        if isinstance(vnets, Failed):
            return
        subnets = {str(s.get("id", "")).lower(): s for v in vnets for s in (v.get("properties") or {}).get("subnets") or []}
    def diagnostics(ws: dict[str, Any]) -> Any:
        return ctx.attempt([WORKSPACE], lambda: arm_list(
            ctx, f"{ws['id']}/providers/Microsoft.Insights/diagnosticSettings", DIAGNOSTICS_API),
            where=str(ws.get("name")))

    for ws, found in ctx.fan_out(diagnostics, workspaces):
        if not isinstance(found, Failed):  # one workspace's failure is an error; the others are kept
            ctx.add(WORKSPACE, str(ws["id"]), str(ws.get("name")), ws.get("location"),
                    workspace_attributes(ws, subnets, found))
