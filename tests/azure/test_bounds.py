"""Many subscriptions in bounded memory: a scan's SDK clients never outnumber its client cache."""

from __future__ import annotations

import gc
import weakref
from typing import Any

import pytest
from posture_azure import session
from posture_azure.provider import AzureProvider

from posture.collect import collect
from posture.collecting import BoundedCache
from tests.azure.fake_arm import SUB_FILES, SUB_MAIN, SUB_PARTIAL

SUBSCRIPTIONS = [SUB_MAIN, SUB_PARTIAL, SUB_FILES]


def _scan(options: dict[str, Any]) -> tuple[Any, AzureProvider]:
    provider = AzureProvider()
    facts = collect([provider], set(provider.fact_types), {**options, "subscription": SUBSCRIPTIONS}, concurrency=4)
    return facts, provider


def _content(facts: Any) -> tuple[list[Any], list[Any]]:
    return ([(f.scope, f.type, f.id, f.attributes) for f in facts.facts],
            [(e.scope, e.fact_type, e.code) for e in facts.errors])


def test_clients_beyond_the_cache_are_released_and_the_scan_finds_the_same(
        azure_options: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    _scan(azure_options)  # answers kept per process (runtime versions) are asked once, here
    unbounded, _ = _scan(azure_options)
    limit = 3
    monkeypatch.setattr(session, "CLIENTS_PER_SCAN", limit)
    made: list[weakref.ref[Any]] = []
    largest = [0]
    get = BoundedCache.get

    def watched(cache: BoundedCache[Any], key: Any, make: Any) -> Any:
        if cache.limit != limit:  # not a scan's client cache
            return get(cache, key, make)

        def recording() -> Any:
            value = make()
            made.append(weakref.ref(value))
            return value

        try:
            return get(cache, key, recording)
        finally:
            largest[0] = max(largest[0], len(cache))

    monkeypatch.setattr(BoundedCache, "get", watched)
    bounded, _ = _scan(azure_options)
    gc.collect()
    alive = sum(1 for ref in made if ref() is not None)
    assert _content(bounded) == _content(unbounded)
    assert bounded.metadata["requests"] == unbounded.metadata["requests"]  # a client is rebuilt without a request
    # more (client class, subscription) pairs were needed than the cache keeps: the oldest were let go
    assert len(made) > limit >= largest[0]
    assert alive <= limit
