"""The machinery every fake cloud API in tests/ shares: a JSON server on 127.0.0.1.

A fake control plane subclasses :class:`LoopbackServer` and writes only what
its API answers (:meth:`LoopbackServer.route`: its paths, auth rule, error and
page shapes). This module owns the rest, once: a threaded server on an
ephemeral 127.0.0.1 port (https with a throwaway CA from :func:`private_ca`
when the client insists on TLS), the request log with each answer's status,
injected faults (an error on a path, N throttled answers, a stalled answer),
rewinding per-path sequences, and page-token chains.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self
from urllib.parse import parse_qsl, unquote, urlsplit


@dataclass(frozen=True)
class Request:
    """One request as the fake saw it; ``status`` is the answer's, filled in when it is logged."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    authorization: str | None = None
    status: int = 0

    def param(self, name: str) -> str | None:
        """The first value of query parameter ``name`` (names compared case-insensitively), or None."""
        return next((v for k, v in self.query if k.lower() == name.lower()), None)

    def values(self, name: str) -> list[str]:
        """Every value of query parameter ``name``, in order."""
        return [v for k, v in self.query if k.lower() == name.lower()]


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def recorded(cls, data: Mapping[str, Any]) -> Reply:
        """A reply written in a fixture as ``{"status", "headers", "body"}``."""
        return cls(int(data["status"]), data.get("body", {}), data.get("headers") or {})


@dataclass
class _Fault:
    reply: Reply
    method: str | None
    subtree: bool
    left: int | None  # answers still to give; None: every matching request


def page(pages: list[dict[str, Any]], token: str | None, token_field: str = "nextPageToken") -> Any:
    """The page a page token asks for: the first without a token, the one after the page that named
    ``token`` in ``token_field``, None for a token no page handed out (the API's invalid-token error)."""
    if not token:
        return pages[0]
    for i, current in enumerate(pages[:-1]):
        if current.get(token_field) == token:
            return pages[i + 1]
    return None


class LoopbackServer:
    """A fake API on ``127.0.0.1:<ephemeral port>``; use as ``with Fake(...) as fake`` or start()/stop()."""

    #: True where the API treats paths case-insensitively (ARM): routing, faults and log searches follow it
    case_insensitive_paths = False
    #: the public base URL recorded in fixture bodies (nextLinks), rewritten to this server's URL
    recorded_origin: str | None = None
    #: headers the API sends with every answer
    headers: Mapping[str, str] = {}

    def __init__(self, *, tls: ssl.SSLContext | None = None) -> None:
        self._lock = threading.Lock()
        self._turns: Counter[str] = Counter()
        self._faults: dict[str, _Fault] = {}
        self._delays: dict[str, float] = {}
        self.requests: list[Request] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        # a client that gave up on a delayed answer (read timeout) closed the socket: not worth a traceback
        self._server.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name=type(self).__name__,
                                        daemon=True)

    # ---------------------------------------------------------------- what a fake writes
    def route(self, req: Request) -> Reply:
        """The API's answer to ``req``; call :meth:`injected` where the API would apply a fault."""
        raise NotImplementedError

    def logs(self, req: Request) -> bool:
        """Whether ``req`` is an API call the client counts (not, say, a token exchange)."""
        return True

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---------------------------------------------------------------- the log
    def reset(self) -> None:
        """Forget the logged requests and rewind every sequence (injected faults stay)."""
        with self._lock:
            self.requests.clear()
            self._turns.clear()

    def requests_to(self, fragment: str = "", method: str | None = None) -> list[Request]:
        """Logged requests whose path contains ``fragment`` (and of ``method`` if given), in order."""
        with self._lock:
            return [r for r in self.requests if self._key(fragment) in self._key(r.path)
                    and (method is None or r.method == method)]

    # ---------------------------------------------------------------- injected faults
    @contextmanager
    def fault(self, path: str, reply: Reply, *, method: str | None = None, times: int | None = None,
              subtree: bool = False) -> Iterator[None]:
        """Answer ``reply`` instead of the route for ``path`` (every page; with ``subtree`` every path
        under it too; only ``method`` if given) while the block runs, at most ``times`` times."""
        key = self._key(path)
        with self._lock:
            self._faults[key] = _Fault(reply, method, subtree, times)
        try:
            yield
        finally:
            with self._lock:
                self._faults.pop(key, None)

    @contextmanager
    def delay(self, path: str, seconds: float) -> Iterator[None]:
        """Answer ``path`` only after ``seconds`` while the block runs: a stalled API, whose client's
        read timeout fires first."""
        key = self._key(path)
        with self._lock:
            self._delays[key] = seconds
        try:
            yield
        finally:
            with self._lock:
                self._delays.pop(key, None)

    def injected(self, req: Request) -> Reply | None:
        """The fault injected for ``req``, if any (a counted one is used up by this answer)."""
        key = self._key(req.path)
        with self._lock:
            for where, fault in self._faults.items():
                if not (key == where or (fault.subtree and key.startswith(where + "/"))):
                    continue
                if (fault.method not in (None, req.method)) or fault.left == 0:
                    continue
                if fault.left is not None:
                    fault.left -= 1
                return fault.reply
        return None

    def turn(self, key: str) -> int:
        """How many times ``key`` was answered before (0 the first time): the position in a sequence."""
        with self._lock:
            n = self._turns[key]
            self._turns[key] += 1
            return n

    # ---------------------------------------------------------------- serving
    def _key(self, path: str) -> str:
        path = path.strip("/")
        return path.lower() if self.case_insensitive_paths else path

    def _answer(self, req: Request) -> Reply:
        reply = self.route(req)
        with self._lock:
            if self.logs(req):
                self.requests.append(replace(req, status=reply.status))
            delay = self._delays.get(self._key(req.path))
        if delay:
            time.sleep(delay)
        return reply

    def rewrite(self, text: str) -> str:
        """A body's JSON text as sent: recorded addresses (``recorded_origin`` in nextLinks) pointed at
        this server; a fake whose bodies name another fake's addresses extends it."""
        return text.replace(self.recorded_origin, self.url) if self.recorded_origin else text

    def _encode(self, body: Any) -> bytes:
        return self.rewrite(json.dumps(body)).encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                parts = urlsplit(self.path)
                req = Request(self.command, unquote(parts.path), tuple(parse_qsl(parts.query, keep_blank_values=True)),
                              self.headers.get("Authorization"))
                reply = fake._answer(req)
                data = fake._encode(reply.body)
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in {**fake.headers, **reply.headers}.items():
                    self.send_header(name, str(value))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet test output
                return

        return Handler


@dataclass(frozen=True)
class PrivateCa:
    """A throwaway CA (``ca``: its PEM, what a client trusts) and a 127.0.0.1 server certificate."""

    ca: str
    cert: str
    key: str

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context


def private_ca(directory: Path) -> PrivateCa:
    """Issue a CA and a certificate for 127.0.0.1/localhost into ``directory`` (trustme)."""
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    files = PrivateCa(str(directory / "ca.pem"), str(directory / "server.pem"), str(directory / "server.key"))
    ca.cert_pem.write_to_path(files.ca)
    cert.cert_chain_pems[0].write_to_path(files.cert)
    cert.private_key_pem.write_to_path(files.key)
    return files
