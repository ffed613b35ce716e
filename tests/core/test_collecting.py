"""The collector toolkit (posture.collecting): what every cloud plugin relies on."""

from __future__ import annotations

import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest

from posture.collecting import (
    BoundedCache,
    CloudProvider,
    CollectorRegistry,
    Discovery,
    Failed,
    Failure,
    RequestCounter,
    Target,
    UnitContext,
    count_request,
    counting,
)
from posture.provider import Scope, WorkUnit


class Denied(Exception):
    pass


class Absent(Exception):
    pass


def classify(exc: BaseException) -> Failure:
    if isinstance(exc, Denied):
        return Failure("AccessDenied", f"denied: {exc}")
    if isinstance(exc, Absent):
        return Failure("NotEnabled", "feature not enabled", not_applicable=True)
    return Failure(type(exc).__name__, str(exc))


def unit(*fact_types: str, region: str = "global") -> WorkUnit:
    return WorkUnit("toy", "scope-1", region, "c", tuple(fact_types))


def ctx_for(*fact_types: str, **kwargs: Any) -> UnitContext:
    return UnitContext(unit(*fact_types), classify, **kwargs)


# -- facts, feeding, errors ---------------------------------------------------------------------
def test_a_successful_block_keeps_its_facts_and_records_coverage() -> None:
    ctx = ctx_for("toy.a", "toy.b")
    with ctx.feeding("toy.a"):
        ctx.add("toy.a", "id-1", "one", None, {"x": 1})
    assert [(f.type, f.id, f.region, f.scope, f.provider) for f in ctx.facts] == [
        ("toy.a", "id-1", "global", "scope-1", "toy")]
    assert [c.fact_type for c in ctx.coverage] == ["toy.a"] and ctx.errors == []


def test_a_failing_block_drops_its_facts_and_records_the_clouds_code_per_fact_type() -> None:
    ctx = ctx_for("toy.a", "toy.b")
    with ctx.feeding("toy.a", "toy.b", region="eu-1"):
        ctx.add("toy.a", "id-1", "one", None, {})
        raise Denied("ListThings")
    assert ctx.facts == [] and ctx.coverage == []
    assert [(e.fact_type, e.code, e.message, e.region, e.not_applicable) for e in ctx.errors] == [
        ("toy.a", "AccessDenied", "denied: ListThings", "eu-1", False),
        ("toy.b", "AccessDenied", "denied: ListThings", "eu-1", False)]


def test_an_inner_failure_keeps_the_outer_blocks_facts() -> None:
    ctx = ctx_for("toy.a", "toy.b")
    with ctx.feeding("toy.a"):
        ctx.add("toy.a", "outer", "outer", None, {})
        with ctx.feeding("toy.b"):
            ctx.add("toy.b", "inner", "inner", None, {})
            raise Denied("inner call")
    assert [f.id for f in ctx.facts] == ["outer"]
    assert [(e.fact_type, e.code) for e in ctx.errors] == [("toy.b", "AccessDenied")]


def test_an_outer_failure_drops_facts_an_inner_block_succeeded_with() -> None:
    ctx = ctx_for("toy.a", "toy.b")
    with ctx.feeding("toy.a"):
        with ctx.feeding("toy.b"):
            ctx.add("toy.b", "inner", "inner", None, {})
        raise Denied("later call")
    assert ctx.facts == []


def test_facts_and_errors_of_fact_types_the_unit_was_not_asked_for_are_ignored() -> None:
    ctx = ctx_for("toy.a")
    ctx.add("toy.other", "x", "x", None, {})
    ctx.fail(["toy.other"], Denied("x"))
    assert ctx.facts == [] and ctx.errors == []


def test_a_disabled_feature_is_not_applicable_unless_the_call_is_required_to_assess() -> None:
    ctx = ctx_for("toy.a", "toy.b")
    ctx.fail(["toy.a"], Absent())
    ctx.fail(["toy.b"], Absent(), where="org findings", hint="enable the observer API")
    assert [(e.not_applicable, e.message) for e in ctx.errors] == [
        (True, "feature not enabled"),
        (False, "org findings: feature not enabled (enable the observer API)")]


def test_attempt_returns_failed_with_the_code_and_records_the_error() -> None:
    ctx = ctx_for("toy.a")
    ok = ctx.attempt(["toy.a"], lambda: [1, 2])
    failed = ctx.attempt(["toy.a"], lambda: (_ for _ in ()).throw(Denied("GetThing")), where="thing-1")
    assert ok == [1, 2]
    assert isinstance(failed, Failed) and failed.code == "AccessDenied"
    assert [e.message for e in ctx.errors] == ["thing-1: denied: GetThing"]
    silent = ctx.attempt([], lambda: (_ for _ in ()).throw(Denied("optional")))
    assert isinstance(silent, Failed) and len(ctx.errors) == 1


def test_one_error_per_fact_type_and_cover_unfailed_when_a_plugin_asks_for_them() -> None:
    class Settled(UnitContext):
        one_error_per_fact_type = True
        cover_unfailed = True

    ctx = Settled(unit("toy.a", "toy.b"), classify)
    for name in ("r1", "r2"):
        ctx.attempt(["toy.a"], lambda: (_ for _ in ()).throw(Denied("get")), where=name)
    outcome = ctx.outcome(3)
    assert [e.message for e in outcome.errors] == ["r1: denied: get"]
    assert [c.fact_type for c in outcome.coverage] == ["toy.b"] and outcome.requests == 3


def test_parallel_keeps_each_error_with_its_item_and_fan_out_raises_the_first() -> None:
    ctx = ctx_for("toy.a")

    def fn(n: int) -> int:
        if n % 2:
            raise Denied(str(n))
        return n * 10

    results = ctx.parallel(fn, [0, 1, 2, 3])
    assert [(i, r, type(e).__name__ if e else None) for i, r, e in results] == [
        (0, 0, None), (1, None, "Denied"), (2, 20, None), (3, None, "Denied")]
    assert ctx.fan_out(lambda n: n + 1, [1, 2, 3]) == [(1, 2), (2, 3), (3, 4)]
    with pytest.raises(Denied, match="1"):
        ctx.fan_out(fn, [0, 1, 3])


def test_worker_threads_count_for_the_unit_and_feed_the_enclosing_block() -> None:
    ctx = ctx_for("toy.a")
    counter = RequestCounter()
    threads: set[int] = set()

    def read(n: int) -> None:
        threads.add(threading.get_ident())
        count_request()
        ctx.add("toy.a", f"id-{n}", str(n), None, {})

    with counting(counter), ctx.feeding("toy.a"):
        ctx.fan_out(read, range(6))
        raise Denied("after the fan-out")
    assert counter.value == 6 and ctx.facts == []
    assert len(threads) > 1 or threading.get_ident() not in threads


def test_counting_restores_the_outer_counter_and_counts_nothing_outside() -> None:
    outer, inner = RequestCounter(), RequestCounter()
    count_request()  # outside any count: no error
    with counting(outer):
        count_request()
        with counting(inner):
            count_request(2)
        count_request()
    assert (outer.value, inner.value) == (2, 2)


def test_bounded_cache_evicts_the_least_recently_used() -> None:
    cache: BoundedCache[str] = BoundedCache(2)
    made: list[str] = []

    def make(key: str) -> str:
        made.append(key)
        return key.upper()

    for key in ("a", "b", "a", "c", "a", "b"):
        assert cache.get(key, lambda key=key: make(key)) == key.upper()
    assert made == ["a", "b", "c", "b"] and len(cache) == 2 and "b" in cache and "c" not in cache
    with pytest.raises(ValueError):
        BoundedCache(0)


# -- the registry ----------------------------------------------------------------------------------
@pytest.fixture
def toy_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A plugin's collectors package on disk: an __init__ with the registry, two collector modules."""
    pkg = tmp_path / "toycloud_collectors"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(textwrap.dedent("""
        from posture.collecting import CollectorRegistry
        registry = CollectorRegistry(__name__)
        collector = registry.collector
    """))
    (pkg / "things.py").write_text(textwrap.dedent("""
        from toycloud_collectors import collector

        @collector("things", level="account", facts={"toy.thing": "A thing"})
        def collect(ctx):
            with ctx.feeding("toy.thing"):
                ctx.add("toy.thing", "t-1", "thing one", None, {"ok": True})
    """))
    (pkg / "regional.py").write_text(textwrap.dedent("""
        from posture.collecting import count_request
        from toycloud_collectors import collector

        @collector("widgets", level="region", facts={"toy.widget": "A widget", "toy.gadget": "A gadget"})
        def collect(ctx):
            count_request(2)
            with ctx.feeding("toy.widget"):
                ctx.add("toy.widget", f"w-{ctx.unit.region}", "w", None, {})
            raise RuntimeError("collector bug after the widgets")
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "toycloud_collectors"
    for name in [m for m in sys.modules if m.startswith("toycloud_collectors")]:
        del sys.modules[name]


def test_collectors_register_themselves_from_their_own_modules(toy_package: str) -> None:
    import importlib

    registry = importlib.import_module(toy_package).registry
    assert list(registry.specs()) == ["things", "widgets"]
    assert registry.fact_types() == {"toy.thing": "A thing", "toy.widget": "A widget", "toy.gadget": "A gadget"}
    assert registry.spec("widgets").level == "region"
    with pytest.raises(KeyError, match="known: things, widgets"):
        registry.spec("nope")


def test_a_fact_type_with_two_collectors_or_a_reused_name_is_refused() -> None:
    registry = CollectorRegistry("posture")

    @registry.collector("one", level="account", facts={"toy.a": "A"})
    def one(ctx: Any) -> None: ...

    with pytest.raises(ValueError, match="fact type 'toy.a' has two collectors: 'one' and 'two'"):
        registry.collector("two", level="account", facts={"toy.a": "A"})(lambda ctx: None)
    with pytest.raises(ValueError, match="registered twice"):
        registry.collector("one", level="account", facts={"toy.b": "B"})(lambda ctx: None)


# -- the base provider -----------------------------------------------------------------------------
@pytest.fixture
def toy_provider(toy_package: str) -> CloudProvider:
    import importlib

    class ToyProvider(CloudProvider):
        name = "toy"
        title = "Toy cloud"
        collectors = importlib.import_module(toy_package).registry
        scope_level = "account"

        def discover(self, fact_types: set[str], options: dict[str, Any], scan: str) -> Discovery:
            count_request()  # e.g. listing accounts
            a, b = Scope("toy", "acct-a", kind="account"), Scope("toy", "acct-b", kind="account")
            return Discovery([a, b], [Target(a, ("r1", "r2"), (("endpoint", "http://127.0.0.1:9"),))])

        def context(self, unit: WorkUnit) -> UnitContext:
            return UnitContext(unit, self.classify)

        def classify(self, exc: BaseException) -> Failure:
            return classify(exc)

    return ToyProvider()


def test_plan_builds_scope_and_region_units_for_the_wanted_fact_types_only(toy_provider: CloudProvider) -> None:
    assert set(toy_provider.fact_types) == {"toy.thing", "toy.widget", "toy.gadget"}
    plan = toy_provider.plan({"toy.thing", "toy.widget"}, {})
    assert [s.id for s in plan.scopes] == ["acct-a", "acct-b"] and plan.requests == 1
    assert [(u.scope, u.region, u.collector, u.fact_types) for u in plan.units] == [
        ("acct-a", "global", "things", ("toy.thing",)),
        ("acct-a", "r1", "widgets", ("toy.widget",)),
        ("acct-a", "r2", "widgets", ("toy.widget",))]
    scan = plan.units[0].option("scan")
    assert scan and all(u.option("scan") == scan and u.option("endpoint") for u in plan.units)
    assert toy_provider.plan({"toy.nothing"}, {}).units == []


def test_collect_counts_requests_and_a_collector_bug_errors_only_what_it_left(toy_provider: CloudProvider) -> None:
    plan = toy_provider.plan({"toy.thing", "toy.widget", "toy.gadget"}, {})
    things = toy_provider.collect(plan.units[0])
    assert [f.id for f in things.facts] == ["t-1"] and things.errors == [] and things.requests == 0
    widgets = toy_provider.collect(plan.units[1])
    assert widgets.requests == 2 and [f.id for f in widgets.facts] == ["w-r1"]
    assert [c.fact_type for c in widgets.coverage] == ["toy.widget"]
    assert [(e.fact_type, e.code) for e in widgets.errors] == [("toy.gadget", "RuntimeError")]


def test_a_collector_with_an_unknown_level_is_a_clear_error(toy_provider: CloudProvider) -> None:
    toy_provider.collectors.collector("odd", level="galaxy", facts={"toy.odd": "odd"})(lambda ctx: None)
    with pytest.raises(ValueError, match="collector 'odd' has level 'galaxy'; use 'account' or 'region'"):
        toy_provider.plan({"toy.odd"}, {})


def test_per_scan_state_is_made_once_per_scan_and_bounded(toy_provider: CloudProvider) -> None:
    made = [toy_provider.scan_state(f"scan-{i}", object) for i in range(10)]
    assert toy_provider.scan_state("scan-9", object) is made[9]
    assert toy_provider.scan_state("scan-0", object) is not made[0]  # evicted after 8 newer scans
