"""Microsoft Graph (Entra ID) over a plain azure-core pipeline, with the scan's Azure credential.

Why not msgraph-sdk: posture reads a handful of JSON documents (policies,
guests, applications); the Kiota-generated SDK would add a dozen packages and
import-time cost for typed models that are discarded right away. The pipeline
(:mod:`posture_azure.dataplane`) has what matters: the same credential (its
Graph audience), retries that honour ``Retry-After`` (Graph throttles with
429), request counting, the cloud's own endpoint (public, US Gov, China, or
``--azure-graph-endpoint``) and ``@odata.nextLink`` paging.

Graph is per tenant, not per subscription: a scan reads each path once and its
subscriptions share the answer (:class:`Answers`, kept with the scan's clients
and forgotten with them). Errors are never kept, so a throttled or denied read
is tried again by the next subscription.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from posture_azure import dataplane

API_VERSION = "v1.0"
#: Graph application permission that lets posture read each path (named in the error when Graph answers 403)
PERMISSIONS: dict[str, str] = {
    "/policies/identitySecurityDefaultsEnforcementPolicy": "Policy.Read.All",
    "/identity/conditionalAccess/policies": "Policy.Read.All",
    "/policies/authorizationPolicy": "Policy.Read.All",
    "/users": "User.Read.All",
    "/applications": "Application.Read.All",
}


class Answers:
    """One scan's Graph answers by (settings, path): read once, concurrent readers wait for the first.

    Why not the scan's ``BoundedCache``: it builds values under one lock, so a slow (throttled) Graph
    read would hold up every unit making a client; here each path has its own lock.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[tuple[Any, str], Any] = {}
        self._key_locks: dict[tuple[Any, str], threading.Lock] = {}

    def get(self, key: tuple[Any, str], fetch: Callable[[], Any]) -> Any:
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._values:
                    return self._values[key]
            value = fetch()  # an error propagates and nothing is kept
            with self._lock:
                self._values[key] = value
            return value


def permission_for(path: str) -> str:
    base = path.split("?", 1)[0]
    return PERMISSIONS.get(base, "Directory.Read.All")


def _url(ctx: Any, path: str) -> str:
    return f"{ctx.settings.graph_endpoint}/{API_VERSION}{path}"


def get(ctx: Any, path: str) -> dict[str, Any]:
    """One Graph object (``/policies/authorizationPolicy``) for the unit's scan; raises ``HttpResponseError``."""
    client = ctx.data_plane(ctx.settings.graph_scopes)
    return ctx.graph_answers.get((ctx.settings, path), lambda: dataplane.get_json(client, _url(ctx, path)))


def list_all(ctx: Any, path: str) -> list[dict[str, Any]]:
    """Every item of a Graph collection, following ``@odata.nextLink``."""
    client = ctx.data_plane(ctx.settings.graph_scopes)
    return ctx.graph_answers.get((ctx.settings, path),
                                 lambda: list(dataplane.pages(client, _url(ctx, path), "@odata.nextLink")))
