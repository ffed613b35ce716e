"""A fake Azure Resource Manager endpoint serving recorded JSON over TLS on 127.0.0.1.

Fixture layout (see tests/fixtures/azure/README.md): one JSON file per ARM
path, holding the exact response body; ``<path>.skiptoken-<T>.json`` is the
page a ``$skiptoken=T`` nextLink asks for; ``https://management.azure.com``
in a body is rewritten to this server's address so nextLinks come back here.
A file may instead hold ``{"__response__": {"status", "headers", "body"}}``
(an error) or ``{"__sequence__": [response, ...]}`` (served in order per
path, the last one repeating: throttling then success). :class:`RecordedTree`
reads that layout for the fake Graph server too.

Like ARM it requires the ``api-version`` query parameter and a bearer
token, answers only GET (posture is read-only) and logs every request. The
server, log and faults are tests/loopback.py's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from tests.loopback import LoopbackServer, Reply, Request

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


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Reply:
    """An Azure error answer (ARM's and Graph's shape: ``{"error": {"code", "message"}}``)."""
    return Reply(status, {"error": {"code": code, "message": message}}, headers or {})


def filtered(body: Any, flt: str | None) -> Any:
    """Apply ARM's generic-resource ``$filter=resourceType eq 'A' or resourceType eq 'B'`` to a list body."""
    types = {t.lower() for t in re.findall(r"resourceType eq '([^']+)'", flt or "")}
    if not types or not isinstance(body, dict) or not isinstance(body.get("value"), list):
        return body
    return {**body, "value": [r for r in body["value"] if str(r.get("type", "")).lower() in types]}


class RecordedTree:
    """Recorded Azure answers: one JSON file per lower-cased path, ``.skiptoken-<T>`` pages,
    ``__response__`` and ``__sequence__`` files (see tests/fixtures/azure/README.md)."""

    def __init__(self, root: Path) -> None:
        self._index = {str(p.relative_to(root))[:-5].lower(): p for p in root.rglob("*.json")}

    def answer(self, server: LoopbackServer, req: Request,
               shape: Callable[[Any], Any] = lambda body: body) -> Reply | None:
        """The recorded answer to ``req`` (``shape`` applied to a plain body), None without a fixture."""
        key = req.path.strip("/").lower()
        token = req.param("$skiptoken")
        if token:
            key = f"{key}.skiptoken-{token.lower()}"
        path = self._index.get(key)
        if path is None:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and "__sequence__" in data:
            seq = data["__sequence__"]
            return Reply.recorded(seq[min(server.turn(key), len(seq) - 1)])
        if isinstance(data, dict) and "__response__" in data:
            return Reply.recorded(data["__response__"])
        return Reply(200, shape(data))


class FakeArm(LoopbackServer):
    """Start with :meth:`start`; ``url`` is what ``--azure-arm-endpoint`` gets."""

    case_insensitive_paths = True
    recorded_origin = REAL_ARM
    headers = {"x-ms-request-id": "00000000-0000-0000-0000-000000000000"}

    def __init__(self, root: Path = FIXTURES, *, tls: Any, vaults: LoopbackServer | None = None) -> None:
        """``vaults``: the fake Key Vault data plane the vault list's ``vaultUri`` values are pointed at."""
        super().__init__(tls=tls)
        self.recorded = RecordedTree(root)
        self.vaults = vaults

    def rewrite(self, text: str) -> str:
        text = super().rewrite(text)
        return self.vaults.rewrite(text) if self.vaults is not None else text

    def override(self, path: str, status: int, code: str, message: str) -> AbstractContextManager[None]:
        """Serve an ARM error for ``path`` (every page) while the block runs, e.g. a 403 on one list."""
        return self.fault(path, error(status, code, message))

    def route(self, req: Request) -> Reply:
        if req.method != "GET":
            return error(405, "MethodNotAllowed", "the fake ARM server is read-only")
        if req.path.rstrip("/").lower() == "/metadata/endpoints":
            # unauthenticated, as on ARM and Azure Stack Hub
            return Reply(200, {
                "galleryEndpoint": "", "graphEndpoint": "", "portalEndpoint": "",
                "authentication": {"loginEndpoint": STACK_LOGIN, "audiences": [STACK_AUDIENCE]}})
        if req.authorization != f"Bearer {TEST_TOKEN}":
            return error(401, "AuthenticationFailed", "missing or invalid bearer token")
        if not req.param("api-version"):
            return error(400, "MissingApiVersionParameter", "The api-version query parameter is required.")
        return (self.injected(req)
                or self.recorded.answer(self, req, lambda body: filtered(body, req.param("$filter")))
                or error(404, "ResourceNotFound", f"no fixture for {req.path}"))


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
