"""Credentials, SDK clients and request counting.

Units are picklable descriptions; live objects are built lazily in whichever
process runs the unit. Credentials are cached per process (they hold the
token cache); clients per scan and (settings, subscription, client class) in
the scan's bounded cache, so concurrent units of one subscription share one
client (azure-core clients are thread-safe). Every HTTP attempt is counted
for the running unit (:func:`posture.collecting.count_request`).
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from azure.core.pipeline.policies import SansIOHTTPPolicy

from posture.collecting import BoundedCache, acquire_slot, count_request, release_slot
from posture.provider import ProviderError
from posture_azure.settings import CONNECTION_TIMEOUT, TIMEOUT_RETRIES, AzureSettings

#: clients kept per scan: (client class x subscription) pairs; an evicted one is simply rebuilt
CLIENTS_PER_SCAN = 512


class CountRequestsPolicy(SansIOHTTPPolicy):  # type: ignore[type-arg]
    """Per-retry policy: every HTTP attempt is counted for the running unit, and takes a slot of the
    per (subscription, service) limit Celery workers share (``posture.collecting.throttling``; a no-op
    in a local scan) until its answer or failure arrives."""

    def on_request(self, request: Any) -> None:
        count_request()
        acquire_slot(service_of(request.http_request.url), "global")

    def on_response(self, request: Any, response: Any) -> None:
        release_slot()

    def on_exception(self, request: Any) -> None:
        release_slot()


def service_of(url: str) -> str:
    """What Azure throttles a request under: the ARM resource provider (``Microsoft.Storage``), else the
    host's first label (``graph``, a vault's name for the Key Vault data plane)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    segments = parts.path.split("/")
    for before, segment in zip(segments, segments[1:], strict=False):
        if before.lower() == "providers" and segment:
            return segment
    return (parts.hostname or "").split(".")[0] or "arm"


_POLICY = CountRequestsPolicy()
_lock = threading.Lock()
_credentials: dict[tuple[Any, ...], Any] = {}
_injected: dict[str, Any] = {}


def client_cache() -> BoundedCache[Any]:
    """The clients of one scan."""
    return BoundedCache(CLIENTS_PER_SCAN)


def _graph_answers() -> Any:
    from posture_azure.graph import Answers

    return Answers()


@dataclass
class ScanState:
    """What the units of one scan share, and forget with it: ARM and data-plane clients, and the
    Microsoft Graph answers (the tenant's, read once per scan whatever the number of subscriptions)."""

    clients: BoundedCache[Any] = field(default_factory=client_cache)
    graph_answers: Any = field(default_factory=_graph_answers)


def register_credential(name: str, credential: Any) -> None:
    """Make an in-process credential object selectable as ``--azure-credential name``."""
    with _lock:
        _injected[name] = credential


def _load_factory(spec: str) -> Any:
    module_name, _, attr = spec.partition(":")
    if not attr:
        raise ProviderError(f"azure: --azure-credential {spec!r} must be 'default', a registered name or 'module:callable'")
    try:
        factory = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ProviderError(f"azure: cannot load credential factory {spec!r}: {exc}") from None
    # a class or factory function is called; a ready credential object is used as is
    if isinstance(factory, type) or (callable(factory) and not hasattr(factory, "get_token")):
        return factory()
    return factory


def credential_for(settings: AzureSettings) -> Any:
    """The credential selected by ``settings.credential`` (cached per process)."""
    key = (settings.credential, settings.authority, settings.custom_authority)
    with _lock:
        if settings.credential in _injected:
            return _injected[settings.credential]
        cached = _credentials.get(key)
    if cached is not None:
        return cached
    if settings.credential == "default":
        from azure.identity import DefaultAzureCredential

        _quiet_identity_logger()
        kwargs: dict[str, Any] = {"authority": settings.authority, "exclude_interactive_browser_credential": True}
        if settings.custom_authority:
            kwargs["disable_instance_discovery"] = True  # else MSAL first calls login.microsoftonline.com
        cred = DefaultAzureCredential(**kwargs)
    else:
        cred = _load_factory(settings.credential)
    with _lock:
        return _credentials.setdefault(key, cred)


def _quiet_identity_logger() -> None:
    """The chained credential logs its failure at WARNING and then raises the same text, which the
    provider reports once, condensed; unless the user configured ``azure.identity`` logging, keep it quiet."""
    log = logging.getLogger("azure.identity")
    if log.level == logging.NOTSET:
        log.setLevel(logging.ERROR)


def client_kwargs(settings: AzureSettings) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "base_url": settings.arm_endpoint,
        "credential_scopes": settings.credential_scopes,
        "per_retry_policies": [_POLICY],
        "retry_total": settings.retry_total,
        "retry_backoff_factor": settings.retry_backoff,
        "retry_backoff_max": 30,
        # a stalled response is retried once, then the call is a Timeout error for the facts it feeds
        "retry_read": TIMEOUT_RETRIES,
        "retry_connect": TIMEOUT_RETRIES,
        "connection_timeout": CONNECTION_TIMEOUT,
        "read_timeout": settings.read_timeout,
    }
    if settings.ca_bundle:
        kwargs["connection_verify"] = settings.ca_bundle
    return kwargs


def client(settings: AzureSettings, factory: Callable[..., Any], subscription_id: str | None,
           cache: BoundedCache[Any]) -> Any:
    """One SDK client per (settings, client class, subscription) in ``cache``, built on first use."""

    def make() -> Any:
        from posture_azure.sdk_models import prime

        prime(factory)  # before the client's first answers are deserialized by concurrent threads
        cred = credential_for(settings)
        kwargs = client_kwargs(settings)
        return factory(cred, **kwargs) if subscription_id is None else factory(cred, subscription_id, **kwargs)

    return cache.get((settings, factory, subscription_id), make)


def reset() -> None:
    """Forget cached credentials (tests switching endpoints); clients and Graph answers live and die with
    their scan."""
    with _lock:
        _credentials.clear()
