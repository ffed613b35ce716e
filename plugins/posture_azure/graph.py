"""Microsoft Graph (Entra ID) over a plain azure-core pipeline, with the scan's Azure credential.

Why not msgraph-sdk: posture reads a handful of JSON documents (policies,
guests, applications); the Kiota-generated SDK would add a dozen packages and
import-time cost for typed models that are discarded right away. The pipeline
here has what matters: the same credential (its Graph audience), retries that
honour ``Retry-After`` (Graph throttles with 429), request counting, the
cloud's own endpoint (public, US Gov, China, or ``--azure-graph-endpoint``)
and ``@odata.nextLink`` paging.

Graph is per tenant, not per subscription: successful list/get results are
kept for :data:`CACHE_SECONDS` per (settings, path), so a scan of many
subscriptions of one tenant asks Graph once. Errors are never cached.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from posture_azure.settings import AzureSettings

API_VERSION = "v1.0"
#: results of one scan's Graph reads are shared by its subscriptions (same credential, same tenant)
CACHE_SECONDS = 300.0
#: Graph application permission that lets posture read each path (named in the error when Graph answers 403)
PERMISSIONS: dict[str, str] = {
    "/policies/identitySecurityDefaultsEnforcementPolicy": "Policy.Read.All",
    "/identity/conditionalAccess/policies": "Policy.Read.All",
    "/policies/authorizationPolicy": "Policy.Read.All",
    "/users": "User.Read.All",
    "/applications": "Application.Read.All",
}

_lock = threading.Lock()
_clients: dict[AzureSettings, Any] = {}
_cache: dict[tuple[AzureSettings, str], tuple[float, Any]] = {}
_key_locks: dict[tuple[AzureSettings, str], threading.Lock] = {}


def permission_for(path: str) -> str:
    base = path.split("?", 1)[0]
    return PERMISSIONS.get(base, "Directory.Read.All")


def _client(settings: AzureSettings) -> Any:
    from azure.core import PipelineClient
    from azure.core.pipeline.policies import (
        BearerTokenCredentialPolicy,
        HeadersPolicy,
        RetryPolicy,
        UserAgentPolicy,
    )
    from azure.core.pipeline.transport import RequestsTransport

    from posture_azure.session import _POLICY, credential_for

    with _lock:
        cached = _clients.get(settings)
    if cached is not None:
        return cached
    transport_kwargs: dict[str, Any] = {"connection_timeout": 20, "read_timeout": settings.read_timeout}
    if settings.ca_bundle:
        transport_kwargs["connection_verify"] = settings.ca_bundle
    policies = [
        HeadersPolicy({"Accept": "application/json"}),
        UserAgentPolicy(user_agent="posture"),
        RetryPolicy(retry_total=settings.retry_total, retry_backoff_factor=settings.retry_backoff,
                    retry_backoff_max=30),
        BearerTokenCredentialPolicy(credential_for(settings), *settings.graph_scopes),
        _POLICY,  # after the retry policy: every attempt is counted
    ]
    made = PipelineClient(settings.graph_endpoint, policies=policies, transport=RequestsTransport(**transport_kwargs))
    with _lock:
        return _clients.setdefault(settings, made)


def _get(settings: AzureSettings, url: str) -> dict[str, Any]:
    from azure.core.exceptions import HttpResponseError
    from azure.core.rest import HttpRequest

    resp = _client(settings).send_request(HttpRequest("GET", url))
    if resp.status_code >= 400:
        raise HttpResponseError(response=resp)
    body = resp.json()
    return body if isinstance(body, dict) else {}


def _url(settings: AzureSettings, path: str) -> str:
    return f"{settings.graph_endpoint}/{API_VERSION}{path}"


def _cached(settings: AzureSettings, path: str, fetch: Any) -> Any:
    key = (settings, path)
    with _lock:
        key_lock = _key_locks.setdefault(key, threading.Lock())
    with key_lock:  # concurrent subscriptions of one tenant wait for the first read instead of repeating it
        with _lock:
            hit = _cache.get(key)
        if hit is not None and time.monotonic() - hit[0] < CACHE_SECONDS:
            return hit[1]
        value = fetch()
        with _lock:
            _cache[key] = (time.monotonic(), value)
        return value


def get(settings: AzureSettings, path: str) -> dict[str, Any]:
    """One Graph object (``/policies/authorizationPolicy``); raises ``HttpResponseError`` on an error status."""
    return _cached(settings, path, lambda: _get(settings, _url(settings, path)))


def list_all(settings: AzureSettings, path: str) -> list[dict[str, Any]]:
    """Every item of a Graph collection, following ``@odata.nextLink``."""

    def fetch() -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        url: str | None = _url(settings, path)
        while url:
            page = _get(settings, url)
            items.extend(v for v in page.get("value") or [] if isinstance(v, dict))
            url = page.get("@odata.nextLink")
        return items

    return _cached(settings, path, fetch)


def reset() -> None:
    """Forget clients and cached answers (tests switching endpoints or permissions)."""
    with _lock:
        _clients.clear()
        _cache.clear()
        _key_locks.clear()
