"""Collection economy of the CIS fact types: Cloud Asset Inventory first, shared reads, values never kept."""

from __future__ import annotations

from typing import Any

from posture_gcp.provider import GcpProvider

from tests.gcp.fake_gcp import FakeGcp


def _run(fake: FakeGcp, project: str, fact_types: set[str]) -> list[Any]:
    provider = GcpProvider()
    options = {"gcp_api_endpoint": fake.url, "gcp_max_retries": 2, "project": [project]}
    return [provider.collect(u) for u in provider.plan(fact_types, options).units]


def test_inventory_answers_table_keys_and_cluster_regions_in_one_search_each(fake_gcp: FakeGcp) -> None:
    fake_gcp.reset()
    outcomes = _run(fake_gcp, "good-project", {"gcp.bigquery.table", "gcp.dataproc.cluster"})
    paths = [c.path for c in fake_gcp.requests_to()]
    assert paths.count("/v1/projects/good-project:searchAllResources") == 3  # tables: two pages; clusters: one
    assert not [p for p in paths if p.endswith("/tables") or p.endswith("/regions")]
    # only the tables the inventory shows without a key are read, to confirm it and skip views
    assert sorted(p for p in paths if "/tables/" in p) == [
        "/bigquery/v2/projects/good-project/datasets/analytics/tables/daily_view",
        "/bigquery/v2/projects/good-project/datasets/analytics/tables/scratch"]
    assert [p for p in paths if "/clusters" in p] == ["/v1/projects/good-project/regions/europe-west1/clusters"]
    facts = {f.name: f.attributes for o in outcomes for f in o.facts}
    assert facts["analytics.events"]["source"] == "cloudasset" and facts["etl"]["regions_from"] == "cloudasset"
    assert sum(o.requests for o in outcomes) == len(paths)


def test_without_the_inventory_tables_are_read_one_by_one_and_every_region_is_listed(fake_gcp: FakeGcp) -> None:
    fake_gcp.reset()
    outcomes = _run(fake_gcp, "bad-project", {"gcp.bigquery.table", "gcp.dataproc.cluster"})
    paths = {c.path for c in fake_gcp.requests_to()}
    assert {"/bigquery/v2/projects/bad-project/datasets/exports/tables/orders",
            "/compute/v1/projects/bad-project/regions",
            "/v1/projects/bad-project/regions/europe-west1/clusters"} <= paths
    assert not [e for o in outcomes for e in o.errors]  # the disabled inventory is a fallback, not an error
    names = {f.name for o in outcomes for f in o.facts}
    assert {"exports.orders", "exports.orders_view", "spark-dev", "spark-prod"} <= names


def test_project_metadata_is_read_once_for_instances_and_the_project_fact(fake_gcp: FakeGcp) -> None:
    provider = GcpProvider()
    options = {"gcp_api_endpoint": fake_gcp.url, "gcp_max_retries": 2, "project": ["good-project"]}
    fake_gcp.reset()
    for unit in provider.plan({"gcp.compute.instance", "gcp.compute.project"}, options).units:
        provider.collect(unit)
    assert [c.path for c in fake_gcp.requests_to()].count("/compute/v1/projects/good-project") == 1


def test_project_wide_settings_are_judged_without_any_instance(fake_gcp: FakeGcp) -> None:
    [outcome] = _run(fake_gcp, "denied-project", {"gcp.compute.project"})
    assert [f.type for f in outcome.facts] == ["gcp.compute.project"] and not outcome.errors


def test_organization_contacts_are_read_once_per_organization(fake_gcp: FakeGcp) -> None:
    from posture.collect import collect

    fake_gcp.reset()
    provider = GcpProvider()
    facts = collect([provider], {"gcp.essentialcontacts.organization"},
                    {"gcp_api_endpoint": fake_gcp.url, "project": ["good-project", "bad-project"]}, concurrency=4)
    assert len(fake_gcp.requests_to("/v1/organizations/100/contacts")) == 2  # two pages, once for both projects
    assert {f.scope: f.attributes["missing_categories"] for f in facts.facts} == {"good-project": [],
                                                                                  "bad-project": []}


def test_a_throttled_inventory_search_is_retried(fake_gcp: FakeGcp) -> None:
    fake_gcp.reset()
    with fake_gcp.throttle("GET", "/v1/projects/good-project:searchAllResources", times=1):
        outcomes = _run(fake_gcp, "good-project", {"gcp.dataproc.cluster"})
    assert [f.attributes["regions_from"] for o in outcomes for f in o.facts] == ["cloudasset"]
    assert [c.status for c in fake_gcp.requests_to(":searchAllResources")] == [429, 200]


def test_change_filters_are_recognised_whatever_their_spacing_quoting_and_extra_clauses() -> None:
    from posture_gcp.collectors.monitoring import changes_selected

    assert changes_selected("resource.type = 'gce_route' AND (protoPayload.methodName : 'compute.routes.insert'\n"
                            "  OR protoPayload.methodName:'compute.routes.delete') AND severity>=NOTICE") == ["route"]
    assert changes_selected('protoPayload.methodName="cloudsql.instances.update"') == ["sql_config"]
    # a network filter that misses peering changes does not count; an empty filter selects nothing
    assert changes_selected('resource.type="gce_network" AND (protoPayload.methodName:"compute.networks.insert" '
                            'OR protoPayload.methodName:"compute.networks.patch" '
                            'OR protoPayload.methodName:"compute.networks.delete")') == []
    assert changes_selected("") == []


def test_an_alert_counts_only_when_enabled_and_notifying() -> None:
    from posture_gcp.collectors.monitoring import alert_attributes

    metric = {"name": "sql", "filter": 'protoPayload.methodName="cloudsql.instances.update"'}
    condition = {"conditionThreshold": {"filter": 'metric.type="logging.googleapis.com/user/sql"'}}
    notifying = {"displayName": "p", "conditions": [condition], "notificationChannels": ["c"]}
    assert alert_attributes([metric], [notifying])["alerted"]["sql_config"] is True
    assert alert_attributes([metric], [{**notifying, "enabled": False}])["alerted"]["sql_config"] is False
    assert alert_attributes([metric], [{**notifying, "notificationChannels": []}])["alerted"]["sql_config"] is False
    assert alert_attributes([{**metric, "disabled": True}], [notifying])["alerted"]["sql_config"] is False
