"""docs/plugins.md's walk-through, end to end: a fourth cloud written with the collector toolkit
plans, collects through its API on 127.0.0.1, and its YAML check produces results."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.plugins import mycloud_api
from tests.plugins.mycloud import plugin
from tests.plugins.mycloud.provider import MyCloudProvider

WORLD = {
    "acct-1": {"name": "Main", "regions": {
        "north": [{"name": "site", "public": True}, {"name": "logs", "public": False},
                  {"name": "backups", "public": False, "encrypted": True}],
        "south": "AccessDenied",
    }},
    "acct-2": {"name": "Sandbox", "regions": {"north": []}},
}


@pytest.fixture
def endpoint() -> Iterator[str]:
    api = mycloud_api.MyCloudApi(WORLD)
    with mycloud_api.serve(api) as url:
        yield url


@pytest.fixture
def mycloud(fresh_plugins, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("POSTURE_PLUGINS", "json")
    fresh_plugins.reset()
    fresh_plugins.register_plugin(plugin, "mycloud")
    return fresh_plugins


def test_the_plugin_declares_its_fact_types_from_its_collector_alone() -> None:
    assert MyCloudProvider.fact_types == {"mycloud.storage.bucket": "A bucket: public access and encryption"}


def test_plan_makes_one_unit_per_account_and_region(endpoint: str) -> None:
    plan = MyCloudProvider().plan({"mycloud.storage.bucket"}, {"mycloud_endpoint": endpoint})
    assert [s.id for s in plan.scopes] == ["acct-1", "acct-2"]
    assert [(u.scope, u.region, u.collector) for u in plan.units] == [
        ("acct-1", "north", "buckets"), ("acct-1", "south", "buckets"), ("acct-2", "north", "buckets")]
    assert plan.requests == 3  # the account list, then each account's regions


def test_collect_pages_through_buckets_and_a_denied_region_is_an_error_for_its_fact_type(endpoint: str) -> None:
    provider = MyCloudProvider()
    plan = provider.plan({"mycloud.storage.bucket"}, {"mycloud_endpoint": endpoint})
    north, south = (provider.collect(u) for u in plan.units[:2])
    assert sorted(f.name for f in north.facts) == ["backups", "logs", "site"]
    assert north.requests == 2 and [c.region for c in north.coverage] == ["north"]
    assert [(e.region, e.fact_type, e.code) for e in south.errors] == [
        ("south", "mycloud.storage.bucket", "AccessDenied")]
    assert south.facts == [] and south.coverage == []


def test_a_scan_evaluates_the_yaml_check_on_the_collected_buckets(mycloud, endpoint: str) -> None:
    from posture.cli.common import installed_pipeline

    report = installed_pipeline().run("tier-1", ["mycloud"], {"mycloud_endpoint": endpoint})
    results = {(r.scope, r.region, r.resource_name): r.status
               for r in report.results if r.check_id == "mycloud.storage.bucket.not_public"}
    assert results[("acct-1", "north", "site")] == "fail"
    assert results[("acct-1", "north", "logs")] == "pass"
    assert results[("acct-1", "north", "backups")] == "pass"
    errors = [r for r in report.results if r.status == "error"]
    assert [(r.scope, r.region, r.error_code) for r in errors] == [("acct-1", "south", "AccessDenied")]
    assert report.requests == 3 + 2 + 1 + 1  # plan, acct-1 north (2 pages), south (denied), acct-2 north
