"""What every collector gets: one subscription, the wanted fact types, its clients, helpers.

A collector is ``fn(ctx: AzureContext) -> None`` registered with ``@collector(...)``: it lists with
subscription-wide calls (``ctx.attempt``), adds facts, and its failures become errors for the fact
types each call feeds (errors are data). A fact type is covered unless one of its calls failed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from posture.collecting import BoundedCache, Failed, Failure, UnitContext
from posture.provider import WorkUnit
from posture_azure.settings import AzureSettings

if TYPE_CHECKING:
    from posture_azure.session import ScanState

PROVIDER = "azure"
T = TypeVar("T")
__all__ = ["AzureContext", "Failed"]


class AzureContext(UnitContext):
    """Collection state of one unit (subscription x collector)."""

    #: per-resource reads (one per vault, server, app) report a fact type's first failure only
    one_error_per_fact_type = True
    #: collectors use ``attempt`` only: what did not fail was read completely
    cover_unfailed = True

    def __init__(self, unit: WorkUnit, classify: Callable[[BaseException], Failure], settings: AzureSettings,
                 state: ScanState) -> None:
        super().__init__(unit, classify)
        self.settings = settings
        self._clients: BoundedCache[Any] = state.clients
        #: the scan's Microsoft Graph answers (:class:`posture_azure.graph.Answers`)
        self.graph_answers = state.graph_answers

    @property
    def subscription(self) -> str:
        return self.unit.scope

    def client(self, factory: Callable[..., Any], per_subscription: bool = True) -> Any:
        from posture_azure import session

        return session.client(self.settings, factory, self.subscription if per_subscription else None,
                              self._clients)

    def data_plane(self, scopes: list[str]) -> Any:
        """The scan's pipeline client for a data plane (Graph, Key Vault) whose tokens are for ``scopes``."""
        from posture_azure import dataplane

        return self._clients.get((self.settings, "data-plane", tuple(scopes)),
                                 lambda: dataplane.pipeline(self.settings, scopes))

    def add(self, fact_type: str, id: str, name: str, region: str | None, attributes: dict[str, Any]) -> None:
        """ARM spells locations in any case (``WestEurope``, ``westeurope``): facts use lower case."""
        super().add(fact_type, id, name, (region or "global").lower(), attributes)

    def settle(self, result: T) -> T:
        """ARM list calls return lazy pagers: read every page inside the attempt."""
        return list(result) if hasattr(result, "by_page") else result  # type: ignore[return-value]


def arm_get(ctx: AzureContext, path: str, api_version: str) -> dict[str, Any]:
    """GET an ARM path through the context's cached ResourceManagementClient: for APIs the installed
    SDKs do not model, with the same pipeline (token, retries, request counting); raises on an error status."""
    from azure.core.rest import HttpRequest
    from azure.mgmt.resource.resources import ResourceManagementClient

    resp = ctx.client(ResourceManagementClient).send_request(
        HttpRequest("GET", f"{path}?api-version={api_version}"))
    resp.raise_for_status()
    body = resp.json()
    return body if isinstance(body, dict) else {}


def arm_list(ctx: AzureContext, path: str, api_version: str) -> list[dict[str, Any]]:
    """Every item of an ARM collection (``value`` pages, following ``nextLink``) as plain JSON, for resource
    types the installed SDKs do not model; same pipeline as :func:`arm_get`."""
    from azure.core.rest import HttpRequest
    from azure.mgmt.resource.resources import ResourceManagementClient

    client = ctx.client(ResourceManagementClient)
    items: list[dict[str, Any]] = []
    url: str | None = f"{path}{'&' if '?' in path else '?'}api-version={api_version}"
    while url:
        resp = client.send_request(HttpRequest("GET", url))
        resp.raise_for_status()
        body = resp.json() if resp.content else {}
        items.extend(v for v in (body.get("value") or []) if isinstance(v, dict))
        url = body.get("nextLink")
    return items


def add_each_listed(ctx: AzureContext, fact_type: str, path: str, api_version: str,
                    attributes: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    """One ``fact_type`` fact per resource of an ARM collection; a failed list is that fact type's error
    (recorded by ``attempt``), so the collector's other fact types are still collected."""
    found = ctx.attempt([fact_type], lambda: arm_list(ctx, path, api_version))
    if not isinstance(found, Failed):
        for item in found:
            ctx.add(fact_type, str(item["id"]), str(item.get("name")), item.get("location"), attributes(item))


def g(obj: Any, path: str, default: Any = None) -> Any:
    """Attribute path lookup on SDK models (``"encryption.key_source"``), None-safe."""
    cur = obj
    for part in path.split("."):
        if cur is None:
            return default
        cur = cur.get(part) if isinstance(cur, dict) else getattr(cur, part, None)
    return default if cur is None else cur


def resource_group(resource_id: str) -> str:
    parts = resource_id.split("/")
    for i, p in enumerate(parts):
        if p.lower() == "resourcegroups" and i + 1 < len(parts):
            return parts[i + 1]
    return ""


def tls_version(value: Any) -> str | None:
    """``TLS1_2`` / ``1.2`` / ``Tls12`` -> ``1.2``; ``None``/``"None"`` -> None."""
    if value is None:
        return None
    text = str(getattr(value, "value", value))
    digits = [c for c in text if c.isdigit()]
    if len(digits) < 2:
        return None
    return f"{digits[0]}.{digits[1]}"


def enum_str(value: Any) -> Any:
    return getattr(value, "value", value)


def iso(value: Any) -> str | None:
    """SDK timestamps (datetime or epoch seconds) -> ISO-8601 with timezone."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC).isoformat()
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    return str(value)


def tags(obj: Any) -> dict[str, str]:
    return dict(getattr(obj, "tags", None) or {})
