"""A fake Google Cloud API server on 127.0.0.1 serving recorded REST responses.

Every Google API is served under one host by path (``/compute/v1/...``,
``/storage/v1/...``, ``/v3/projects/...``), which is how the provider's
``--gcp-api-endpoint`` option reaches it. Responses come from route files
(``tests/fixtures/gcp/routes/*.json``, see the README there): JSON bodies as
the public REST references shape them, ``nextPageToken`` page chains, and
``{"error": {...}}`` bodies served with their ``error.code`` as HTTP status.

It also plays the OAuth token endpoint for a service-account key file, and
refuses API calls without either the bearer token it issued or a self-signed
JWT (what google-auth sends outside the googleapis.com universe) verified
against a registered service-account public key, so the clients' real auth
path is exercised. The server, log, faults and page chains are tests/loopback.py's.
"""

from __future__ import annotations

import json
import re
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from tests.loopback import LoopbackServer, Reply, Request, page

TOKEN = "fake-access-token"
_DAYS_AGO = re.compile(r"\{\{days_ago:(-?\d+)\}\}")


def _render(value: Any) -> Any:
    """Expand ``{{days_ago:N}}`` into an RFC 3339 timestamp N days before now (ages stay true)."""
    text = json.dumps(value)
    now = datetime.now(UTC)
    text = _DAYS_AGO.sub(lambda m: (now - timedelta(days=int(m.group(1)))).strftime("%Y-%m-%dT%H:%M:%SZ"), text)
    return json.loads(text)


def error_body(code: int, status: str, message: str, reason: str | None = None) -> dict[str, Any]:
    err: dict[str, Any] = {"code": code, "message": message, "status": status}
    if reason:
        err["details"] = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason,
                           "domain": "googleapis.com"}]
    return {"error": err}


def error(code: int, status: str, message: str, reason: str | None = None) -> Reply:
    """A Google API error answer: ``{"error": {"code", "message", "status"}}`` with ``code`` as HTTP status."""
    return Reply(code, error_body(code, status, message, reason))


class FakeGcp(LoopbackServer):
    def __init__(self, routes_dir: Path, *, tls: Any = None) -> None:
        super().__init__(tls=tls)
        self.routes: dict[tuple[str, str], list[tuple[dict[str, list[str]], Any]]] = {}
        for path in sorted(routes_dir.glob("*.json")):
            for key, response in json.loads(path.read_text(encoding="utf-8")).items():
                if key.startswith("_"):
                    continue  # "_comment" keys document a route file
                method, _, target = key.partition(" ")
                route_path, _, raw_query = target.partition("?")
                query = parse_qs(raw_query, keep_blank_values=True)
                self.routes.setdefault((method, route_path), []).append((query, response))
        #: public keys (PEM) whose self-signed JWTs are accepted as bearer tokens
        self.jwt_signers: list[str] = []

    def throttle(self, method: str, path: str, times: int) -> AbstractContextManager[None]:
        """Answer the next ``times`` calls of METHOD path with 429 RESOURCE_EXHAUSTED while the block runs."""
        return self.fault(path, error(429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Read "
                                      "requests' (fake).", "RATE_LIMIT_EXCEEDED"), method=method, times=times)

    def logs(self, req: Request) -> bool:
        return not self._is_token_exchange(req)  # google-auth's token refresh is not an API call

    def route(self, req: Request) -> Reply:
        if self._is_token_exchange(req):
            return Reply(200, {"access_token": TOKEN, "expires_in": 3600, "token_type": "Bearer"})
        if not self._authorized(req.authorization):
            return error(401, "UNAUTHENTICATED", "Request is missing a valid access token.")
        injected = self.injected(req)
        if injected is not None:
            return injected
        response = self._match(req)
        if response is None:
            return error(404, "NOT_FOUND", f"The fake has no route for {req.method} {req.path}")
        if isinstance(response, dict) and "pages" in response:
            response = page(response["pages"], req.param("pageToken"))
            if response is None:
                return error(400, "INVALID_ARGUMENT", "Invalid page token")
        if isinstance(response, dict) and isinstance(response.get("error"), dict):
            return Reply(int(response["error"].get("code", 500)), response)
        return Reply(200, _render(response))

    @staticmethod
    def _is_token_exchange(req: Request) -> bool:
        return req.method == "POST" and req.path == "/token"

    def _authorized(self, auth: str | None) -> bool:
        if auth == f"Bearer {TOKEN}":
            return True
        if not auth or not auth.startswith("Bearer ") or auth.count(".") != 2:
            return False
        from google.auth import jwt

        for pem in self.jwt_signers:
            try:
                jwt.decode(auth[len("Bearer "):], certs=pem, verify=True)
                return True
            except ValueError:
                continue
        return False

    def _match(self, req: Request) -> Any:
        """The route whose query parameters all match, the most specific one first."""
        best, best_size = None, -1
        for route_query, response in self.routes.get((req.method, req.path), []):
            if all(req.values(k) == v for k, v in route_query.items()) and len(route_query) > best_size:
                best, best_size = response, len(route_query)
        return best
