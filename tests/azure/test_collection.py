"""Collection behaviour against the fake ARM server: paging, errors as data, throttling, scopes, economy."""

from __future__ import annotations

import pickle
import subprocess
import sys
import time
from typing import Any

import pytest
from posture_azure.provider import AzureProvider

from posture.provider import ProviderError, UnitOutcome
from tests.azure.fake_arm import SUB_DENIED, SUB_FILES, SUB_MAIN, SUB_PARTIAL, StaticCredential

FACT_TYPES = AzureProvider.fact_types


def run(provider: AzureProvider, options: dict[str, Any], fact_types: set[str]) -> list[UnitOutcome]:
    units = provider.plan(fact_types, options).units
    return [provider.collect(u) for u in units]


def test_storage_accounts_are_read_across_nextlink_pages(azure_options: dict[str, Any], arm: Any) -> None:
    outcomes = run(AzureProvider(), {**azure_options, "subscription": [SUB_MAIN]}, {"azure.storage.account"})
    assert sorted(f.name for o in outcomes for f in o.facts) == ["stbad", "stgood"]
    pages = arm.requests_to("/providers/Microsoft.Storage/storageAccounts")
    assert [r.param("$skiptoken") for r in pages] == [None, "page2"]
    assert all(r.param("api-version") for r in arm.requests)


def test_403_on_one_resource_type_is_an_error_for_that_type_only(azure_options: dict[str, Any], arm: Any) -> None:
    wanted = {"azure.storage.account", "azure.keyvault.vault", "azure.security.contacts"}
    outcomes = run(AzureProvider(), {**azure_options, "subscription": [SUB_PARTIAL]}, wanted)
    errors = [e for o in outcomes for e in o.errors]
    assert [(e.scope, e.fact_type, e.code) for e in errors] == [
        (SUB_PARTIAL, "azure.storage.account", "AuthorizationFailed")]
    assert "Microsoft.Storage/storageAccounts/read" in errors[0].message
    covered = {c.fact_type for o in outcomes for c in o.coverage}
    assert covered == {"azure.keyvault.vault", "azure.security.contacts"}


STORAGE = {"azure.storage.account", "azure.storage.blob_service"}


def test_file_storage_accounts_have_no_blob_service_and_are_not_asked_for_one(azure_options: dict[str, Any],
                                                                             arm: Any) -> None:
    """ARM answers 400 FeatureNotSupportedForAccount for blobServices of a kind: FileStorage account."""
    [outcome] = run(AzureProvider(), {**azure_options, "subscription": [SUB_FILES]}, STORAGE)
    assert outcome.errors == []
    assert sorted((f.type, f.name) for f in outcome.facts) == [
        ("azure.storage.account", "stfiles"), ("azure.storage.account", "stlogs"),
        ("azure.storage.blob_service", "stlogs")]
    assert {c.fact_type for c in outcome.coverage} == STORAGE
    assert arm.requests_to("stfiles/blobServices") == []


def test_one_accounts_blob_service_failure_keeps_the_others(azure_options: dict[str, Any], arm: Any) -> None:
    path = (f"/subscriptions/{SUB_MAIN}/resourceGroups/rg-data/providers/Microsoft.Storage/storageAccounts/stbad"
            "/blobServices/default")
    with arm.override(path, 403, "AuthorizationFailed", "denied by a deny assignment"):
        [outcome] = run(AzureProvider(), {**azure_options, "subscription": [SUB_MAIN]}, STORAGE)
    assert sorted(f.name for f in outcome.facts if f.type == "azure.storage.blob_service") == ["stgood"]
    assert sorted(f.name for f in outcome.facts if f.type == "azure.storage.account") == ["stbad", "stgood"]
    assert [(e.fact_type, e.code) for e in outcome.errors] == [("azure.storage.blob_service", "AuthorizationFailed")]
    assert outcome.errors[0].message.startswith("stbad: ")


def test_unreadable_backup_retention_keeps_the_databases_tde_result(azure_options: dict[str, Any], arm: Any) -> None:
    path = (f"/subscriptions/{SUB_MAIN}/resourceGroups/rg-sql/providers/Microsoft.Sql/servers/sql-bad/databases"
            "/db-bad/backupShortTermRetentionPolicies/default")
    with arm.override(path, 403, "AuthorizationFailed", "no backupShortTermRetentionPolicies/read"):
        [outcome] = run(AzureProvider(), {**azure_options, "subscription": [SUB_MAIN]}, {"azure.sql.database"})
    dbs = {f.name: f.attributes for f in outcome.facts}
    assert (dbs["sql-bad/db-bad"]["tde_enabled"], dbs["sql-bad/db-bad"]["backup_retention_days"]) == (False, None)
    assert dbs["sql-bad/db-bad"]["backup_retention_error"] == "AuthorizationFailed"
    # the edition without short-term retention is a property of that database, not a collection error
    assert (dbs["sql-bad/dw-bad"]["backup_retention_error"], dbs["sql-good/db-good"]["backup_retention_error"]) == (
        "FeatureDisabledOnSelectedEdition", None)
    assert [(e.fact_type, e.code, e.message.split(":")[0]) for e in outcome.errors] == [
        ("azure.sql.database", "AuthorizationFailed", "sql-bad/db-bad")]


def test_unreadable_auditing_policy_keeps_the_servers_other_settings_judged(azure_options: dict[str, Any],
                                                                           arm: Any) -> None:
    from posture.plugins import registry

    path = f"/subscriptions/{SUB_MAIN}/resourceGroups/rg-sql/providers/Microsoft.Sql/servers/sql-bad/auditingSettings/default"
    with arm.override(path, 403, "AuthorizationFailed", "no auditingSettings/read"):
        [outcome] = run(AzureProvider(), {**azure_options, "subscription": [SUB_MAIN]}, {"azure.sql.server"})
    servers = {f.name: f for f in outcome.facts}
    assert {"sql-bad", "sql-good"} <= set(servers)
    bad = servers["sql-bad"]
    assert bad.attributes["auditing_error"] == "AuthorizationFailed"
    assert [(e.fact_type, e.code) for e in outcome.errors] == [("azure.sql.server", "AuthorizationFailed")]
    checks = registry().checks
    assert checks["azure.sql.server.auditing_enabled"].evaluate(bad, {}).status == "not_applicable"
    assert checks["azure.sql.server.public_network_access_disabled"].evaluate(bad, {}).status == "fail"


SQL_FILES = f"/subscriptions/{SUB_FILES}/resourceGroups/rg-sql/providers/Microsoft.Sql/servers"
MASTER_DIAGNOSTICS = "databases/master/providers/Microsoft.Insights/diagnosticSettings"
WS_FILES = (f"/subscriptions/{SUB_FILES}/resourceGroups/rg-files/providers/Microsoft.OperationalInsights"
            "/workspaces/ws-files")


def sql_audit_retention(fact: Any, min_days: int = 90) -> str:
    from posture.plugins import registry

    check = registry().checks["azure.sql.server.auditing_retention"]
    return check.evaluate(fact, {"min_log_retention_days": min_days}).status


def test_sql_audit_to_azure_monitor_counts_only_a_master_diagnostic_setting_to_a_workspace(
        azure_options: dict[str, Any], arm: Any) -> None:
    """sql-monitor exports SQLSecurityAuditEvents to ws-files (365 days; its AzureActivity table's 30 do not
    matter), sql-monitor-nodiag has the flag and no setting, sql-storage audits to storage for 90 days."""
    [outcome] = run(AzureProvider(), {**azure_options, "subscription": [SUB_FILES]}, {"azure.sql.server"})
    assert outcome.errors == []
    servers = {f.name: f for f in outcome.facts}
    keys = ("auditing_to_log_analytics", "auditing_to_storage", "audit_log_analytics_exported",
            "audit_log_analytics_retention_days", "audit_log_analytics_error")
    assert {n: tuple(f.attributes[k] for k in keys) for n, f in servers.items()} == {
        "sql-monitor": (True, False, True, 365, None),
        "sql-monitor-nodiag": (True, False, False, None, None),
        "sql-storage": (False, True, False, None, None)}
    assert {n: sql_audit_retention(f) for n, f in servers.items()} == {
        "sql-monitor": "pass", "sql-monitor-nodiag": "fail", "sql-storage": "pass"}
    assert sql_audit_retention(servers["sql-monitor"], 730) == "fail"
    # API economy: the diagnostic settings only of servers with the flag, the qualifying workspace once
    assert sorted(r.path.split("/")[8] for r in arm.requests_to(MASTER_DIAGNOSTICS)) == [
        "sql-monitor", "sql-monitor-nodiag"]
    assert len(arm.requests_to("workspaces/ws-files")) == 1 and arm.requests_to("ws-central") == []
    # the servers list, 3 auditing policies, 2 diagnostic settings, 1 workspace (+2: planning's metadata and
    # subscription GETs)
    assert outcome.requests == len(arm.requests) - 2 == 1 + 3 + 2 + 1


@pytest.mark.parametrize("path", [f"{SQL_FILES}/sql-monitor/{MASTER_DIAGNOSTICS}", WS_FILES])
def test_unreadable_audit_diagnostic_setting_or_workspace_is_data_and_fails_retention(
        azure_options: dict[str, Any], arm: Any, path: str) -> None:
    from posture.plugins import registry

    with arm.override(path, 403, "AuthorizationFailed", "denied"):
        [outcome] = run(AzureProvider(), {**azure_options, "subscription": [SUB_FILES]}, {"azure.sql.server"})
    assert outcome.errors == []
    fact = next(f for f in outcome.facts if f.name == "sql-monitor")
    exported = None if path.endswith("diagnosticSettings") else True
    assert (fact.attributes["audit_log_analytics_exported"], fact.attributes["audit_log_analytics_retention_days"],
            fact.attributes["audit_log_analytics_error"]) == (exported, None, "AuthorizationFailed")
    assert sql_audit_retention(fact) == "fail"
    assert registry().checks["azure.sql.server.auditing_enabled"].evaluate(fact, {}).status == "pass"


def test_unreadable_workspace_leaves_its_retention_unknown_but_the_export_fact_stands(
        azure_options: dict[str, Any], arm: Any) -> None:
    """SUB_MAIN also exports to ws-central in a subscription the scanner cannot read (403)."""
    [outcome] = run(AzureProvider(), {**azure_options, "subscription": [SUB_MAIN]}, {"azure.monitor.activity_log"})
    assert outcome.errors == []
    [fact] = outcome.facts
    assert fact.attributes["exported"] is True
    assert fact.attributes["retention_days"] == 365  # the readable workspace
    assert [(w["name"], w["retention_days"], w["error"]) for w in fact.attributes["workspaces"]] == [
        ("ws-audit", 365, None), ("ws-central", None, "AuthorizationFailed")]


def test_retired_legacy_log_profiles_api_does_not_cost_the_activity_log_fact(azure_options: dict[str, Any],
                                                                            arm: Any) -> None:
    path = f"/subscriptions/{SUB_MAIN}/providers/Microsoft.Insights/logprofiles"
    with arm.override(path, 400, "FeatureNotSupported", "Log profiles have been retired"):
        [outcome] = run(AzureProvider(), {**azure_options, "subscription": [SUB_MAIN]}, {"azure.monitor.activity_log"})
    assert outcome.errors == []
    [fact] = outcome.facts
    assert (fact.attributes["exported"], fact.attributes["retention_days"]) == (True, 365)
    assert fact.attributes["log_profiles_error"] == "FeatureNotSupported"


def test_activity_log_retention_is_the_azure_activity_tables_not_the_workspaces(azure_options: dict[str, Any],
                                                                              arm: Any) -> None:
    """ws-files keeps 365 days, but its AzureActivity table only 30 (per-table retention)."""
    [outcome] = run(AzureProvider(), {**azure_options, "subscription": [SUB_FILES]}, {"azure.monitor.activity_log"})
    assert outcome.errors == []
    [fact] = outcome.facts
    assert fact.attributes["retention_days"] == 30
    assert [(w["name"], w["retention_days"]) for w in fact.attributes["workspaces"]] == [("ws-files", 30)]
    assert len(arm.requests_to("ws-files/tables/AzureActivity")) == 1


def test_throttled_list_is_retried_after_retry_after(azure_options: dict[str, Any], arm: Any) -> None:
    started = time.monotonic()
    [outcome] = run(AzureProvider(), {**azure_options, "subscription": [SUB_PARTIAL]}, {"azure.network.nsg"})
    assert time.monotonic() - started >= 0.9  # Retry-After: 1 was honoured
    assert [f.name for f in outcome.facts] == ["nsg-c"]
    assert outcome.errors == []
    assert outcome.requests == 2  # the 429 and the retry
    assert len(arm.requests_to("networkSecurityGroups")) == 2


def test_denied_subscription_is_a_plan_error_and_the_others_are_scanned(azure_options: dict[str, Any],
                                                                        arm: Any) -> None:
    provider = AzureProvider()
    options = {**azure_options, "subscription": [SUB_MAIN, SUB_DENIED]}
    plan = provider.plan({"azure.keyvault.vault", "azure.web.app"}, options)
    assert [s.id for s in plan.scopes] == [SUB_MAIN]
    units = plan.units
    assert {u.scope for u in units} == {SUB_MAIN}
    assert sorted((e.scope, e.fact_type, e.code) for e in plan.errors) == [
        (SUB_DENIED, "azure.keyvault.vault", "AuthorizationFailed"),
        (SUB_DENIED, "azure.web.app", "AuthorizationFailed")]
    assert all(provider.collect(u).errors == [] for u in units)


def test_no_readable_subscription_is_a_provider_error(azure_options: dict[str, Any]) -> None:
    with pytest.raises(ProviderError, match="AuthorizationFailed"):
        AzureProvider().plan(set(), {**azure_options, "subscription": [SUB_DENIED]})


def test_default_scope_is_every_enabled_visible_subscription(azure_options: dict[str, Any], arm: Any) -> None:
    plan = AzureProvider().plan(set(), azure_options)
    assert [(s.id, s.name) for s in plan.scopes] == [(SUB_MAIN, "prod"), (SUB_PARTIAL, "partial")]
    assert plan.requests == 2  # the custom endpoint's /metadata/endpoints, the subscriptions list


def test_management_group_scope_follows_descendant_pages(azure_options: dict[str, Any]) -> None:
    scopes = AzureProvider().plan(set(), {**azure_options, "management_group": "mg-prod"}).scopes
    assert [(s.id, s.parent) for s in scopes] == [(SUB_MAIN, "mg-apps"), (SUB_PARTIAL, "mg-prod")]
    with pytest.raises(ProviderError, match="AuthorizationFailed"):
        AzureProvider().plan(set(), {**azure_options, "management_group": "mg-secret"})


def test_only_requested_fact_types_are_collected(azure_options: dict[str, Any], arm: Any) -> None:
    provider = AzureProvider()
    options = {**azure_options, "subscription": [SUB_MAIN]}
    units = provider.plan({"azure.storage.account", "azure.compute.disk"}, options).units
    assert sorted((u.collector, u.fact_types) for u in units) == [
        ("compute", ("azure.compute.disk",)), ("storage", ("azure.storage.account",))]
    arm.reset()
    outcomes = [provider.collect(u) for u in units]
    paths = [r.path for r in arm.requests]
    assert not any("blobServices" in p or "virtualMachines" in p or "networkInterfaces" in p for p in paths)
    assert not any("/resourceGroups/" in p for p in paths)  # list-by-subscription, never per resource group
    assert sum(o.requests for o in outcomes) == len(arm.requests) == 3


def test_request_count_matches_what_the_server_saw(azure_options: dict[str, Any], arm: Any, graph: Any,
                                                   keyvault: Any) -> None:
    provider = AzureProvider()
    options = {**azure_options, "subscription": [SUB_MAIN]}
    units = provider.plan(set(FACT_TYPES), options).units
    arm.reset()
    graph.reset()
    outcomes = [provider.collect(u) for u in units]
    assert sum(o.requests for o in outcomes) == len(arm.requests) + len(graph.requests) + len(keyvault.requests)
    assert {r.method for r in arm.requests + keyvault.requests} == {"GET"}  # read-only
    assert all(o.errors == [] for o in outcomes)


def test_tokens_are_requested_for_the_custom_arm_audience(azure_options: dict[str, Any], arm: Any) -> None:
    from posture_azure import session

    session.reset()  # cached clients hold cached tokens
    StaticCredential.scopes_requested.clear()
    run(AzureProvider(), {**azure_options, "subscription": [SUB_MAIN]}, {"azure.web.app"})
    assert StaticCredential.scopes_requested, "no token"
    # the audience the endpoint's /metadata/endpoints announces (Azure Stack Hub), not the endpoint itself
    assert {s for scopes in StaticCredential.scopes_requested for s in scopes} == {
        "https://management.fakestack.test/.default"}


def test_credential_can_be_injected_through_the_constructor(azure_options: dict[str, Any]) -> None:
    options = {k: v for k, v in azure_options.items() if k != "azure_credential"}
    outcomes = run(AzureProvider(credential=StaticCredential()), {**options, "subscription": [SUB_MAIN]},
                   {"azure.keyvault.vault"})
    assert sorted(f.name for o in outcomes for f in o.facts) == ["kv-bad", "kv-good"]


def test_wrong_token_is_an_authentication_error_not_a_crash(azure_options: dict[str, Any]) -> None:
    class WrongToken:
        def get_token(self, *scopes: str, **kwargs: Any) -> Any:
            from azure.core.credentials import AccessToken

            return AccessToken("not-the-token", int(time.time()) + 3600)

    provider = AzureProvider(credential=WrongToken())
    options = {k: v for k, v in azure_options.items() if k != "azure_credential"}
    with pytest.raises(ProviderError, match="AuthenticationFailed"):
        provider.plan(set(), {**options, "subscription": [SUB_MAIN]})


def test_units_are_picklable_and_carry_resolved_settings(azure_options: dict[str, Any]) -> None:
    provider = AzureProvider()
    options = {**azure_options, "subscription": [SUB_MAIN]}
    units = provider.plan(set(FACT_TYPES), options).units
    assert len(units) == len({u.collector for u in units}) >= 16  # one per collector for one subscription
    clone = pickle.loads(pickle.dumps(units[0]))
    assert clone == units[0]
    assert dict(clone.options)["azure_settings.arm_endpoint"] == azure_options["azure_arm_endpoint"]


def test_plugin_import_does_not_load_an_azure_sdk() -> None:
    code = ("import sys, posture_azure.plugin, posture_azure.provider; "
            "p = posture_azure.provider.AzureProvider(); p.fact_types; p.options; "
            "sys.exit(1 if any(m.startswith('azure') for m in sys.modules) else 0)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_each_injected_credential_gets_its_own_clients(azure_options: dict[str, Any]) -> None:
    """A provider built with a new credential never reuses clients made for an earlier instance's one."""
    import gc

    class Good:
        def __init__(self, token: str) -> None:
            self.token = token

        def get_token(self, *scopes: str, **kwargs: Any) -> Any:
            from azure.core.credentials import AccessToken

            return AccessToken(self.token, int(time.time()) + 3600)

    options = {k: v for k, v in azure_options.items() if k != "azure_credential"}
    names = set()
    for _ in range(20):  # ids of collected instances get reused; names must not
        provider = AzureProvider(credential=Good("t"))
        names.add(provider.settings(options).credential)
        del provider
        gc.collect()
    assert len(names) == 20
