"""Application gateways and their WAF policies (two subscription-wide lists) and virtual network gateways
(one filtered resource list, then one GET per gateway: ARM lists gateways only per resource group)."""

from __future__ import annotations

from typing import Any

from posture_azure.collectors import collector
from posture_azure.collectors.base import (
    AzureContext,
    Failed,
    add_each_listed,
    arm_get,
    arm_list,
    tls_version,
)

APP_GATEWAY = "azure.network.application_gateway"
WAF_POLICY = "azure.network.waf_policy"
VPN_GATEWAY = "azure.network.vpn_gateway"
NETWORK_API = "2024-05-01"
RESOURCES_API = "2021-04-01"
#: minimum TLS version of each predefined Application Gateway SSL policy
PREDEFINED_POLICIES = {
    "appgwsslpolicy20150501": "1.0",
    "appgwsslpolicy20170401": "1.1",
    "appgwsslpolicy20170401s": "1.2",
    "appgwsslpolicy20220101": "1.2",
    "appgwsslpolicy20220101s": "1.2",
}
#: a gateway without an SSL policy uses the service default: AppGwSslPolicy20150501 (TLS 1.0) on gateways
#: created before the 2023 default change; judged conservatively
DEFAULT_POLICY = "appgwsslpolicy20150501"


def ssl_min_version(policy: dict[str, Any] | None) -> str | None:
    policy = policy or {}
    kind = str(policy.get("policyType") or "").lower()
    if kind in ("custom", "customv2"):
        return tls_version(policy.get("minProtocolVersion"))
    return PREDEFINED_POLICIES.get(str(policy.get("policyName") or DEFAULT_POLICY).lower())


def gateway_attributes(gw: dict[str, Any]) -> dict[str, Any]:
    props = gw.get("properties") or {}
    tier = str((props.get("sku") or {}).get("tier") or "")
    waf_config = props.get("webApplicationFirewallConfiguration") or {}
    redirects = {str(r.get("id", "")).lower(): r for r in props.get("redirectConfigurations") or []}
    redirected: set[str] = set()
    for rule in props.get("requestRoutingRules") or []:
        rp = rule.get("properties") or {}
        target = redirects.get(str((rp.get("redirectConfiguration") or {}).get("id", "")).lower())
        if target and (target.get("properties") or {}).get("targetListener"):
            redirected.add(str((rp.get("httpListener") or {}).get("id", "")).lower())
    plain = sorted(str(li.get("name")) for li in props.get("httpListeners") or []
                   if str((li.get("properties") or {}).get("protocol")).lower() == "http"
                   and str(li.get("id", "")).lower() not in redirected)
    return {
        "sku_tier": tier,
        "waf_enabled": tier.upper().startswith("WAF") and (bool(props.get("firewallPolicy"))
                                                           or bool(waf_config.get("enabled"))),
        "firewall_policy": (props.get("firewallPolicy") or {}).get("id"),
        "min_tls_version": ssl_min_version(props.get("sslPolicy")),
        "http2": bool(props.get("enableHttp2")),
        "plain_http_listeners": plain,
    }


def waf_policy_attributes(policy: dict[str, Any]) -> dict[str, Any]:
    props = policy.get("properties") or {}
    settings = props.get("policySettings") or {}
    rule_sets = [str(r.get("ruleSetType")) for r in (props.get("managedRules") or {}).get("managedRuleSets") or []]
    return {
        "state": settings.get("state"),
        "mode": settings.get("mode"),
        # requestBodyCheck defaults to true when absent
        "request_body_inspection": bool(settings.get("requestBodyCheck", True)),
        "bot_protection": "Microsoft_BotManagerRuleSet" in rule_sets,
        "managed_rule_sets": rule_sets,
        "application_gateways": len(props.get("applicationGateways") or []),
    }


def vpn_attributes(gw: dict[str, Any]) -> dict[str, Any]:
    p2s = (gw.get("properties") or {}).get("vpnClientConfiguration") or {}
    configured = bool(p2s.get("vpnClientAddressPool", {}).get("addressPrefixes"))
    auth = list(p2s.get("vpnAuthenticationTypes") or [])
    if configured and not auth:  # older gateways: implied by the configured credentials
        auth = (["Certificate"] if p2s.get("vpnClientRootCertificates") else []) + (
            ["Radius"] if p2s.get("radiusServerAddress") else []) + (["AAD"] if p2s.get("aadTenant") else [])
    return {"point_to_site": configured, "authentication_types": sorted(auth),
            "gateway_type": (gw.get("properties") or {}).get("gatewayType")}


@collector("network_edge", level="subscription", facts={
    "azure.network.application_gateway": 'Application gateway: WAF, TLS policy, HTTP/2, plain-HTTP listeners',
    "azure.network.waf_policy": 'Application Gateway WAF policy: state, mode, request body inspection, bot protection',
    "azure.network.vpn_gateway": 'Virtual network gateway: point-to-site authentication types',
})
def collect(ctx: AzureContext) -> None:
    sub = f"/subscriptions/{ctx.subscription}"
    if ctx.wants(APP_GATEWAY):
        add_each_listed(ctx, APP_GATEWAY, f"{sub}/providers/Microsoft.Network/applicationGateways", NETWORK_API,
                        gateway_attributes)
    if ctx.wants(WAF_POLICY):
        add_each_listed(ctx, WAF_POLICY,
                        f"{sub}/providers/Microsoft.Network/ApplicationGatewayWebApplicationFirewallPolicies",
                        NETWORK_API, waf_policy_attributes)
    if ctx.wants(VPN_GATEWAY):
        found = ctx.attempt([VPN_GATEWAY], lambda: arm_list(
            ctx, f"{sub}/resources?$filter=resourceType eq 'Microsoft.Network/virtualNetworkGateways'", RESOURCES_API))
        if isinstance(found, Failed):
            return
        ids = [str(r["id"]) for r in found
               if str(r.get("type", "")).lower() == "microsoft.network/virtualnetworkgateways"]
        for rid, gw in ctx.fan_out(lambda rid: ctx.attempt([VPN_GATEWAY], lambda: arm_get(ctx, rid, NETWORK_API),
                                                         where=rid.rsplit("/", 1)[-1]), ids):
            if not isinstance(gw, Failed):
                ctx.add(VPN_GATEWAY, rid, str(gw.get("name")), gw.get("location"), vpn_attributes(gw))
