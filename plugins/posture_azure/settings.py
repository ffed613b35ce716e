"""Where to talk to: cloud name -> ARM endpoint, authority and token audience.

Sovereign clouds and Azure Stack Hub differ only in these three values, and
the tests reach their fake ARM server through exactly the same door
(``--azure-arm-endpoint`` / ``POSTURE_AZURE_ARM_ENDPOINT``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from posture.collecting import positive_seconds
from posture.provider import ProviderError

#: cloud name -> (ARM endpoint, authority host, token audience)
CLOUDS: dict[str, tuple[str, str, str]] = {
    "public": ("https://management.azure.com", "login.microsoftonline.com", "https://management.azure.com"),
    "usgov": ("https://management.usgovcloudapi.net", "login.microsoftonline.us",
              "https://management.core.usgovcloudapi.net"),
    "china": ("https://management.chinacloudapi.cn", "login.chinacloudapi.cn", "https://management.chinacloudapi.cn"),
}

#: cloud name -> Microsoft Graph endpoint (also its token audience): national clouds run their own Graph
GRAPH_ENDPOINTS: dict[str, str] = {
    "public": "https://graph.microsoft.com",
    "usgov": "https://graph.microsoft.us",
    "china": "https://microsoftgraph.chinacloudapi.cn",
}

#: cloud name -> Key Vault data-plane token audience; vault URIs (``properties.vaultUri``, from ARM) are
#: ``https://<name>.vault.azure.net``, ``.vault.usgovcloudapi.net`` and ``.vault.azure.cn``
KEYVAULT_AUDIENCES: dict[str, str] = {
    "public": "https://vault.azure.net",
    "usgov": "https://vault.usgovcloudapi.net",
    "china": "https://vault.azure.cn",
}

ENV_ARM_ENDPOINT = "POSTURE_AZURE_ARM_ENDPOINT"
ENV_GRAPH_ENDPOINT = "POSTURE_AZURE_GRAPH_ENDPOINT"
ENV_CLOUD = "POSTURE_AZURE_CLOUD"
ENV_AUTHORITY = "POSTURE_AZURE_AUTHORITY"
ENV_AUDIENCE = "POSTURE_AZURE_TOKEN_AUDIENCE"
ENV_KEYVAULT_AUDIENCE = "POSTURE_AZURE_KEYVAULT_AUDIENCE"
ENV_CA_BUNDLE = "POSTURE_AZURE_CA_BUNDLE"
ENV_CREDENTIAL = "POSTURE_AZURE_CREDENTIAL"
ENV_READ_TIMEOUT = "POSTURE_AZURE_READ_TIMEOUT"
#: the standard variable of the Azure SDKs and CLI for a sovereign or private cloud's authority
ENV_AUTHORITY_HOST = "AZURE_AUTHORITY_HOST"
#: what Azure Stack Hub tooling (az cloud register, the PowerShell Az modules) asks a custom ARM endpoint
METADATA_PATH = "/metadata/endpoints?api-version=2015-01-01"
DEFAULT_READ_TIMEOUT = 30.0
CONNECTION_TIMEOUT = 20.0
#: attempts after a read or connection timeout (429/5xx answers have their own budget, ``retry_total``)
TIMEOUT_RETRIES = 1


@dataclass(frozen=True)
class AzureSettings:
    """Everything needed to build credentials and clients; hashable (a cache key)."""

    cloud: str
    arm_endpoint: str
    authority: str
    audience: str
    custom_authority: bool
    ca_bundle: str | None
    credential: str
    retry_total: int
    retry_backoff: float
    read_timeout: float = DEFAULT_READ_TIMEOUT
    #: Microsoft Graph (Entra ID facts); its own endpoint and token audience in every cloud
    graph_endpoint: str = GRAPH_ENDPOINTS["public"]
    #: the Key Vault data plane's token audience (certificate policies); vault URIs come from ARM
    keyvault_audience: str = KEYVAULT_AUDIENCES["public"]

    @property
    def credential_scopes(self) -> list[str]:
        return [self.audience.rstrip("/") + "/.default"]

    @property
    def graph_scopes(self) -> list[str]:
        return [self.graph_endpoint.rstrip("/") + "/.default"]

    @property
    def keyvault_scopes(self) -> list[str]:
        return [self.keyvault_audience.rstrip("/") + "/.default"]

    @property
    def custom_arm(self) -> bool:
        """ARM is not the cloud's own (Azure Stack Hub, a private cloud, a test fake)."""
        return self.arm_endpoint != CLOUDS[self.cloud][0]


def _opt(options: dict[str, Any], key: str, env: str | None = None) -> Any:
    value = options.get(key)
    if value in (None, "", ()) and env:
        value = os.environ.get(env) or None
    return value


def resolve(options: dict[str, Any]) -> AzureSettings:
    """Build settings from provider options, falling back to the documented env vars."""
    cloud = str(_opt(options, "azure_cloud", ENV_CLOUD) or "public").lower()
    if cloud not in CLOUDS:
        raise ProviderError(f"azure: unknown --azure-cloud {cloud!r} (known: {', '.join(CLOUDS)})")
    arm, authority, audience = CLOUDS[cloud]
    custom_arm = _opt(options, "azure_arm_endpoint", ENV_ARM_ENDPOINT)
    # --azure-authority, else the SDKs' own AZURE_AUTHORITY_HOST (what a sovereign-cloud user already has set)
    custom_authority = _opt(options, "azure_authority", ENV_AUTHORITY) or _host(os.environ.get(ENV_AUTHORITY_HOST))
    custom_audience = _opt(options, "azure_token_audience", ENV_AUDIENCE)
    ca_bundle = _opt(options, "azure_ca_bundle", ENV_CA_BUNDLE) or os.environ.get("REQUESTS_CA_BUNDLE") or None
    read_timeout = _seconds(_opt(options, "azure_read_timeout", ENV_READ_TIMEOUT))
    if custom_arm:
        arm = str(custom_arm).rstrip("/")
        if not arm.startswith("https://"):
            raise ProviderError("azure: --azure-arm-endpoint must be an https:// URL (bearer tokens need TLS)")
        # A custom endpoint (Azure Stack Hub, a private cloud) says its own audience and login endpoint.
        meta = arm_metadata(arm, str(ca_bundle) if ca_bundle else None, read_timeout)
        audience = meta.get("audience") or arm
        if not custom_authority and meta.get("authority"):
            custom_authority = meta["authority"]
    if custom_audience:
        audience = str(custom_audience).rstrip("/")
    if custom_authority and _host(str(custom_authority)) == authority:
        custom_authority = None  # the cloud's own authority: instance discovery stays on
    graph = str(_opt(options, "azure_graph_endpoint", ENV_GRAPH_ENDPOINT) or GRAPH_ENDPOINTS[cloud]).rstrip("/")
    if not graph.startswith("https://"):
        raise ProviderError("azure: --azure-graph-endpoint must be an https:// URL (bearer tokens need TLS)")
    keyvault = str(_opt(options, "azure_keyvault_audience", ENV_KEYVAULT_AUDIENCE)
                   or KEYVAULT_AUDIENCES[cloud]).rstrip("/")
    if not keyvault.startswith("https://"):
        raise ProviderError("azure: --azure-keyvault-audience must be an https:// URL")
    return AzureSettings(
        cloud=cloud,
        arm_endpoint=arm,
        authority=str(custom_authority or authority),
        audience=audience,
        custom_authority=bool(custom_authority),
        ca_bundle=str(ca_bundle) if ca_bundle else None,
        credential=str(_opt(options, "azure_credential", ENV_CREDENTIAL) or "default"),
        retry_total=int(options.get("azure_retry_total") or 4),
        retry_backoff=float(options.get("azure_retry_backoff") or 0.8),
        read_timeout=read_timeout,
        graph_endpoint=graph,
        keyvault_audience=keyvault,
    )


def _seconds(value: Any) -> float:
    return positive_seconds(value, default=DEFAULT_READ_TIMEOUT, option="--azure-read-timeout", provider="azure")


def _host(value: str | None) -> str | None:
    """``https://login.example/`` or ``login.example`` -> ``login.example`` (the form azure-identity takes)."""
    if not value:
        return None
    return value.split("://", 1)[-1].strip("/") or None


def arm_metadata(arm: str, ca_bundle: str | None, timeout: float) -> dict[str, str]:
    """A custom ARM endpoint's token audience and authority, from its ``/metadata/endpoints`` document.

    Azure Stack Hub (and ``az cloud register --endpoint-resource-manager``) read the same document:
    ``{"authentication": {"loginEndpoint": ..., "audiences": [...]}}``. Unreachable or unexpected:
    an empty answer, and the endpoint itself is the audience (the earlier default).
    """
    import requests

    from posture.collecting import count_request

    count_request()  # one request per scan, counted as planning's
    try:
        resp = requests.get(arm + METADATA_PATH, timeout=(CONNECTION_TIMEOUT, timeout), verify=ca_bundle or True)
        auth = (resp.json() or {}).get("authentication") or {} if resp.ok else {}
    except Exception:  # noqa: BLE001 - any failure: fall back to the endpoint as audience
        return {}
    audiences = [a for a in auth.get("audiences") or [] if isinstance(a, str) and a]
    out = {}
    if audiences:
        out["audience"] = audiences[0].rstrip("/")
    login = _host(auth.get("loginEndpoint")) if isinstance(auth.get("loginEndpoint"), str) else None
    if login:
        # ADFS (disconnected Stack Hub) keeps its path: https://adfs.local/adfs
        out["authority"] = login.split("/", 1)[0] if "/adfs" not in login else login
    return out
