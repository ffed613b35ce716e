"""The few read APIs posture calls that moto does not implement, answered in front of moto for the mock account.

moto 5.2 has no IAM Access Analyzer, no ``GetSerialConsoleAccessStatus`` and no
``GetSnapshotBlockPublicAccessState``. ``posture demo``, the benchmark and the tests would see a 500 for
them; this WSGI middleware answers exactly those requests in the public wire format (EC2 query XML,
Access Analyzer REST-JSON) from a per-region state the seeder sets, and passes everything else to moto.
"""

from __future__ import annotations

import io
import json
import re
import urllib.parse
from collections.abc import Callable, Iterable
from typing import Any

EC2_NS = "http://ec2.amazonaws.com/doc/2016-11-15/"
#: region -> {"serial_console": bool, "snapshot_block": str, "analyzers": [names]}
STATE: dict[str, dict[str, Any]] = {}
_REGION = re.compile(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request")


def reset() -> None:
    STATE.clear()


def region_state(region: str) -> dict[str, Any]:
    return STATE.setdefault(region, {"serial_console": False, "snapshot_block": "unblocked", "analyzers": []})


def _ec2(action: str, body: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<{action}Response xmlns="{EC2_NS}">'
            f"<requestId>posture-mock</requestId>{body}</{action}Response>").encode()


class MissingApis:
    """WSGI middleware: answers the missing read APIs, forwards the rest."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        match = _REGION.search(environ.get("HTTP_AUTHORIZATION", ""))
        region, service = (match.group(1), match.group(2)) if match else ("us-east-1", "")
        if service == "access-analyzer" and environ.get("REQUEST_METHOD") == "GET" \
                and environ.get("PATH_INFO", "").rstrip("/") == "/analyzer":
            account = "123456789012"
            analyzers = [{"arn": f"arn:aws:access-analyzer:{region}:{account}:analyzer/{n}", "name": n,
                          "type": "ACCOUNT", "status": "ACTIVE", "createdAt": "2026-01-01T00:00:00Z"}
                         for n in region_state(region)["analyzers"]]
            return self._reply(start_response, "application/json", json.dumps({"analyzers": analyzers}).encode())
        if service == "ec2" and environ.get("REQUEST_METHOD") == "POST":
            size = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(size) if size else b""
            environ["wsgi.input"] = io.BytesIO(raw)
            action = urllib.parse.parse_qs(raw.decode("utf-8", "replace")).get("Action", [""])[0]
            state = region_state(region)
            if action == "GetSerialConsoleAccessStatus":
                enabled = "true" if state["serial_console"] else "false"
                return self._reply(start_response, "text/xml", _ec2(action, f"<serialConsoleAccessEnabled>{enabled}"
                                                                        "</serialConsoleAccessEnabled>"))
            if action == "GetSnapshotBlockPublicAccessState":
                return self._reply(start_response, "text/xml", _ec2(action, f"<state>{state['snapshot_block']}"
                                                                        "</state>"))
        return self.app(environ, start_response)

    @staticmethod
    def _reply(start_response: Callable[..., Any], content_type: str, body: bytes) -> list[bytes]:
        start_response("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))])
        return [body]
