"""The MyCloud control plane on 127.0.0.1: the JSON API the test plugin scans.

Shaped like a real cloud's list APIs: pagination (``next``), errors as
``{"error": {"code", "message"}}`` with an HTTP status, and a log of requests so
tests can compare the plugin's request count with what the server saw.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

PAGE_SIZE = 2


class MyCloudApi:
    """``world``: account id -> {"name": ..., "regions": {region: list of buckets, or an error code}}."""

    def __init__(self, world: dict[str, Any]) -> None:
        self.world = world
        self.requests: list[str] = []
        self._lock = threading.Lock()

    def answer(self, path: str, page: int) -> tuple[int, dict[str, Any]]:
        parts = path.strip("/").split("/")
        if parts == ["v1", "accounts"]:
            items = [{"id": k, "name": v["name"]} for k, v in self.world.items()]
            return 200, self._page("accounts", items, page)
        if len(parts) == 4 and parts[3] == "regions" and parts[2] in self.world:
            return 200, {"regions": sorted(self.world[parts[2]]["regions"])}
        if len(parts) == 6 and parts[5] == "buckets" and parts[2] in self.world:
            found = self.world[parts[2]]["regions"].get(parts[4])
            if isinstance(found, str):
                return 403, {"error": {"code": found, "message": f"{found} on {path}"}}
            if found is not None:
                return 200, self._page("buckets", found, page)
        return 404, {"error": {"code": "NotFound", "message": path}}

    @staticmethod
    def _page(key: str, items: list[Any], page: int) -> dict[str, Any]:
        body: dict[str, Any] = {key: items[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]}
        if (page + 1) * PAGE_SIZE < len(items):
            body["next"] = str(page + 1)
        return body


@contextmanager
def serve(api: MyCloudApi) -> Iterator[str]:
    """Serve ``api`` on an ephemeral loopback port; yields its base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            url = urlsplit(self.path)
            with api._lock:
                api.requests.append(url.path)
            page = int((parse_qs(url.query).get("page") or ["0"])[0] or 0)
            status, body = api.answer(url.path, page)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name="mycloud-api", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
