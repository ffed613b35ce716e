"""End to end: `Pipeline.run` over the Azure plugin as registered by its entry point, then the outputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from posture.outputs import json_output, sarif
from posture.report import Report
from tests.azure.fake_arm import SUB_DENIED, SUB_MAIN, SUB_PARTIAL
from tests.helpers import assert_valid_report, assert_valid_sarif, github_sarif_problems


@pytest.fixture(scope="module")
def report(fake_arm_server: Any, fake_graph_server: Any, fake_keyvault_server: Any, arm_tls: Any) -> Report:
    from posture import plugins
    from posture.cli.common import installed_pipeline

    plugins.reset()
    fake_graph_server.reset()
    options = {"azure_arm_endpoint": fake_arm_server.url, "azure_ca_bundle": arm_tls.ca,
               "azure_graph_endpoint": fake_graph_server.endpoint("tenant-good"),
               "azure_credential": "tests.azure.fake_arm:StaticCredential", "azure_retry_backoff": 0.01,
               "subscription": (SUB_MAIN, SUB_PARTIAL, SUB_DENIED)}
    fake_arm_server.reset()
    fake_keyvault_server.reset()
    try:
        return installed_pipeline().run(tier="tier-3", providers=["azure"], options=options, concurrency=8)
    finally:
        plugins.reset()


def by(report: Report, check_id: str, **match: str) -> list[str]:
    return sorted(r.status for r in report.results if r.check_id == check_id
                  and all(getattr(r, k) == v for k, v in match.items()))


def test_tier3_scan_evaluates_azure_checks_per_resource(report: Report) -> None:
    assert by(report, "azure.storage.account.https_only", scope=SUB_MAIN) == ["fail", "pass"]
    assert by(report, "azure.network.nsg.admin_ports_closed", scope=SUB_PARTIAL) == ["fail"]
    assert by(report, "azure.resources.critical_resource.delete_lock", scope=SUB_MAIN) == ["fail", "fail", "pass", "pass"]


def test_denied_resource_type_and_subscription_become_error_results(report: Report) -> None:
    errors = {(r.scope, r.check_id): r.error_code for r in report.results if r.status == "error"}
    assert errors[(SUB_PARTIAL, "azure.storage.account.https_only")] == "AuthorizationFailed"
    assert errors[(SUB_DENIED, "azure.keyvault.vault.purge_protection")] == "AuthorizationFailed"
    assert not any(scope == SUB_MAIN for scope, _ in errors)
    assert report.summary["complete"] is False


def test_scan_counts_the_requests_it_made(report: Report, fake_arm_server: Any, fake_graph_server: Any,
                                          fake_keyvault_server: Any) -> None:
    assert report.requests == (len(fake_arm_server.requests) + len(fake_graph_server.requests)
                               + len(fake_keyvault_server.requests))
    assert len(fake_arm_server.requests) > 40 and len(fake_graph_server.requests) >= 5
    assert len(fake_keyvault_server.requests) == 6  # two vaults: three list pages, three certificate policies


def test_json_report_is_valid_against_the_report_schema(report: Report) -> None:
    assert_valid_report(json.loads(json.dumps(json_output.render(report))))


def test_sarif_is_valid_for_the_official_schema_and_github(report: Report, tmp_path: Path) -> None:
    log = sarif.render(report)
    assert_valid_sarif(log)
    path = tmp_path / "azure.sarif"
    path.write_text(json.dumps(log), encoding="utf-8")
    assert github_sarif_problems(path) is None
    uris = {loc["physicalLocation"]["artifactLocation"]["uri"] for run in log["runs"] for res in run["results"]
            for loc in res["locations"]}
    assert any(u.startswith(f"azure/{SUB_MAIN}/") for u in uris)


def test_controls_the_catalogue_marks_not_applicable_on_azure_do_not_block_attainment(report: Report) -> None:
    """IAM-03 (root access keys) has no Azure counterpart: n/a with the reason, never a coverage gap."""
    for att in report.attainment:
        [iam03] = [c for c in att.controls if c.control == "IAM-03"]
        assert iam03.status == "not_applicable"
        assert "no root user" in iam03.justification
    assert "IAM-03" not in report.coverage["not_implemented"]["azure"]


def test_every_http_attempt_of_a_gated_azure_unit_takes_and_gives_back_a_subscription_service_slot(
        azure_options: dict[str, Any], arm: Any) -> None:
    from posture_azure.provider import AzureProvider

    from posture.collecting.throttling import gated
    from tests.core.test_throttle import Recording

    provider = AzureProvider()
    plan = provider.plan({"azure.storage.account"}, {**azure_options, "subscription": (SUB_MAIN,)})
    arm.reset()
    gate = Recording()
    requests = 0
    for unit in plan.units:
        with gated(gate, "azure", unit.scope):
            requests += provider.collect(unit).requests
    acquired = [key for what, key in gate.log if what == "acquire"]
    assert len(acquired) == requests == len(arm.requests) > 0
    assert gate.held == []
    assert {key.rsplit(":", 1)[0] for key in acquired} == {f"azure:{SUB_MAIN}:global"}
    assert f"azure:{SUB_MAIN}:global:Microsoft.Storage" in acquired
