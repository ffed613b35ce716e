"""Organization Policy API v2 (discovery client): is a boolean constraint enforced on a project?

Google's way to enforce a control fleet-wide is an organization policy constraint
(``storage.publicAccessPrevention``, ``compute.requireOsLogin``, ``compute.disableSerialPortAccess``),
which the project's own resources do not reflect (a bucket still says ``inherited``). The project's
*effective* policy (``getEffectivePolicy``: the hierarchy merged) answers, read once per project,
constraint and scan (``clients.shared.once``), and only by collectors that have a resource the
constraint can change.

A denied or disabled Org Policy API never makes a fact an error: the constraint is unknown (None) and
its error code is kept, so the resource is judged by its own settings as before.
"""

from __future__ import annotations

from typing import Any

from posture_gcp.collectors import GcpContext
from posture_gcp.errors import classify

PUBLIC_ACCESS_PREVENTION = "storage.publicAccessPrevention"
REQUIRE_OS_LOGIN = "compute.requireOsLogin"
DISABLE_SERIAL_PORT = "compute.disableSerialPortAccess"


def enforced_by(policy: dict[str, Any]) -> bool:
    """A boolean constraint is enforced when a rule says ``enforce: true`` without a (tag) ``condition``.

    A conditional rule enforces it only on resources carrying some tag, which a project-level answer
    cannot tell apart, so it does not count.
    """
    rules = (policy.get("spec") or {}).get("rules") or []
    return any(r.get("enforce") is True and not r.get("condition") for r in rules)


def constraint(ctx: GcpContext, name: str) -> tuple[bool | None, str | None]:
    """(enforced, None), or (None, error code) when the effective policy cannot be read."""
    clients = ctx.clients

    def read() -> tuple[bool | None, str | None]:
        try:
            policy = clients.execute(clients.discovery("orgpolicy", "v2").projects().policies().getEffectivePolicy(
                name=f"projects/{ctx.project}/policies/{name}"))
        except Exception as exc:  # denied, disabled, unknown constraint: judged by the resource itself
            return None, classify(exc).code
        return enforced_by(policy), None

    return clients.shared.once(("orgpolicy", ctx.project, name), read)


def constraints(ctx: GcpContext, names: list[str]) -> tuple[dict[str, bool | None], dict[str, str]]:
    """({constraint: enforced or None}, {constraint: error code}) for ``names``."""
    values: dict[str, bool | None] = {}
    errors: dict[str, str] = {}
    for name in names:
        values[name], code = constraint(ctx, name)
        if code:
            errors[name] = code
    return values, errors
