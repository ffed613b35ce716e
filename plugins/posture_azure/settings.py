"""Where to talk to: cloud name -> ARM endpoint, authority and token audience.

Sovereign clouds and Azure Stack Hub differ only in these three values, and
the tests reach their fake ARM server through exactly the same door
(``--azure-arm-endpoint`` / ``POSTURE_AZURE_ARM_ENDPOINT``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from posture.provider import ProviderError

#: cloud name -> (ARM endpoint, authority host, token audience)
CLOUDS: dict[str, tuple[str, str, str]] = {
    "public": ("https://management.azure.com", "login.microsoftonline.com", "https://management.azure.com"),
    "usgov": ("https://management.usgovcloudapi.net", "login.microsoftonline.us",
              "https://management.core.usgovcloudapi.net"),
    "china": ("https://management.chinacloudapi.cn", "login.chinacloudapi.cn", "https://management.chinacloudapi.cn"),
}

ENV_ARM_ENDPOINT = "POSTURE_AZURE_ARM_ENDPOINT"
ENV_CLOUD = "POSTURE_AZURE_CLOUD"
ENV_AUTHORITY = "POSTURE_AZURE_AUTHORITY"
ENV_AUDIENCE = "POSTURE_AZURE_TOKEN_AUDIENCE"
ENV_CA_BUNDLE = "POSTURE_AZURE_CA_BUNDLE"
ENV_CREDENTIAL = "POSTURE_AZURE_CREDENTIAL"


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

    @property
    def credential_scopes(self) -> list[str]:
        return [self.audience.rstrip("/") + "/.default"]


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
    custom_authority = _opt(options, "azure_authority", ENV_AUTHORITY)
    custom_audience = _opt(options, "azure_token_audience", ENV_AUDIENCE)
    if custom_arm:
        arm = str(custom_arm).rstrip("/")
        if not arm.startswith("https://"):
            raise ProviderError("azure: --azure-arm-endpoint must be an https:// URL (bearer tokens need TLS)")
        # Azure Stack Hub: the audience is its own ARM endpoint unless told otherwise.
        audience = arm
    if custom_audience:
        audience = str(custom_audience).rstrip("/")
    ca_bundle = _opt(options, "azure_ca_bundle", ENV_CA_BUNDLE) or os.environ.get("REQUESTS_CA_BUNDLE") or None
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
    )
