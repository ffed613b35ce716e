"""A fake Microsoft Graph endpoint: tests/loopback.py's server, the ARM fixtures' layout, Graph's rules.

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

from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from tests.azure.fake_arm import TEST_TOKEN, RecordedTree, error
from tests.loopback import LoopbackServer, Reply, Request

REAL_GRAPH = "https://graph.microsoft.com"
GRAPH_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "azure-graph"
DENIED = ("Authorization_RequestDenied", "Insufficient privileges to complete the operation.")


class FakeGraph(LoopbackServer):
    case_insensitive_paths = True
    recorded_origin = REAL_GRAPH
    headers = {"request-id": "00000000-0000-0000-0000-000000000000"}

    def __init__(self, *, tls: Any) -> None:
        super().__init__(tls=tls)
        self.recorded = RecordedTree(GRAPH_FIXTURES)

    def endpoint(self, tenant: str) -> str:
        return f"{self.url}/{tenant}"

    def deny(self, tenant: str) -> AbstractContextManager[None]:
        """Every request to ``tenant`` answers 403 Authorization_RequestDenied while the block runs."""
        return self.fault(tenant, error(403, *DENIED), subtree=True)

    def route(self, req: Request) -> Reply:
        if req.method != "GET":
            return error(405, "Request_BadRequest", "the fake Graph server is read-only")
        if req.authorization != f"Bearer {TEST_TOKEN}":
            return error(401, "InvalidAuthenticationToken", "Access token is empty.")
        return (self.injected(req) or self.recorded.answer(self, req)
                or error(404, "Request_ResourceNotFound", f"Resource '{req.path}' does not exist."))
