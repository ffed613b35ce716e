"""A fake Azure Resource Manager endpoint serving recorded JSON over TLS on 127.0.0.1.

Fixture layout (see tests/fixtures/azure/README.md): one JSON file per ARM
path, holding the exact response body; ``<path>.skiptoken-<T>.json`` is the
page a ``$skiptoken=T`` nextLink asks for; ``https://management.azure.com``
in a body is rewritten to this server's address so nextLinks come back here.
A file may instead hold ``{"__response__": {"status", "headers", "body"}}``
(an error) or ``{"__sequence__": [response, ...]}`` (served in order per
path, the last one repeating: throttling then success).

Like ARM it requires the ``api-version`` query parameter and a bearer
token, answers only GET (posture is read-only) and logs every request.
"""

from __future__ import annotations

import json
import ssl
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

REAL_ARM = "https://management.azure.com"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "azure"
#: the fixture subscriptions: everything readable / denied at subscription level / 403+429 on some types
SUB_MAIN = "11111111-1111-1111-1111-111111111111"
SUB_DENIED = "22222222-2222-2222-2222-222222222222"
SUB_PARTIAL = "33333333-3333-3333-3333-333333333333"
#: readable only by --subscription (not in the /subscriptions list): a FileStorage account next to a StorageV2 one
SUB_FILES = "55555555-5555-5555-5555-555555555555"
CREDENTIAL_SPEC = "tests.azure.fake_arm:StaticCredential"
#: what the fake's /metadata/endpoints announces (Azure Stack Hub's document shape)
STACK_AUDIENCE = "https://management.fakestack.test/"
STACK_LOGIN = "https://login.fakestack.test/"
TEST_TOKEN = "posture-test-token"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: tuple[tuple[str, str], ...]

    def param(self, name: str) -> str | None:
        return next((v for k, v in self.query if k.lower() == name.lower()), None)


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {"status": status, "headers": headers or {}, "body": {"error": {"code": code, "message": message}}}


def filtered(body: Any, flt: str | None) -> Any:
    """Apply ARM's generic-resource ``$filter=resourceType eq 'A' or resourceType eq 'B'`` to a list body."""
    import re

    types = {t.lower() for t in re.findall(r"resourceType eq '([^']+)'", flt or "")}
    if not types or not isinstance(body, dict) or not isinstance(body.get("value"), list):
        return body
    return {**body, "value": [r for r in body["value"] if str(r.get("type", "")).lower() in types]}


class FakeArm:
    """Start with :meth:`start`; ``base_url`` is what ``--azure-arm-endpoint`` gets."""

    #: the public endpoint recorded in fixture bodies (nextLinks), rewritten to this server's address
    real_base = REAL_ARM

    def __init__(self, root: Path, certfile: str, keyfile: str) -> None:
        self.root = root
        self._index = {str(p.relative_to(root))[:-5].lower(): p for p in root.rglob("*.json")}
        self._lock = threading.Lock()
        self._served: Counter[str] = Counter()
        self._overrides: dict[str, dict[str, Any]] = {}
        self._delays: dict[str, float] = {}
        self.requests: list[Request] = []
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(certfile, keyfile)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        # a client that gave up on a delayed answer (read timeout) closed the socket: not worth a traceback
        self._server.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
        self._server.socket = ctx.wrap_socket(self._server.socket, server_side=True)
        self.base_url = f"https://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> FakeArm:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self._served.clear()

    @contextmanager
    def override(self, path: str, status: int, code: str, message: str) -> Iterator[None]:
        """Serve an ARM error for ``path`` (every page) while the block runs, e.g. a 403 on one list."""
        key = path.strip("/").lower()
        with self._lock:
            self._overrides[key] = error(status, code, message)
        try:
            yield
        finally:
            with self._lock:
                self._overrides.pop(key, None)

    @contextmanager
    def delay(self, path: str, seconds: float) -> Iterator[None]:
        """Answer ``path`` only after ``seconds`` while the block runs (a stalled API)."""
        key = path.strip("/").lower()
        self._delays[key] = seconds
        try:
            yield
        finally:
            self._delays.pop(key, None)

    def requests_to(self, fragment: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if fragment.lower() in r.path.lower()]

    # ------------------------------------------------------------ responses
    def respond(self, req: Request, auth: str | None) -> dict[str, Any]:
        with self._lock:
            self.requests.append(req)
        if req.method != "GET":
            return error(405, "MethodNotAllowed", "the fake ARM server is read-only")
        delay = self._delays.get(req.path.strip("/").lower())
        if delay:
            import time

            time.sleep(delay)  # a slow API: the client's read timeout fires first
        if req.path.rstrip("/").lower() == "/metadata/endpoints":
            # unauthenticated, as on ARM and Azure Stack Hub
            return {"status": 200, "headers": {}, "body": {
                "galleryEndpoint": "", "graphEndpoint": "", "portalEndpoint": "",
                "authentication": {"loginEndpoint": STACK_LOGIN, "audiences": [STACK_AUDIENCE]}}}
        if auth != f"Bearer {TEST_TOKEN}":
            return error(401, "AuthenticationFailed", "missing or invalid bearer token")
        if not req.param("api-version"):
            return error(400, "MissingApiVersionParameter", "The api-version query parameter is required.")
        key = req.path.strip("/").lower()
        with self._lock:
            if key in self._overrides:
                return self._overrides[key]
        token = req.param("$skiptoken")
        if token:
            key = f"{key}.skiptoken-{token.lower()}"
        path = self._index.get(key)
        if path is None:
            return error(404, "ResourceNotFound", f"no fixture for {req.path}")
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and "__sequence__" in data:
            with self._lock:
                n = self._served[key]
                self._served[key] += 1
            seq = data["__sequence__"]
            return seq[min(n, len(seq) - 1)]
        if isinstance(data, dict) and "__response__" in data:
            return data["__response__"]
        return {"status": 200, "headers": {}, "body": filtered(data, req.param("$filter"))}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                req = Request(self.command, unquote(parts.path), tuple(parse_qsl(parts.query)))
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                resp = fake.respond(req, self.headers.get("Authorization"))
                body = json.dumps(resp.get("body", {})).replace(fake.real_base, fake.base_url).encode()
                self.send_response(int(resp["status"]))
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("x-ms-request-id", "00000000-0000-0000-0000-000000000000")
                for name, value in (resp.get("headers") or {}).items():
                    self.send_header(name, str(value))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet test output
                return

        return Handler


class StaticCredential:
    """A fixed test token (never an unconfigured DefaultAzureCredential in tests); records the scopes asked."""

    scopes_requested: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        import time

        from azure.core.credentials import AccessToken

        StaticCredential.scopes_requested.append(scopes)
        return AccessToken(TEST_TOKEN, int(time.time()) + 3600)


class UnavailableCredential:
    """What DefaultAzureCredential raises on a machine with no credential at all (its real message shape)."""

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.exceptions import ClientAuthenticationError

        raise ClientAuthenticationError(message=(
            "DefaultAzureCredential failed to retrieve a token from the included credentials.\n"
            "Attempted credentials:\n"
            "\tEnvironmentCredential: EnvironmentCredential authentication unavailable. Environment variables are "
            "not fully configured.\nVisit https://aka.ms/azsdk/python/identity/environmentcredential/troubleshoot "
            "to troubleshoot this issue.\n"
            "\tManagedIdentityCredential: ManagedIdentityCredential authentication unavailable.\n"
            "\tAzureCliCredential: Azure CLI not found on path\n"
            "To mitigate this issue, please refer to the troubleshooting guidelines here at "
            "https://aka.ms/azsdk/python/identity/defaultazurecredential/troubleshoot."))
