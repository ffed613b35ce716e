"""The Key Vault data plane, for what ARM does not expose: certificate policies (their validity period).

Vault URIs are ARM's own (``properties.vaultUri`` of the vault list the keyvault
collector already made); tokens are for the cloud's Key Vault audience
(``--azure-keyvault-audience``). Only two read calls are made, and only their
certificate names and ``x509_props.validity_months`` are kept: never a
certificate body (``GET /certificates/{name}`` returns the ``cer``), never a
secret.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlsplit

from posture_azure import dataplane
from posture_azure.settings import AzureSettings

API_VERSION = "7.4"
#: certificates per list page: the service's maximum (and default)
PAGE_SIZE = 25
#: Key Vault's inner error code -> what to grant or open, named in the error
HINTS: dict[str, str] = {
    "ForbiddenByFirewall": "the vault's firewall must admit the scanner's address, or scan through a private endpoint",
    "ForbiddenByRbac": "needs the Key Vault Reader role on the vault (Microsoft.KeyVault/vaults/certificates/read)",
    "AccessDenied": "needs an access policy granting the certificate permissions list and get",
}
DEFAULT_HINT = ("needs Key Vault Reader (RBAC vaults) or an access policy granting certificates list and get, "
                "through the vault's firewall")


class VaultUriRefused(Exception):
    """ARM gave a vault URI posture will not send a Key Vault token to."""


def hint(code: str) -> str:
    """What to grant for a denial (a throttled or timed-out read needs nothing granted: empty)."""
    if code in HINTS:
        return HINTS[code]
    return DEFAULT_HINT if code in ("Forbidden", "Unauthorized", "HTTP403", "HTTP401") else ""


def vault_url(settings: AzureSettings, uri: Any) -> str:
    """ARM's ``vaultUri`` without its trailing slash, if a token may go there.

    It must be ``https``; in a standard cloud its host must also be in the cloud's Key Vault domain
    (``*.vault.azure.net``), so a token for that audience never leaves it. Behind a custom ARM
    endpoint (Azure Stack Hub, private clouds) that ARM is the authority on where its vaults are.
    """
    parts = urlsplit(str(uri or ""))
    if parts.scheme != "https" or not parts.hostname:
        raise VaultUriRefused(f"vault URI {uri!r} is not an https:// URL")
    domain = urlsplit(settings.keyvault_audience).hostname or ""
    if not settings.custom_arm and not parts.hostname.endswith("." + domain):
        raise VaultUriRefused(f"vault URI {uri!r} is outside the cloud's Key Vault domain {domain}")
    return str(uri).rstrip("/")


def certificates(client: Any, base: str) -> Iterator[dict[str, Any]]:
    """Every certificate of a vault (``GET /certificates``, paged by ``nextLink``): name and enabled flag."""
    url = f"{base}/certificates?api-version={API_VERSION}&maxresults={PAGE_SIZE}"
    for item in dataplane.pages(client, url, "nextLink"):
        name = str(item.get("id") or "").rstrip("/").rsplit("/", 1)[-1]
        if name:
            yield {"name": name, "enabled": bool((item.get("attributes") or {}).get("enabled", True))}


def validity_months(client: Any, base: str, name: str) -> int | None:
    """The certificate policy's validity period (``GET /certificates/{name}/policy``), None when unset."""
    policy = dataplane.get_json(client, f"{base}/certificates/{quote(name, safe='')}/policy?api-version={API_VERSION}")
    months = (policy.get("x509_props") or {}).get("validity_months")
    return int(months) if isinstance(months, int | float) and not isinstance(months, bool) else None
