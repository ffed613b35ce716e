"""App Service apps: one subscription-wide list plus one site-config GET per app (TLS, FTP)."""

from __future__ import annotations

from typing import Any

from posture_azure.collectors.base import Context, Failed, enum_str, g, resource_group, tags, tls_version

APP = "azure.web.app"


def app_attributes(site: Any, config: Any) -> dict[str, Any]:
    return {
        "kind": site.kind,
        "https_only": bool(g(site, "https_only", False)),
        "min_tls_version": tls_version(g(config, "min_tls_version")),
        "ftps_state": enum_str(g(config, "ftps_state")),
        "remote_debugging": bool(g(config, "remote_debugging_enabled", False)),
        "http20": bool(g(config, "http20_enabled", False)),
        "public_network_access": g(site, "public_network_access"),
        "tags": tags(site),
    }


def collect(ctx: Context) -> None:
    from azure.mgmt.web import WebSiteManagementClient

    client = ctx.client(WebSiteManagementClient)
    sites = ctx.call([APP], lambda: client.web_apps.list())
    if isinstance(sites, Failed):
        return

    def config(site: Any) -> Any:
        return ctx.call([APP], lambda: client.web_apps.get_configuration(resource_group(site.id), site.name),
                        where=site.name)

    for site, conf in ctx.fan_out(config, sites):
        if not isinstance(conf, Failed):
            ctx.add(APP, site.id, site.name, site.location, app_attributes(site, conf))
