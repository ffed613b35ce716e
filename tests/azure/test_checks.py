"""Every Azure check against compliant and non-compliant fixture resources, collected through the real SDKs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from posture_azure import plugin
from posture_azure.provider import AzureProvider

from posture.checks import Check
from posture.facts import Fact
from tests.azure.cis_expected import CIS_EXPECTED
from tests.azure.fake_arm import CREDENTIAL_SPEC, SUB_MAIN, SUB_PARTIAL
from tests.azure.test_cis import SEPARATELY_TESTED
from tests.helpers import registered_checks

FACT_TYPES = AzureProvider.fact_types

# tier-1 values of the parameters Azure checks read
PARAMS = {"min_tls_version": "1.2", "admin_ports": [22, 3389], "min_log_retention_days": 90,
          "max_access_key_age_days": 365, "min_backup_retention_days": 7, "required_tags": ["owner"],
          "max_key_rotation_days": 90}

P, F, NA = "pass", "fail", "not_applicable"
EXPECTED: dict[str, dict[str, str]] = {
    "azure.storage.account.blob_public_access_disabled": {"stgood": P, "stbad": F},
    "azure.storage.account.https_only": {"stgood": P, "stbad": F},
    "azure.storage.account.min_tls_version": {"stgood": P, "stbad": F},
    "azure.storage.account.shared_key_access_disabled": {"stgood": P, "stbad": F},
    "azure.storage.account.network_default_deny": {"stgood": P, "stbad": F},
    "azure.storage.account.infrastructure_encryption": {"stgood": P, "stbad": F},
    "azure.storage.account.customer_managed_key": {"stgood": P, "stbad": F},
    "azure.storage.account.access_keys_rotated": {"stgood": P, "stbad": F},
    "azure.storage.account.required_tags": {"stgood": P, "stbad": F},
    "azure.storage.blob_service.soft_delete": {"stgood": P, "stbad": F},
    "azure.network.nsg.admin_ports_closed": {"nsg-good": P, "nsg-udp": P, "nsg-range": F, "nsg-any": F, "nsg-c": F,
                                             "nsg-partial-deny": F},
    "azure.compute.vm.no_public_ip": {"vm-good": P, "vm-bad": F},
    "azure.compute.vm.managed_disks": {"vm-good": P, "vm-bad": F},
    "azure.compute.vm.secure_boot": {"vm-good": P, "vm-bad": F},
    "azure.compute.disk.encrypted": {"disk-cmk": P, "disk-pmk": P, "disk-legacy": F},
    "azure.compute.disk.customer_managed_key": {"disk-cmk": P, "disk-pmk": F, "disk-legacy": F},
    "azure.compute.disk.no_public_export": {"disk-cmk": P, "disk-pmk": P, "disk-legacy": F},
    "azure.compute.vm.required_tags": {"vm-good": P, "vm-bad": F},
    "azure.keyvault.vault.purge_protection": {"kv-good": P, "kv-bad": F},
    "azure.keyvault.vault.soft_delete": {"kv-good": P, "kv-bad": F},
    "azure.keyvault.vault.rbac_authorization": {"kv-good": P, "kv-bad": F},
    "azure.keyvault.vault.public_network_access_disabled": {"kv-good": P, "kv-bad": F},
    "azure.keyvault.vault.required_tags": {"kv-good": P, "kv-bad": F},  # kv-good is tagged "Owner"
    "azure.keyvault.key.expiry": {"kv-good/key-expiring": P, "kv-good/key-forever": F, "kv-good/key-disabled": NA},
    "azure.keyvault.secret.expiry": {"kv-good/secret-expiring": P, "kv-good/secret-forever": F},
    # Key Vault data plane: cert-api is on the second page of kv-good's certificate list
    "azure.keyvault.certificate.validity_period": {"kv-good/cert-web": P, "kv-good/cert-api": P,
                                                   "kv-bad/cert-legacy": F},
    "azure.sql.server.public_network_access_disabled": {"sql-good": P, "sql-bad": F, "sql-shortaudit": P},
    "azure.sql.server.auditing_enabled": {"sql-good": P, "sql-bad": F, "sql-shortaudit": P},
    "azure.sql.server.auditing_retention": {"sql-good": P, "sql-bad": NA, "sql-shortaudit": F},
    "azure.sql.server.entra_admin": {"sql-good": P, "sql-bad": F, "sql-shortaudit": P},
    "azure.sql.server.min_tls_version": {"sql-good": P, "sql-bad": F, "sql-shortaudit": P},
    "azure.sql.server.required_tags": {"sql-good": P, "sql-bad": F, "sql-shortaudit": P},
    # dw-bad: a DataWarehouse database (TDE off) has no short-term backup retention policy
    "azure.sql.database.tde_enabled": {"sql-good/db-good": P, "sql-bad/db-bad": F, "sql-bad/dw-bad": F},
    "azure.sql.database.backup_retention": {"sql-good/db-good": P, "sql-bad/db-bad": F, "sql-bad/dw-bad": NA},
    "azure.monitor.activity_log.exported": {SUB_MAIN: P, SUB_PARTIAL: F},
    "azure.monitor.activity_log.retention": {SUB_MAIN: P, SUB_PARTIAL: F},
    "azure.security.pricing.defender_enabled": {
        "VirtualMachines": P, "KeyVaults": P, "SqlServers": P, "Dns": NA, "CloudPosture": P, "Api": P, "Containers": P,
        "StorageAccounts": P, "AppServices": P, "CosmosDbs": P, "OpenSourceRelationalDatabases": P,
        "SqlServerVirtualMachines": P, "Arm": P, "ContainerRegistry": F},
    "azure.security.contacts.configured": {SUB_MAIN: P, SUB_PARTIAL: F},
    # mi-0005: a customer-tenant managed identity assigned through Lighthouse (delegatedManagedIdentityResourceId)
    "azure.authorization.role_assignment.no_privileged_workload": {
        "Owner -> u-0001": P, "Contributor -> sp-0002": F, "Owner -> fg-0003": P, "Reader -> sp-0004": NA,
        "Contributor -> mi-0005": F, "User Access Administrator -> g-0006": P, "User Access Administrator -> u-0007": P},
    "azure.authorization.role_assignment.no_privileged_external": {
        "Owner -> u-0001": P, "Contributor -> sp-0002": P, "Owner -> fg-0003": F, "Reader -> sp-0004": NA,
        "Contributor -> mi-0005": P, "User Access Administrator -> g-0006": P, "User Access Administrator -> u-0007": P},
    "azure.authorization.role_definition.no_custom_owner": {
        "Subscription Admin (custom)": F, "VM Operator (custom)": P},
    "azure.authorization.subscription.no_classic_coadministrators": {SUB_MAIN: P, SUB_PARTIAL: F},
    "azure.resources.critical_resource.delete_lock": {"kv-good": P, "sql-good": P, "kv-bad": F, "stgood": F},
    "azure.web.app.https_only": {"app-good": P, "app-ftps": P, "app-bad": F, "func-isolated": P},
    "azure.web.app.min_tls_version": {"app-good": P, "app-ftps": P, "app-bad": F, "func-isolated": P},
    "azure.web.app.ftp_disabled": {"app-good": P, "app-ftps": P, "app-bad": F, "func-isolated": P},
    # PYTHON|3.12 / PYTHON|3.8 (end of life 2024-10-07) / a container (no managed runtime) /
    # dotnet-isolated|6.0 (a .NET 6 isolated-worker function app, end of life 2024-11-12)
    "azure.web.app.supported_runtime": {"app-good": P, "app-bad": F, "app-ftps": NA, "func-isolated": F},
    # SUB_MAIN: every identity recommendation Healthy/NotApplicable (V2); SUB_PARTIAL: Unhealthy, V1 or missing
    "azure.security.identity_assessments.owner_mfa": {SUB_MAIN: P, SUB_PARTIAL: F},
    "azure.security.identity_assessments.write_mfa": {SUB_MAIN: P, SUB_PARTIAL: F},
    "azure.security.identity_assessments.read_mfa": {SUB_MAIN: P, SUB_PARTIAL: F},
    "azure.security.identity_assessments.no_guest_owners": {SUB_MAIN: P, SUB_PARTIAL: F},
    "azure.security.identity_assessments.no_blocked_accounts": {SUB_MAIN: P, SUB_PARTIAL: F},
    **CIS_EXPECTED,
}


def all_checks() -> dict[str, Check]:
    return registered_checks(plugin)


@pytest.fixture(scope="module")
def collected(fake_arm_server: Any, fake_graph_server: Any, arm_tls: Any) -> list[Fact]:
    """Every Azure fact type from both fixture subscriptions, through the real SDK clients (Graph: tenant-good)."""
    fake_graph_server.reset()
    options = {"azure_arm_endpoint": fake_arm_server.url, "azure_ca_bundle": arm_tls.ca,
               "azure_graph_endpoint": fake_graph_server.endpoint("tenant-good"),
               "azure_credential": CREDENTIAL_SPEC, "azure_retry_backoff": 0.01,
               "subscription": (SUB_MAIN, SUB_PARTIAL)}
    provider = AzureProvider()
    units = provider.plan(set(FACT_TYPES), options).units
    facts: list[Fact] = []
    for unit in units:
        facts.extend(provider.collect(unit).facts)
    return facts


def test_plugin_registers_at_least_25_checks_each_on_a_known_fact_type_and_control() -> None:
    import yaml

    checks = all_checks()
    with open(Path(__file__).resolve().parents[2] / "tiers" / "controls.yaml", encoding="utf-8") as fh:
        controls = {c["id"] for c in yaml.safe_load(fh)["controls"]}
    assert len(checks) >= 25
    for check in checks.values():
        assert check.fact_type in FACT_TYPES, check.id
        assert set(check.controls) <= controls, check.id
        assert len(check.remediation) > 20, check.id


def test_every_check_has_an_expected_compliant_and_non_compliant_resource() -> None:
    assert set(EXPECTED) | set(SEPARATELY_TESTED) == set(all_checks())
    for check_id, cases in {**EXPECTED, **SEPARATELY_TESTED}.items():
        assert P in cases.values() and F in cases.values(), check_id


@pytest.mark.parametrize("check_id", sorted(EXPECTED))
def test_check_gives_exact_status_on_fixture_resources(check_id: str, collected: list[Fact]) -> None:
    check = all_checks()[check_id]
    got = {f.name: check.evaluate(f, PARAMS).status for f in collected if f.type == check.fact_type}
    assert got == EXPECTED[check_id]


def test_failed_checks_carry_the_attribute_evidence(collected: list[Fact]) -> None:
    check = all_checks()["azure.storage.account.min_tls_version"]
    bad = next(f for f in collected if f.name == "stbad")
    outcome = check.evaluate(bad, PARAMS)
    assert outcome.status == F
    assert outcome.evidence == {"minimum_tls_version": "1.0"}


def test_tighter_tier_parameter_changes_the_outcome(collected: list[Fact]) -> None:
    nsg = all_checks()["azure.network.nsg.admin_ports_closed"]
    good = next(f for f in collected if f.name == "nsg-good")
    # nsg-good allows 443 from the internet: fine for SSH/RDP, not when 443 is declared administrative
    assert nsg.evaluate(good, {"admin_ports": [22, 3389]}).status == P
    assert nsg.evaluate(good, {"admin_ports": [22, 443]}).status == F
    retention = all_checks()["azure.monitor.activity_log.retention"]
    main = next(f for f in collected if f.type == "azure.monitor.activity_log" and f.scope == SUB_MAIN)
    assert retention.evaluate(main, {"min_log_retention_days": 365}).status == P
    assert retention.evaluate(main, {"min_log_retention_days": 730}).status == F


def test_deny_for_one_host_or_some_source_ports_leaves_the_later_allow_exposed(collected: list[Fact]) -> None:
    nsg = next(f for f in collected if f.name == "nsg-partial-deny")
    deny, allow_rdp = nsg.attributes["inbound_rules"][0], nsg.attributes["inbound_rules"][3]
    assert (deny["destinations"], deny["source_ports"]) == (["10.0.1.4"], ["*"])
    assert allow_rdp["destinations"] == [
        "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-net/providers/Microsoft.Network"
        "/applicationSecurityGroups/asg-jump"]
    outcome = all_checks()["azure.network.nsg.admin_ports_closed"].evaluate(nsg, PARAMS)
    assert outcome.evidence["exposed"] == {"22": "allow-ssh", "3389": "allow-rdp-jump"}


def test_secret_facts_carry_metadata_never_values(collected: list[Fact]) -> None:
    secrets = [f for f in collected if f.type == "azure.keyvault.secret"]
    assert secrets
    for f in secrets:
        assert set(f.attributes) == {"enabled", "expires", "content_type"}


def test_recently_rotated_storage_keys_pass_and_old_ones_fail_by_the_tier_maximum(collected: list[Fact]) -> None:
    from datetime import UTC, datetime

    from posture.conditions import Evaluator

    check = all_checks()["azure.storage.account.access_keys_rotated"]
    bad = next(f for f in collected if f.name == "stbad")
    assert bad.attributes["oldest_key_created"].startswith("2022-01-10")
    rotated = Fact(bad.provider, bad.scope, bad.region, bad.type, bad.id, bad.name,
                   {**bad.attributes, "oldest_key_created": "2025-05-01T08:00:00+00:00"})
    june = Evaluator(PARAMS, now=datetime(2025, 6, 1, tzinfo=UTC))
    assert check.evaluate(rotated, PARAMS, june).status == P
    assert check.evaluate(rotated, {**PARAMS, "max_access_key_age_days": 14}, Evaluator(
        {**PARAMS, "max_access_key_age_days": 14}, now=datetime(2025, 6, 1, tzinfo=UTC))).status == F


@pytest.mark.parametrize(("public_network_access", "expected"), [("Disabled", "pass"), ("disabled", "pass"),
                                                                 ("Enabled", "fail")])
def test_key_vault_public_network_access_is_compared_case_insensitively(public_network_access: str,
                                                                        expected: str) -> None:
    from posture.facts import Fact
    from posture.plugins import registry

    check = registry().checks["azure.keyvault.vault.public_network_access_disabled"]
    fact = Fact("azure", "sub", "global", "azure.keyvault.vault", "/kv", "kv",
                {"public_network_access": public_network_access, "network_default_action": "Allow"})
    assert check.evaluate(fact, {}).status == expected


def test_a_disk_without_a_network_access_policy_is_exportable_like_the_service_default() -> None:
    from types import SimpleNamespace

    from posture_azure.collectors.compute import disk_attributes

    disk = SimpleNamespace(encryption=SimpleNamespace(type="EncryptionAtRestWithPlatformKey"),
                           encryption_settings_collection=None, disk_state="Unattached", managed_by=None,
                           network_access_policy=None, public_network_access=None, tags=None)
    assert disk_attributes(disk)["public_export"] is True


def test_only_an_enabled_audit_log_to_a_workspace_exports_sql_audit_events_to_log_analytics() -> None:
    from posture_azure.collectors.sql import audit_workspaces

    def setting(ws: str | None, *logs: dict[str, Any]) -> dict[str, Any]:
        return {"properties": {"workspaceId": ws, "storageAccountId": "/st", "logs": list(logs)}}

    assert audit_workspaces([
        setting("/ws/a", {"category": "SQLSecurityAuditEvents", "enabled": True}),
        setting("/WS/A", {"categoryGroup": "allLogs", "enabled": True}),  # the same workspace, once
        setting("/ws/b", {"category": None, "categoryGroup": "audit", "enabled": True}),
        setting("/ws/c", {"category": "SQLSecurityAuditEvents", "enabled": False}, {"category": "Errors",
                                                                                    "enabled": True}),
        setting(None, {"category": "SQLSecurityAuditEvents", "enabled": True}),  # storage only
    ]) == ["/ws/a", "/ws/b"]


def test_every_check_the_cis_azure_framework_maps_is_tested_with_a_pass_and_a_fail() -> None:
    from posture.frameworks import load_framework

    framework = load_framework("cis-azure-foundations-6.0")
    tested = {**EXPECTED, **SEPARATELY_TESTED}
    mapped = {c for rec in framework.recommendations for c in rec.checks}
    assert mapped and mapped <= set(tested)
    for check_id in mapped:
        assert {P, F} <= set(tested[check_id].values()), check_id
