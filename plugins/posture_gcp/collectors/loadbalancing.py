"""Compute Engine load balancing: backend services (request logging) and target HTTP proxies (HTTPS only).

``backendServices.aggregatedList`` (global and regional at once) gives each backend service's logging;
``targetHttpProxies.aggregatedList`` with ``urlMaps.aggregatedList`` tells whether a plain-HTTP front end
only redirects to HTTPS. One paged call each per project.
"""

from __future__ import annotations

from typing import Any

from posture_gcp.collectors import GcpContext, collector, short

BACKEND, HTTP_PROXY = "gcp.compute.backend_service", "gcp.compute.target_http_proxy"


def _as_json(message: Any) -> dict[str, Any]:
    return type(message).to_dict(message, preserving_proto_field_name=False, use_integers_for_enums=False)


def _aggregated(ctx: GcpContext, kind: str, field: str) -> list[tuple[str, dict[str, Any]]]:
    """(scope, item) of a compute aggregatedList (``global`` or ``regions/R``)."""
    clients = ctx.clients
    pager = clients.compute(kind).aggregated_list(project=ctx.project, retry=clients.retry())
    return [(scope, _as_json(item)) for scope, scoped in pager for item in getattr(scoped, field)]


def _location(scope: str) -> str:
    return scope.split("/", 1)[1] if "/" in scope else "global"


def backend_attributes(b: dict[str, Any]) -> dict[str, Any]:
    return {"protocol": b.get("protocol"), "load_balancing_scheme": b.get("loadBalancingScheme"),
            "logging_enabled": bool((b.get("logConfig") or {}).get("enable", False)),
            "sample_rate": (b.get("logConfig") or {}).get("sampleRate"),
            "security_policy_attached": bool(b.get("securityPolicy"))}


def proxy_attributes(p: dict[str, Any], url_maps: dict[str, dict[str, Any]]) -> dict[str, Any]:
    url_map = url_maps.get(str(p.get("urlMap", "")).split("/compute/v1/", 1)[-1], {})
    redirect = url_map.get("defaultUrlRedirect") or {}
    return {"url_map": short(p.get("urlMap")),
            "https_redirect": bool(redirect.get("httpsRedirect")) and not url_map.get("pathMatchers")}


@collector("loadbalancing", level="project", facts={
    "gcp.compute.backend_service": "A load balancer backend service: protocol, scheme, request logging",
    "gcp.compute.target_http_proxy": "A plain-HTTP load balancer front end and whether it only redirects to HTTPS",
})
def collect(ctx: GcpContext) -> None:
    project = ctx.project
    base = f"//compute.googleapis.com/projects/{project}"
    if ctx.wants(BACKEND):
        with ctx.feeding(BACKEND):
            for scope, b in _aggregated(ctx, "BackendServicesClient", "backend_services"):
                loc = _location(scope)
                path = "global" if loc == "global" else f"regions/{loc}"
                ctx.add(BACKEND, f"{base}/{path}/backendServices/{b['name']}", b["name"], loc, backend_attributes(b))
    if ctx.wants(HTTP_PROXY):
        with ctx.feeding(HTTP_PROXY):
            url_maps = {str(m.get("selfLink", "")).split("/compute/v1/", 1)[-1]: m
                        for _, m in _aggregated(ctx, "UrlMapsClient", "url_maps")}
            for scope, p in _aggregated(ctx, "TargetHttpProxiesClient", "target_http_proxies"):
                loc = _location(scope)
                path = "global" if loc == "global" else f"regions/{loc}"
                ctx.add(HTTP_PROXY, f"{base}/{path}/targetHttpProxies/{p['name']}", p["name"], loc,
                        proxy_attributes(p, url_maps))

