"""A loopback HTTP proxy in front of moto: adds latency, counts requests, injects AWS errors.

Used by the benchmark (``--latency-ms``) and by tests that need AccessDenied,
throttling or a missing endpoint from a real HTTP exchange. Point the SDK at
it with ``AWS_ENDPOINT_URL``; it forwards everything else to ``upstream``.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "te", "upgrade"}
_SCOPE = re.compile(r"Credential=[^/]+/\d+/([^/]+)/([^/]+)/")


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    @property
    def service(self) -> str:
        m = _SCOPE.search(self.headers.get("authorization", ""))
        return m.group(2) if m else ""

    @property
    def action(self) -> str:
        """The operation: ``Action=`` (query), ``X-Amz-Target`` (JSON), else ``METHOD path?query``."""
        target = self.headers.get("x-amz-target")
        if target:
            return target.rsplit(".", 1)[-1]
        if self.body and b"Action=" in self.body:
            return parse_qs(self.body.decode("utf-8", "replace")).get("Action", [""])[0]
        return f"{self.method} {self.path}{'?' + self.query if self.query else ''}"


@dataclass
class Rule:
    """Answer matching requests with ``status``/``body`` instead of forwarding them.

    A rule with ``status == 0`` only holds matching requests for ``delay_s`` and
    then forwards them (a slow endpoint, for timeout tests).
    """

    match: Callable[[Request], bool]
    status: int
    body: bytes
    content_type: str = "text/xml"
    hits: int = 0
    delay_s: float = 0.0


def error_body(protocol: str, code: str, message: str = "injected by posture fault proxy") -> tuple[bytes, str]:
    """An AWS error document in the wire format of ``protocol`` (query, ec2, json, rest-xml)."""
    if protocol == "json":
        return json.dumps({"__type": code, "message": message}).encode(), "application/x-amz-json-1.1"
    if protocol == "ec2":
        return (f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors>"
                "<RequestID>posture-fault</RequestID></Response>").encode(), "text/xml"
    if protocol == "rest-xml":
        return f"<Error><Code>{code}</Code><Message>{message}</Message></Error>".encode(), "application/xml"
    return (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
            "<RequestId>posture-fault</RequestId></ErrorResponse>").encode(), "text/xml"


@dataclass
class FaultProxy:
    upstream: str
    latency_ms: float = 0.0
    rules: list[Rule] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add_error(self, match: Callable[[Request], bool], protocol: str, code: str, status: int = 403) -> Rule:
        body, ctype = error_body(protocol, code)
        rule = Rule(match, status, body, ctype)
        with self._lock:
            self.rules.append(rule)
        return rule

    def add_delay(self, match: Callable[[Request], bool], seconds: float) -> Rule:
        """Hold matching requests for ``seconds`` before forwarding them."""
        rule = Rule(match, 0, b"", delay_s=seconds)
        with self._lock:
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()
            self.counts.clear()

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def _record(self, req: Request) -> Rule | None:
        with self._lock:
            self.counts[f"{req.service}:{req.action}"] += 1
            for rule in self.rules:
                if rule.match(req):
                    rule.hits += 1
                    return rule
        return None


def _handler(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    up = urlsplit(proxy.upstream)
    local = threading.local()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:  # quiet
            pass

        def _conn(self) -> http.client.HTTPConnection:
            conn = getattr(local, "conn", None)
            if conn is None:
                conn = local.conn = http.client.HTTPConnection(up.hostname, up.port, timeout=120)
            return conn

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            req = Request(self.command, parts.path, parts.query, {k.lower(): v for k, v in self.headers.items()},
                          body)
            rule = proxy._record(req)
            if proxy.latency_ms:
                time.sleep(proxy.latency_ms / 1000)
            if rule is not None and rule.delay_s:
                time.sleep(rule.delay_s)
            if rule is not None and rule.status:
                self._reply(rule.status, [("Content-Type", rule.content_type)], rule.body)
                return
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}
            for attempt in (1, 2):
                try:
                    conn = self._conn()
                    conn.request(self.command, self.path, body=body, headers=headers)
                    resp = conn.getresponse()
                    data = resp.read()
                    break
                except (http.client.HTTPException, OSError):
                    local.conn = None
                    if attempt == 2:
                        raise
            out = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_HEADERS | {"content-length"}]
            self._reply(resp.status, out, data)

        def _reply(self, status: int, headers: list[tuple[str, str]], data: bytes) -> None:
            try:
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up (a read timeout): nothing to answer

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _handle

    return Handler


@contextmanager
def fault_proxy(upstream: str, latency_ms: float = 0.0) -> Iterator[FaultProxy]:
    """Run a :class:`FaultProxy` on 127.0.0.1 (ephemeral port) in a background thread."""
    proxy = FaultProxy(upstream, latency_ms)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(proxy))
    server.daemon_threads = True
    proxy.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="posture-fault-proxy")
    thread.start()
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()
