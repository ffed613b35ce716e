"""A fake Microsoft Graph endpoint: the fake ARM server's TLS and fixture machinery, Graph's rules.

Fixtures live in ``tests/fixtures/azure-graph/<tenant>/v1.0/<path>.json`` and a
tenant is selected by the endpoint's path prefix, so two tenants are two
``--azure-graph-endpoint`` values (``https://127.0.0.1:PORT/tenant-good``).
Like Graph it needs a bearer token and no ``api-version``, pages with
``@odata.nextLink`` (``<path>.skiptoken-<T>.json`` answers ``$skiptoken=T``),
answers errors as ``{"error": {"code", "message"}}`` (``__response__`` /
``__sequence__`` files: a 429 with Retry-After, then the page), and
:meth:`deny` turns every path of a tenant into Graph's 403.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.azure.fake_arm import TEST_TOKEN, FakeArm, Request, error

REAL_GRAPH = "https://graph.microsoft.com"
GRAPH_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "azure-graph"
DENIED = ("Authorization_RequestDenied", "Insufficient privileges to complete the operation.")


class FakeGraph(FakeArm):
    real_base = REAL_GRAPH

    def __init__(self, certfile: str, keyfile: str) -> None:
        super().__init__(GRAPH_FIXTURES, certfile, keyfile)
        self._denied: set[str] = set()

    def endpoint(self, tenant: str) -> str:
        return f"{self.base_url}/{tenant}"

    @contextmanager
    def deny(self, tenant: str) -> Iterator[None]:
        """Every request to ``tenant`` answers 403 Authorization_RequestDenied while the block runs."""
        with self._lock:
            self._denied.add(tenant)
        try:
            yield
        finally:
            with self._lock:
                self._denied.discard(tenant)

    def respond(self, req: Request, auth: str | None) -> dict[str, Any]:
        with self._lock:
            self.requests.append(req)
            denied = req.path.strip("/").split("/", 1)[0] in self._denied
        if req.method != "GET":
            return error(405, "Request_BadRequest", "the fake Graph server is read-only")
        if auth != f"Bearer {TEST_TOKEN}":
            return error(401, "InvalidAuthenticationToken", "Access token is empty.")
        if denied:
            return error(403, *DENIED)
        key = req.path.strip("/").lower()
        token = req.param("$skiptoken")
        if token:
            key = f"{key}.skiptoken-{token.lower()}"
        path = self._index.get(key)
        if path is None:
            return error(404, "Request_ResourceNotFound", f"Resource '{req.path}' does not exist.")
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and "__sequence__" in data:
            with self._lock:
                n = self._served[key]
                self._served[key] += 1
            seq = data["__sequence__"]
            return seq[min(n, len(seq) - 1)]
        if isinstance(data, dict) and "__response__" in data:
            return data["__response__"]
        return {"status": 200, "headers": {}, "body": data}
