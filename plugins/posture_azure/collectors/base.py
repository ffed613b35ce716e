"""What every collector gets: one subscription, the wanted fact types, helpers.

A collector is ``fn(ctx: Context) -> None``: it lists with subscription-wide
calls, adds facts, and reports failures per fact type (errors are data).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, TypeVar

from posture.facts import CollectionError, Coverage, Fact
from posture_azure import session
from posture_azure.errors import NOT_APPLICABLE_CODES, error_code
from posture_azure.settings import AzureSettings

PROVIDER = "azure"
T = TypeVar("T")
R = TypeVar("R")
#: bound on concurrent per-resource calls inside one unit
FAN_OUT = 8


class Failed:
    """Marks a call that raised; the error is already recorded."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


class Context:
    """Collection state of one unit (subscription x collector)."""

    def __init__(self, settings: AzureSettings, subscription: str, fact_types: Iterable[str]) -> None:
        self.settings = settings
        self.subscription = subscription
        self.fact_types = frozenset(fact_types)
        self.facts: list[Fact] = []
        self.errors: list[CollectionError] = []
        self._failed: set[str] = set()

    def wants(self, *fact_types: str) -> bool:
        return any(ft in self.fact_types for ft in fact_types)

    def client(self, factory: Callable[..., Any], per_subscription: bool = True) -> Any:
        return session.client(self.settings, factory, self.subscription if per_subscription else None)

    def add(self, fact_type: str, resource_id: str, name: str, region: str | None, attributes: dict[str, Any]
            ) -> None:
        if fact_type in self.fact_types:
            self.facts.append(Fact(PROVIDER, self.subscription, (region or "global").lower(), fact_type,
                                   resource_id, name, attributes))

    def fail(self, fact_types: Iterable[str], exc: BaseException, where: str = "") -> None:
        code, message = error_code(exc)
        if where:
            message = f"{where}: {message}"
        for ft in fact_types:
            if ft in self.fact_types and ft not in self._failed:
                self._failed.add(ft)
                self.errors.append(CollectionError(PROVIDER, self.subscription, "global", ft, code, message,
                                                   not_applicable=code in NOT_APPLICABLE_CODES))

    def call(self, fact_types: Iterable[str], fn: Callable[[], T], where: str = "") -> T | Failed:
        """Run one SDK call (materialising pages); a cloud error becomes data."""
        fact_types = tuple(fact_types)
        try:
            result = fn()
            return list(result) if hasattr(result, "by_page") else result
        except Exception as exc:  # noqa: BLE001 - every SDK/transport error is reported, never raised
            self.fail(fact_types, exc, where)
            return Failed(exc)

    def fan_out(self, fn: Callable[[T], R], items: Iterable[T]) -> list[tuple[T, R]]:
        """Per-resource calls that cannot be avoided, concurrently and bounded."""
        items = list(items)
        if not items:
            return []
        with ThreadPoolExecutor(max_workers=min(FAN_OUT, len(items))) as pool:
            futures = [pool.submit(contextvars.copy_context().run, fn, item) for item in items]
            return [(item, fut.result()) for item, fut in zip(items, futures, strict=True)]

    def coverage(self) -> list[Coverage]:
        return [Coverage(PROVIDER, self.subscription, "global", ft)
                for ft in sorted(self.fact_types - self._failed)]


def arm_get(ctx: Context, path: str, api_version: str) -> dict[str, Any]:
    """GET an ARM path through the context's cached ResourceManagementClient: for APIs the installed
    SDKs do not model, with the same pipeline (token, retries, request counting); raises on an error status."""
    from azure.core.rest import HttpRequest
    from azure.mgmt.resource.resources import ResourceManagementClient

    resp = ctx.client(ResourceManagementClient).send_request(
        HttpRequest("GET", f"{path}?api-version={api_version}"))
    resp.raise_for_status()
    body = resp.json()
    return body if isinstance(body, dict) else {}


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
