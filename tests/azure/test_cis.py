"""Checks added for CIS Microsoft Azure Foundations 6.0 that need more than the shared fixture collection:
Entra ID through Microsoft Graph (three fixture tenants, paging, throttling, denial) and a subscription
without any activity log diagnostic setting."""

from __future__ import annotations

from typing import Any

import pytest
from posture_azure.provider import AzureProvider
from posture_azure.settings import resolve

from posture.facts import Fact
from tests.azure.fake_arm import SUB_MAIN, FakeArm, StaticCredential
from tests.azure.fake_graph import FakeGraph

FACT_TYPES = AzureProvider.fact_types
P, F = "pass", "fail"
SUB_EMPTY = "66666666-6666-6666-6666-666666666666"
#: tenant -> verdict of every azure.entra.tenant check
TENANT_VERDICTS = {
    "azure.entra.tenant.security_defaults": {"tenant-good": P, "tenant-defaults": P, "tenant-bad": F},
    "azure.entra.tenant.mfa_all_users": {"tenant-good": P, "tenant-defaults": P, "tenant-bad": F},
    "azure.entra.tenant.guest_access_restricted": {"tenant-good": P, "tenant-defaults": P, "tenant-bad": F},
    "azure.entra.tenant.guest_invites_restricted": {"tenant-good": P, "tenant-defaults": P, "tenant-bad": F},
    "azure.entra.tenant.users_cannot_register_apps": {"tenant-good": P, "tenant-defaults": P, "tenant-bad": F},
}
SEPARATELY_TESTED: dict[str, dict[str, str]] = {
    **TENANT_VERDICTS,
    "azure.monitor.activity_log.diagnostic_setting": {SUB_MAIN: P, SUB_EMPTY: F},
}
#: fact types fed by Microsoft Graph: the only ones a Graph denial may turn into errors
GRAPH_FACT_TYPES = {"azure.entra.tenant", "azure.entra.application", "azure.authorization.privileged_user_assignment"}


def collect(options: dict[str, Any], fact_types: set[str], **extra: Any) -> tuple[list[Fact], list[Any]]:
    provider = AzureProvider()
    facts, errors = [], []
    for unit in provider.plan(fact_types, {**options, **extra}).units:
        outcome = provider.collect(unit)
        facts += outcome.facts
        errors += outcome.errors
    return facts, errors


def check(check_id: str) -> Any:
    from posture.plugins import registry

    return registry().checks[check_id]


@pytest.mark.parametrize("tenant", ["tenant-good", "tenant-defaults", "tenant-bad"])
def test_entra_tenant_checks_judge_each_fixture_tenant(tenant: str, azure_options: dict[str, Any],
                                                       graph: FakeGraph) -> None:
    facts, errors = collect(azure_options, {"azure.entra.tenant"}, subscription=(SUB_MAIN,),
                            azure_graph_endpoint=graph.endpoint(tenant))
    assert not errors
    [tenant_fact] = facts
    for check_id, verdicts in TENANT_VERDICTS.items():
        assert check(check_id).evaluate(tenant_fact, {}).status == verdicts[tenant], check_id


def test_graph_pages_follow_next_link_and_a_429_is_retried_after_its_delay(azure_options: dict[str, Any],
                                                                          graph: FakeGraph) -> None:
    facts, errors = collect(azure_options, {"azure.entra.tenant", "azure.entra.application"},
                            subscription=(SUB_MAIN,))
    assert not errors
    tenant = next(f for f in facts if f.type == "azure.entra.tenant")
    # the MFA policy is on the second page of Conditional Access policies, behind a 429
    assert tenant.attributes["conditional_access_mfa_all_users"] == ["Require MFA for all users"]
    ca_requests = graph.requests_to("/identity/conditionalAccess/policies")
    assert [r.param("$skiptoken") for r in ca_requests] == [None, None, "p2"]
    assert {f.name for f in facts if f.type == "azure.entra.application"} == {"deploy-pipeline", "legacy-integration"}


def test_security_defaults_on_means_conditional_access_is_not_read(azure_options: dict[str, Any],
                                                                   graph: FakeGraph) -> None:
    collect(azure_options, {"azure.entra.tenant"}, subscription=(SUB_MAIN,),
            azure_graph_endpoint=graph.endpoint("tenant-defaults"))
    assert not graph.requests_to("conditionalAccess")


def test_graph_is_read_once_per_tenant_for_several_subscriptions(azure_options: dict[str, Any],
                                                                 graph: FakeGraph) -> None:
    from tests.azure.fake_arm import SUB_PARTIAL

    facts, _ = collect(azure_options, {"azure.entra.tenant"}, subscription=(SUB_MAIN, SUB_PARTIAL))
    assert len(facts) == 2
    assert len(graph.requests_to("/policies/authorizationPolicy")) == 1


def test_graph_answers_are_kept_per_scan_not_per_process(azure_options: dict[str, Any], graph: FakeGraph) -> None:
    """A second scan reads the tenant afresh: a scan reflects Entra ID as it was when it ran."""
    collect(azure_options, {"azure.entra.tenant"}, subscription=(SUB_MAIN,))
    collect(azure_options, {"azure.entra.tenant"}, subscription=(SUB_MAIN,))
    assert len(graph.requests_to("/policies/authorizationPolicy")) == 2


def test_graph_token_is_asked_for_the_graph_audience(azure_options: dict[str, Any], graph: FakeGraph) -> None:
    StaticCredential.scopes_requested.clear()
    collect(azure_options, {"azure.entra.tenant"}, subscription=(SUB_MAIN,))
    assert (graph.endpoint("tenant-good") + "/.default",) in StaticCredential.scopes_requested


def test_application_facts_keep_no_secret_hint(azure_options: dict[str, Any], graph: FakeGraph) -> None:
    facts, _ = collect(azure_options, {"azure.entra.application"}, subscription=(SUB_MAIN,))
    legacy = next(f for f in facts if f.name == "legacy-integration")
    assert legacy.attributes["client_secrets"] == 1
    assert "Abc" not in repr(legacy.attributes) and "hint" not in repr(legacy.attributes)


def test_graph_denied_makes_exactly_the_graph_fed_fact_types_errors_naming_the_permission(
        azure_options: dict[str, Any], graph: FakeGraph) -> None:
    with graph.deny("tenant-good"):
        facts, errors = collect(azure_options, set(FACT_TYPES), subscription=(SUB_MAIN,))
    assert {e.fact_type for e in errors} == GRAPH_FACT_TYPES
    by_type = {e.fact_type: e for e in errors}
    assert by_type["azure.entra.tenant"].code == "Authorization_RequestDenied"
    assert "Policy.Read.All" in by_type["azure.entra.tenant"].message
    assert "User.Read.All" in by_type["azure.authorization.privileged_user_assignment"].message
    assert "Application.Read.All" in by_type["azure.entra.application"].message
    # every ARM-fed fact type is still collected, including the role assignments the guest join reads
    assert any(f.type == "azure.authorization.role_assignment" for f in facts)
    assert not any(f.type in GRAPH_FACT_TYPES for f in facts)


def test_scan_with_graph_denied_errors_only_graph_fed_checks(azure_options: dict[str, Any],
                                                             graph: FakeGraph) -> None:
    from posture import plugins
    from posture.cli.common import installed_pipeline

    plugins.reset()
    try:
        with graph.deny("tenant-good"):
            report = installed_pipeline().run(tier="tier-3", providers=["azure"], options={**azure_options, "subscription": (SUB_MAIN,)},
                              concurrency=4)
    finally:
        plugins.reset()
    registry_checks = plugins.registry().checks
    errored = {r.check_id for r in report.results if r.status == "error"}
    assert errored
    assert {registry_checks[c].fact_type for c in errored} <= GRAPH_FACT_TYPES


def test_a_subscription_without_diagnostic_settings_fails_the_setting_check(azure_options: dict[str, Any],
                                                                          arm: FakeArm) -> None:
    facts, errors = collect(azure_options, {"azure.monitor.activity_log"}, subscription=(SUB_MAIN, SUB_EMPTY))
    assert not errors
    got = {f.scope: check("azure.monitor.activity_log.diagnostic_setting").evaluate(f, {}).status for f in facts}
    assert got == SEPARATELY_TESTED["azure.monitor.activity_log.diagnostic_setting"]


@pytest.mark.parametrize(("cloud", "endpoint"), [("public", "https://graph.microsoft.com"),
                                                 ("usgov", "https://graph.microsoft.us"),
                                                 ("china", "https://microsoftgraph.chinacloudapi.cn")])
def test_each_cloud_reads_its_own_graph_endpoint_and_audience(cloud: str, endpoint: str) -> None:
    settings = resolve({"azure_cloud": cloud})
    assert settings.graph_endpoint == endpoint
    assert settings.graph_scopes == [f"{endpoint}/.default"]


def test_graph_endpoint_comes_from_the_environment_and_must_be_https(monkeypatch: pytest.MonkeyPatch) -> None:
    from posture.provider import ProviderError

    monkeypatch.setenv("POSTURE_AZURE_GRAPH_ENDPOINT", "https://graph.contoso.example/")
    assert resolve({}).graph_endpoint == "https://graph.contoso.example"
    with pytest.raises(ProviderError, match="https://"):
        resolve({"azure_graph_endpoint": "http://graph.contoso.example"})



# --------------------------------------------------------------- CIS Azure Foundations 6.0 framework
FRAMEWORK = "cis-azure-foundations-6.0"


def test_framework_coverage_counts_every_automated_recommendation() -> None:
    import json

    from click.testing import CliRunner

    from posture.cli import cli

    r = CliRunner().invoke(cli, ["frameworks", "coverage", FRAMEWORK, "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert (data["recommendations"], data["automated"], data["manual"]) == (127, 89, 38)
    assert data["automated_covered"] == data["automated"] == 89
    assert data["gaps"] == []


def test_scan_of_the_fake_with_the_framework_writes_its_section_in_every_output(
        azure_options: dict[str, Any], tmp_path: Any) -> None:
    import json

    from click.testing import CliRunner

    from posture.cli import cli

    out = tmp_path / "out"
    r = CliRunner().invoke(cli, [
        "scan", "-p", "azure", "--tier", "tier-1", "--framework", FRAMEWORK, "--format", "json,sarif,console,html",
        "-o", str(out), "--no-store", "--subscription", SUB_MAIN,
        "--azure-arm-endpoint", azure_options["azure_arm_endpoint"],
        "--azure-graph-endpoint", azure_options["azure_graph_endpoint"],
        "--azure-ca-bundle", azure_options["azure_ca_bundle"],
        "--azure-credential", azure_options["azure_credential"]])
    assert r.exit_code in (0, 1), r.output
    report = json.loads((out / "posture-report.json").read_text())
    [section] = [f for f in report["frameworks"] if f["id"] == FRAMEWORK]
    recs = {rec["id"]: rec for rec in section["recommendations"]}
    assert recs["5.1.2"]["status"] == "manual"
    assert recs["7.1"]["status"] == "fail"             # nsg-any and nsg-partial-deny expose RDP
    assert recs["9.3.1.2"]["parameters"] == {"max_access_key_age_days": 90}
    assert recs["5.1.1"]["status"] == "pass"           # Graph tenant-good: Conditional Access MFA
    assert recs["8.3.11"]["status"] == "fail"          # kv-bad/cert-legacy: 24 months (Key Vault data plane)
    # checks outside tier-1 ran for the framework only and stay out of its attainment
    assert any(res.get("framework_only") for res in report["results"])
    assert "CIS Microsoft Azure Foundations Benchmark" in r.output
    assert "CIS Microsoft Azure Foundations Benchmark" in (out / "posture-report.html").read_text()
    assert FRAMEWORK in (out / "posture-report.sarif").read_text()
