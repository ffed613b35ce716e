"""Collection against the fake GCP server: errors, pagination, request counts, retries, economy."""

from __future__ import annotations

import json
from typing import Any

from posture_gcp.provider import GcpProvider

from posture.facts import FactSet
from tests.gcp.fake_gcp import FakeGcp


def _run(fake: FakeGcp, project: str, fact_types: set[str], **extra: Any) -> Any:
    provider = GcpProvider()
    options = {"gcp_api_endpoint": fake.url, "gcp_max_retries": 2, "project": [project], **extra}
    units = provider.plan(fact_types, options).units
    return [provider.collect(u) for u in units]


def _errors(facts: FactSet, scope: str) -> dict[str, tuple[str, bool]]:
    return {e.fact_type: (e.code, e.not_applicable) for e in facts.errors if e.scope == scope}


def test_denied_and_disabled_apis_become_errors_for_exactly_their_fact_types(collected: FactSet) -> None:
    assert _errors(collected, "denied-project") == {
        "gcp.resourcemanager.iam_policy": ("PERMISSION_DENIED", False),
        "gcp.storage.bucket": ("PERMISSION_DENIED", False),
        "gcp.logging.project": ("PERMISSION_DENIED", False),
        "gcp.iam.service_account": ("SERVICE_DISABLED", True),
        "gcp.iam.service_account_key": ("SERVICE_DISABLED", True),
        "gcp.kms.crypto_key": ("SERVICE_DISABLED", True),
        "gcp.essentialcontacts.project": ("SERVICE_DISABLED", True),
        "gcp.sql.instance": ("accessNotConfigured", True),
        # SCC observes MFA: disabled means "not assessable", an error, never not_applicable
        "gcp.securitycenter.identity_findings": ("SERVICE_DISABLED", False),
        "gcp.dns.managed_zone": ("SERVICE_DISABLED", True),
        "gcp.dns.network": ("SERVICE_DISABLED", True),
        "gcp.monitoring.change_alerts": ("PERMISSION_DENIED", False),
        "gcp.kms.crypto_key_policy": ("SERVICE_DISABLED", True),
        "gcp.apikeys.key": ("SERVICE_DISABLED", True),
        "gcp.apikeys.project": ("SERVICE_DISABLED", True),
        "gcp.logging.sink_destination": ("PERMISSION_DENIED", False),
        "gcp.serviceusage.project": ("PERMISSION_DENIED", False),
        # like SCC findings: Security Command Center observes, so disabled is an error
        "gcp.securitycenter.services": ("SERVICE_DISABLED", False),
        "gcp.secretmanager.secret": ("SERVICE_DISABLED", True),
        "gcp.functions.function": ("SERVICE_DISABLED", True),
        "gcp.storage.hmac_key": ("PERMISSION_DENIED", False),
        "gcp.container.cluster": ("SERVICE_DISABLED", True),
        "gcp.bigquery.dataset": ("SERVICE_DISABLED", True),
        "gcp.bigquery.table": ("SERVICE_DISABLED", True),
        "gcp.dataproc.cluster": ("SERVICE_DISABLED", True),
    }


def test_api_not_enabled_is_reported_with_the_reason_and_the_cloud_message(collected: FactSet) -> None:
    sql = next(e for e in collected.errors if e.scope == "denied-project" and e.fact_type == "gcp.sql.instance")
    assert sql.not_applicable
    assert sql.message.startswith("API not enabled: Cloud SQL Admin API has not been used in project")


def test_a_denied_project_does_not_stop_its_other_apis_or_other_projects(collected: FactSet) -> None:
    covered = {c.fact_type for c in collected.coverage if c.scope == "denied-project"}
    assert covered == {"gcp.resourcemanager.project", "gcp.compute.firewall", "gcp.compute.network",
                       "gcp.compute.subnetwork", "gcp.compute.instance", "gcp.compute.image",
                       "gcp.compute.snapshot", "gcp.compute.project", "gcp.logging.bucket",
                       "gcp.compute.backend_service", "gcp.compute.target_http_proxy", "gcp.compute.disk",
                       "gcp.compute.address", "gcp.essentialcontacts.organization"}
    assert not _errors(collected, "good-project") and not _errors(collected, "bad-project")
    assert {c.fact_type for c in collected.coverage if c.scope == "bad-project"} == set(GcpProvider.fact_types)


def test_every_page_of_paginated_lists_is_read(collected: FactSet, fake_gcp: FakeGcp) -> None:
    names = {(f.type, f.name) for f in collected.facts if f.scope == "bad-project"}
    for expected in [("gcp.iam.service_account", "deployer@bad-project.iam.gserviceaccount.com"),
                     ("gcp.iam.service_account", "222222222222-compute@developer.gserviceaccount.com"),
                     ("gcp.storage.bucket", "bad-public-data"), ("gcp.storage.bucket", "bad-legacy-acl"),
                     ("gcp.compute.instance", "vm-public"), ("gcp.compute.instance", "vm-mixed")]:
        assert expected in names


def test_paginated_calls_send_the_previous_next_page_token(fake_gcp: FakeGcp) -> None:
    fake_gcp.reset()
    _run(fake_gcp, "bad-project", {"gcp.compute.instance", "gcp.iam.service_account", "gcp.storage.bucket"})
    tokens = {(c.path, c.param("pageToken") or "") for c in fake_gcp.requests_to()}
    assert ("/compute/v1/projects/bad-project/aggregated/instances", "inst-page-2") in tokens
    assert ("/v1/projects/bad-project/serviceAccounts", "sa-page-2") in tokens
    assert ("/storage/v1/b", "CgRiYWQt") in tokens


def test_unit_request_count_equals_requests_the_server_received(fake_gcp: FakeGcp) -> None:
    provider = GcpProvider()
    options = {"gcp_api_endpoint": fake_gcp.url, "project": ["bad-project"]}
    units = provider.plan(set(provider.fact_types), options).units
    for unit in units:
        fake_gcp.reset()
        outcome = provider.collect(unit)
        assert outcome.requests == len(fake_gcp.requests_to()), unit.collector
        # compute_project reads Compute's projects.get, which the compute unit of the scan already made
        assert outcome.requests > 0 or unit.collector == "compute_project", unit.collector


def test_only_requested_fact_types_are_collected(fake_gcp: FakeGcp) -> None:
    fake_gcp.reset()
    [outcome] = _run(fake_gcp, "good-project", {"gcp.compute.firewall"})
    assert [c.path for c in fake_gcp.requests_to()] == ["/compute/v1/projects/good-project/global/firewalls"]
    assert {f.type for f in outcome.facts} == {"gcp.compute.firewall"}
    assert outcome.requests == 1


def test_instances_and_subnetworks_use_aggregated_lists_not_per_zone_calls(fake_gcp: FakeGcp) -> None:
    fake_gcp.reset()
    _run(fake_gcp, "good-project", {"gcp.compute.instance", "gcp.compute.subnetwork"})
    paths = sorted(c.path for c in fake_gcp.requests_to())
    assert paths == ["/compute/v1/projects/good-project", "/compute/v1/projects/good-project/aggregated/instances",
                     "/compute/v1/projects/good-project/aggregated/subnetworks"]


def test_bucket_iam_policy_is_skipped_when_public_access_prevention_is_enforced(fake_gcp: FakeGcp) -> None:
    fake_gcp.reset()
    _run(fake_gcp, "good-project", {"gcp.storage.bucket"})
    iam_calls = [c.path for c in fake_gcp.requests_to("/iam")]
    assert iam_calls == ["/storage/v1/b/good-website-assets/iam"]


def test_throttled_call_is_retried_and_succeeds(fake_gcp: FakeGcp) -> None:
    fake_gcp.reset()
    with fake_gcp.throttle("GET", "/compute/v1/projects/good-project/global/firewalls", times=1):
        [outcome] = _run(fake_gcp, "good-project", {"gcp.compute.firewall"})
    assert not outcome.errors and len(outcome.facts) == 3
    assert [c.status for c in fake_gcp.requests_to()] == [429, 200]
    assert outcome.requests == 2


def test_throttled_discovery_call_is_retried_and_succeeds(fake_gcp: FakeGcp) -> None:
    fake_gcp.reset()
    with fake_gcp.throttle("GET", "/sql/v1beta4/projects/good-project/instances", times=1):
        [outcome] = _run(fake_gcp, "good-project", {"gcp.sql.instance"})
    assert not outcome.errors and {f.name for f in outcome.facts} == {"pg-main", "pg-replica", "mysql-main",
                                                                      "mssql-main"}
    assert [c.status for c in fake_gcp.requests_to()] == [429, 200]


def test_throttling_past_the_retries_becomes_resource_exhausted(fake_gcp: FakeGcp) -> None:
    fake_gcp.reset()
    with fake_gcp.throttle("GET", "/compute/v1/projects/good-project/global/networks", times=10):
        [outcome] = _run(fake_gcp, "good-project", {"gcp.compute.network"}, gcp_max_retries=1)
    assert [(e.fact_type, e.code, e.not_applicable) for e in outcome.errors] == [
        ("gcp.compute.network", "RESOURCE_EXHAUSTED", False)]
    assert outcome.requests == 2 and not outcome.facts and not outcome.coverage


def test_facts_never_carry_metadata_values_or_key_material(collected: FactSet) -> None:
    text = json.dumps([f.to_dict() for f in collected.facts])
    for secret in ("hunter2", "SECRET-SSH-KEY-MATERIAL", "DB_PASSWORD", "security@example.com", "PRIVATE KEY",
                   # function environment values, project-wide SSH keys, organization contacts' addresses
                   "FAKE-VALUE-NEVER-IN-A-FACT", "FAKE-TOKEN-VALUE", "FAKEKEYMATERIAL", "contact1@example.com"):
        assert secret not in text


def test_every_api_call_carried_the_adc_credential(collected: FactSet, fake_gcp: FakeGcp) -> None:
    """The fake answers 401 unless the bearer is a JWT signed by the ADC service-account key."""
    assert collected.facts
    assert all(c.status != 401 for c in fake_gcp.requests_to())


def test_fact_ids_are_full_resource_names(collected: FactSet) -> None:
    ids = {f.id for f in collected.facts if f.scope == "bad-project"}
    assert "//compute.googleapis.com/projects/bad-project/zones/us-central1-a/instances/vm-public" in ids
    assert "//storage.googleapis.com/projects/_/buckets/bad-public-data" in ids
    assert "//sqladmin.googleapis.com/projects/bad-project/instances/mysql-public" in ids
    assert ("//cloudkms.googleapis.com/projects/bad-project/locations/us-central1/keyRings/ring-b/cryptoKeys/"
            "slow-key") in ids


def test_collection_resolves_no_host_but_loopback(fake_gcp: FakeGcp, monkeypatch) -> None:
    """No credential refresh side-lookup (metadata server, iamcredentials) and no real API host."""
    import socket

    seen: list[str] = []
    real = socket.getaddrinfo

    def recording(host: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(str(host))
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", recording)
    outcomes = _run(fake_gcp, "good-project", set(GcpProvider.fact_types))
    import time

    time.sleep(0.5)  # let any background refresh thread start
    assert outcomes and not [e for o in outcomes for e in o.errors]
    assert set(seen) <= {"127.0.0.1", "localhost", "::1"}
