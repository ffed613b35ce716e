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
path is exercised.
"""

from __future__ import annotations

import json
import re
import ssl
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

TOKEN = "fake-access-token"
_DAYS_AGO = re.compile(r"\{\{days_ago:(-?\d+)\}\}")


@dataclass(frozen=True)
class Logged:
    method: str
    path: str
    query: dict[str, list[str]]
    status: int


def _query(raw: str) -> dict[str, list[str]]:
    return parse_qs(raw, keep_blank_values=True)


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


class FakeGcp:
    def __init__(self, routes_dir: Path, ssl_context: ssl.SSLContext | None = None) -> None:
        self._ssl_context = ssl_context
        self.routes: dict[tuple[str, str], list[tuple[dict[str, list[str]], Any]]] = {}
        for path in sorted(routes_dir.glob("*.json")):
            for key, response in json.loads(path.read_text(encoding="utf-8")).items():
                if key.startswith("_"):
                    continue  # "_comment" keys document a route file
                method, _, target = key.partition(" ")
                route_path, _, raw_query = target.partition("?")
                self.routes.setdefault((method, route_path), []).append((_query(raw_query), response))
        self.log: list[Logged] = []
        #: public keys (PEM) whose self-signed JWTs are accepted as bearer tokens
        self.jwt_signers: list[str] = []
        self._throttles: dict[tuple[str, str], int] = {}
        self._delays: dict[str, float] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # ---------------------------------------------------------------- control
    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"{'https' if self._ssl_context else 'http'}://{host}:{port}"

    def start(self) -> FakeGcp:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                fake._handle(self, "GET")

            def do_POST(self) -> None:
                fake._handle(self, "POST")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        # a client that gave up on a delayed answer closed the socket: not worth a traceback
        self._server.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
        if self._ssl_context is not None:
            self._server.socket = self._ssl_context.wrap_socket(self._server.socket, server_side=True)
        threading.Thread(target=self._server.serve_forever, name="fake-gcp", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def delay(self, path: str, seconds: float) -> None:
        """Answer GETs of ``path`` only after ``seconds`` (0 removes it): a stalled API."""
        with self._lock:
            if seconds:
                self._delays[path] = seconds
            else:
                self._delays.pop(path, None)

    def throttle(self, method: str, path: str, times: int) -> None:
        """Answer the next ``times`` calls of METHOD path with 429 RESOURCE_EXHAUSTED."""
        with self._lock:
            self._throttles[(method, path)] = times

    def clear_log(self) -> None:
        with self._lock:
            self.log.clear()

    def calls(self, fragment: str = "", method: str | None = None) -> list[Logged]:
        with self._lock:
            return [c for c in self.log if fragment in c.path and (method is None or c.method == method)]

    # ---------------------------------------------------------------- serving
    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        if length:
            handler.rfile.read(length)
        split = urlsplit(handler.path)
        path, query = unquote(split.path), _query(split.query)
        if path == "/token" and method == "POST":
            self._send(handler, 200, {"access_token": TOKEN, "expires_in": 3600, "token_type": "Bearer"})
            return
        status, body = self._respond(method, path, query, handler.headers.get("Authorization"))
        with self._lock:
            self.log.append(Logged(method, path, query, status))
            delay = self._delays.get(path) if method == "GET" else None
        if delay:
            import time

            time.sleep(delay)  # the client's read timeout fires first
        self._send(handler, status, body)

    def _respond(self, method: str, path: str, query: dict[str, list[str]], auth: str | None
                 ) -> tuple[int, Any]:
        if not self._authorized(auth):
            return 401, error_body(401, "UNAUTHENTICATED", "Request is missing a valid access token.")
        with self._lock:
            left = self._throttles.get((method, path), 0)
            if left > 0:
                self._throttles[(method, path)] = left - 1
                return 429, error_body(429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Read "
                                       "requests' (fake).", "RATE_LIMIT_EXCEEDED")
        response = self._match(method, path, query)
        if response is None:
            return 404, error_body(404, "NOT_FOUND", f"The fake has no route for {method} {path}")
        if isinstance(response, dict) and "pages" in response:
            response = self._page(response["pages"], (query.get("pageToken") or [""])[0])
            if response is None:
                return 400, error_body(400, "INVALID_ARGUMENT", "Invalid page token")
        if isinstance(response, dict) and isinstance(response.get("error"), dict):
            return int(response["error"].get("code", 500)), response
        return 200, _render(response)

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

    def _match(self, method: str, path: str, query: dict[str, list[str]]) -> Any:
        best, best_size = None, -1
        for route_query, response in self.routes.get((method, path), []):
            if all(query.get(k) == v for k, v in route_query.items()) and len(route_query) > best_size:
                best, best_size = response, len(route_query)
        return best

    @staticmethod
    def _page(pages: list[dict[str, Any]], token: str) -> Any:
        if not token:
            return pages[0]
        for i, page in enumerate(pages[:-1]):
            if page.get("nextPageToken") == token:
                return pages[i + 1]
        return None

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json; charset=UTF-8")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
