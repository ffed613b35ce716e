"""A fake Key Vault data plane: tests/loopback.py's server, the ARM fixtures' layout, Key Vault's rules.

Every vault is a path prefix of this one server (``https://127.0.0.1:PORT/kv-good``
stands for ``https://kv-good.vault.azure.net``): the fake ARM server rewrites
the ``vaultUri`` of its vault list to that address (:func:`vault_hosts`), so
posture reaches this fake exactly as it reaches a real vault, through the URI ARM
gives. Fixtures live in ``tests/fixtures/azure-keyvault/<vault>/...`` (one JSON
file per path: ``certificates.json``, ``certificates.skiptoken-<T>.json`` for
the page a ``nextLink`` asks for, ``certificates/<name>/policy.json``).

Like Key Vault it needs a bearer token and ``api-version``, pages with
``nextLink`` and answers errors as ``{"error": {"code", "message",
"innererror": {"code"}}}``; :meth:`FakeKeyVault.deny` makes one vault answer
403 as its firewall, Azure RBAC or access policies would.
"""

from __future__ import annotations

import re
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from tests.azure.fake_arm import TEST_TOKEN, RecordedTree, error
from tests.loopback import LoopbackServer, Reply, Request

KEYVAULT_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "azure-keyvault"
#: a public-cloud vault address in a recorded body (``vaultUri``, ids, nextLinks; with or without ``:443``)
VAULT_HOST = re.compile(r"https://([a-z0-9-]+)\.vault\.azure\.net(?::443)?")
#: how Key Vault answers a caller it refuses: (inner code, message's first line)
DENIALS: dict[str, tuple[str, str]] = {
    "firewall": ("ForbiddenByFirewall", "Client address is not authorized and caller is not a trusted service."),
    "rbac": ("ForbiddenByRbac", "Caller is not authorized to perform action on resource."),
    "access_policy": ("AccessDenied", "The user, group or application 'appid=00000000-0000-0000-0000-00000000000c' "
                                      "does not have certificates list permission on key vault 'kv-bad'."),
}


def forbidden(reason: str, vault: str) -> Reply:
    inner, first_line = DENIALS[reason]
    message = f"{first_line}\r\nClient address: 192.0.2.10\r\nVault: {vault};location=westeurope"
    return Reply(403, {"error": {"code": "Forbidden", "message": message, "innererror": {"code": inner}}})


def vault_hosts(text: str, base: str) -> str:
    """Recorded vault addresses pointed at the fake (``https://kv-good.vault.azure.net`` -> ``base/kv-good``)."""
    return VAULT_HOST.sub(lambda m: f"{base}/{m.group(1)}", text)


class FakeKeyVault(LoopbackServer):
    case_insensitive_paths = True  # certificate names are case-insensitive in Key Vault
    headers = {"x-ms-keyvault-service-version": "1.9.0.0", "x-ms-request-id": "00000000-0000-0000-0000-000000000000"}

    def __init__(self, *, tls: Any) -> None:
        super().__init__(tls=tls)
        self.recorded = RecordedTree(KEYVAULT_FIXTURES)

    def vault_url(self, vault: str) -> str:
        return f"{self.url}/{vault}"

    def deny(self, vault: str, reason: str = "firewall") -> AbstractContextManager[None]:
        """Every request to ``vault`` answers Key Vault's 403 for ``reason`` (firewall, rbac, access_policy)
        while the block runs."""
        return self.fault(vault, forbidden(reason, vault), subtree=True)

    def rewrite(self, text: str) -> str:
        return vault_hosts(text, self.url)

    def route(self, req: Request) -> Reply:
        if req.method != "GET":
            return error(405, "MethodNotAllowed", "the fake Key Vault is read-only")
        if req.authorization != f"Bearer {TEST_TOKEN}":
            return Reply(401, {"error": {"code": "Unauthorized",
                                         "message": "AKV10000: Request is missing a Bearer or PoP token."}},
                         {"WWW-Authenticate": 'Bearer authorization="https://login.microsoftonline.com/common", '
                                              'resource="https://vault.azure.net"'})
        if not req.param("api-version"):
            return error(400, "BadParameter", "The request URI contains an invalid parameter: api-version")
        return (self.injected(req) or self.recorded.answer(self, req)
                or error(404, "NotFound", f"no fixture for {req.path}"))
