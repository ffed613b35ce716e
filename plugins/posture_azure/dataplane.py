"""Azure data planes (Microsoft Graph, Key Vault) over plain azure-core pipelines, with the scan's credential.

ARM has generated SDK clients; the data planes posture reads are a handful of
JSON documents each, so one small pipeline serves them all: a bearer token for
the data plane's own audience, the retry policy ARM clients get (``Retry-After``
honoured on 429/5xx, one retry after a read or connect timeout), the request
counter and the CA bundle / read timeout of the settings. A pipeline takes
absolute URLs, so one client per (settings, audience) serves every vault of a
scan; it lives in the scan's client cache like the ARM clients.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from posture_azure.settings import CONNECTION_TIMEOUT, TIMEOUT_RETRIES, AzureSettings


def pipeline(settings: AzureSettings, scopes: list[str]) -> Any:
    """A pipeline client whose tokens are for ``scopes`` (``https://vault.azure.net/.default``)."""
    from azure.core import PipelineClient
    from azure.core.pipeline.policies import (
        BearerTokenCredentialPolicy,
        HeadersPolicy,
        RetryPolicy,
        UserAgentPolicy,
    )
    from azure.core.pipeline.transport import RequestsTransport

    from posture_azure.session import _POLICY, credential_for

    transport_kwargs: dict[str, Any] = {"connection_timeout": CONNECTION_TIMEOUT,
                                        "read_timeout": settings.read_timeout}
    if settings.ca_bundle:
        transport_kwargs["connection_verify"] = settings.ca_bundle
    policies = [
        HeadersPolicy({"Accept": "application/json"}),
        UserAgentPolicy(user_agent="posture"),
        RetryPolicy(retry_total=settings.retry_total, retry_backoff_factor=settings.retry_backoff,
                    retry_backoff_max=30, retry_read=TIMEOUT_RETRIES, retry_connect=TIMEOUT_RETRIES),
        BearerTokenCredentialPolicy(credential_for(settings), *scopes),
        _POLICY,  # after the retry policy: every attempt is counted
    ]
    return PipelineClient(scopes[0].removesuffix("/.default"), policies=policies,
                          transport=RequestsTransport(**transport_kwargs))


def get_json(client: Any, url: str) -> dict[str, Any]:
    """GET an absolute URL; raises ``HttpResponseError`` (with the service's error body) on an error status."""
    from azure.core.exceptions import HttpResponseError
    from azure.core.rest import HttpRequest

    resp = client.send_request(HttpRequest("GET", url))
    if resp.status_code >= 400:
        raise HttpResponseError(response=resp)
    body = resp.json() if resp.content else {}
    return body if isinstance(body, dict) else {}


def pages(client: Any, url: str, next_key: str) -> Iterator[dict[str, Any]]:
    """Every item of a collection: ``value`` pages following ``next_key`` (``nextLink``, ``@odata.nextLink``)."""
    next_url: str | None = url
    while next_url:
        page = get_json(client, next_url)
        yield from (v for v in page.get("value") or [] if isinstance(v, dict))
        next_url = page.get(next_key)
