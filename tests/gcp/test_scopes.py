"""Scope discovery: explicit projects, organization / folder walks, ADC project, denied parents."""

from __future__ import annotations

import pytest
from posture_gcp.provider import GcpProvider

from posture.provider import ProviderError
from tests.gcp.fake_gcp import FakeGcp


def test_organization_walk_finds_active_projects_in_nested_folders(fake_gcp: FakeGcp) -> None:
    scopes = GcpProvider().plan(set(), {"gcp_api_endpoint": fake_gcp.url, "organization": ["100"]}).scopes
    assert [(s.id, s.name, s.parent) for s in scopes] == [
        ("bad-project", "Bad project", "folders/200"),
        ("denied-project", "Denied project", "folders/300"),
        ("good-project", "Good project", "organizations/100"),
    ]


def test_unreadable_folder_is_a_planning_error_and_siblings_are_still_scanned(fake_gcp: FakeGcp) -> None:
    [error] = GcpProvider().plan(set(), {"gcp_api_endpoint": fake_gcp.url,
                                         "organization": ["organizations/100"]}).errors
    assert (error.scope, error.code, error.not_applicable) == ("folders/400", "PERMISSION_DENIED", False)


def test_planning_requests_count_every_resource_manager_call(fake_gcp: FakeGcp) -> None:
    fake_gcp.reset()
    plan = GcpProvider().plan(set(), {"gcp_api_endpoint": fake_gcp.url, "folder": ["200"]})
    calls = fake_gcp.requests_to("/v3/")
    # folders/200: search (2 pages) + folders list; folders/300: search + folders list
    assert plan.requests == len(calls) == 5


def test_explicit_projects_and_a_folder_are_merged_without_duplicates(fake_gcp: FakeGcp) -> None:
    scopes = GcpProvider().plan(set(), {"gcp_api_endpoint": fake_gcp.url, "project": ["bad-project", "good-project"],
                                        "folder": ["folders/200"]}).scopes
    assert [s.id for s in scopes] == ["bad-project", "denied-project", "good-project"]


def test_without_scope_options_the_adc_project_is_scanned(fake_gcp: FakeGcp) -> None:
    assert [s.id for s in GcpProvider().plan(set(), {"gcp_api_endpoint": fake_gcp.url}).scopes] == ["good-project"]


def test_missing_credentials_is_a_clear_provider_error(fake_gcp: FakeGcp, monkeypatch: pytest.MonkeyPatch,
                                                        tmp_path) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    with pytest.raises(ProviderError, match="no Application Default Credentials"):
        GcpProvider().plan(set(), {"gcp_api_endpoint": fake_gcp.url, "project": ["good-project"]})


def test_plan_makes_one_unit_per_project_and_api_with_only_requested_fact_types(fake_gcp: FakeGcp) -> None:
    provider = GcpProvider()
    options = {"gcp_api_endpoint": fake_gcp.url, "project": ["a-project", "b-project"]}
    units = provider.plan({"gcp.compute.instance", "gcp.storage.bucket"}, options).units
    assert sorted((u.scope, u.collector, u.fact_types) for u in units) == [
        ("a-project", "compute", ("gcp.compute.instance",)), ("a-project", "storage", ("gcp.storage.bucket",)),
        ("b-project", "compute", ("gcp.compute.instance",)), ("b-project", "storage", ("gcp.storage.bucket",)),
    ]
    assert dict(units[0].options)["gcp_api_endpoint"] == fake_gcp.url
