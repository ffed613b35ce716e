"""App Service apps: one subscription-wide list plus one site-config GET per app (TLS, FTP, runtime).

The list response carries only a partial ``siteConfig`` (no TLS, FTP or
runtime fields), so the per-app ``config/web`` GET cannot be avoided; it runs
concurrently and bounded (``AzureContext.fan_out``) and feeds every attribute.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from posture_azure.collectors import collector
from posture_azure.collectors.base import AzureContext, Failed, enum_str, g, resource_group, tags, tls_version
from posture_azure.runtimes import assess, site_runtimes

APP = "azure.web.app"


def config_fields(config: Any) -> dict[str, Any]:
    """The runtime fields of a SiteConfigResource (SDK model or dict)."""
    names = ("linux_fx_version", "windows_fx_version", "net_framework_version", "php_version", "python_version",
             "node_version", "java_version")
    return {n: g(config, n) for n in names}


def app_attributes(site: Any, config: Any, today: Any = None) -> dict[str, Any]:
    runtimes = assess(site_runtimes(config_fields(config)), today or datetime.now(UTC).date())
    return {
        "kind": site.kind,
        "https_only": bool(g(site, "https_only", False)),
        "min_tls_version": tls_version(g(config, "min_tls_version")),
        "ftps_state": enum_str(g(config, "ftps_state")),
        "remote_debugging": bool(g(config, "remote_debugging_enabled", False)),
        "http20": bool(g(config, "http20_enabled", False)),
        "public_network_access": g(site, "public_network_access"),
        "runtimes": runtimes,
        "eol_runtimes": [f"{r['stack']}|{r['version']}" for r in runtimes if r["end_of_life_reached"]],
        "tags": tags(site),
    }


@collector("web", level="subscription", facts={
    "azure.web.app": 'App Service / Functions app: HTTPS only, minimum TLS, FTP state, language runtime',
})
def collect(ctx: AzureContext) -> None:
    from azure.mgmt.web import WebSiteManagementClient

    client = ctx.client(WebSiteManagementClient)
    sites = ctx.attempt([APP], lambda: client.web_apps.list())
    if isinstance(sites, Failed):
        return

    def config(site: Any) -> Any:
        return ctx.attempt([APP], lambda: client.web_apps.get_configuration(resource_group(site.id), site.name),
                        where=site.name)

    for site, conf in ctx.fan_out(config, sites):
        if not isinstance(conf, Failed):
            ctx.add(APP, site.id, site.name, site.location, app_attributes(site, conf))
