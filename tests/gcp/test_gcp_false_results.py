"""Regression tests for confirmed false passes / false fails, on facts collected from the fake GCP server."""

from __future__ import annotations

from typing import Any

from posture_gcp.collectors.resourcemanager import policy_attributes

from posture.checks import Check
from posture.facts import Fact, FactSet

POLICY = "gcp.resourcemanager.iam_policy"


def _fact(facts: FactSet, fact_type: str, scope: str, name: str | None = None) -> Fact:
    return next(f for f in facts.facts if f.type == fact_type and f.scope == scope and name in (None, f.name))


def _policy(*bindings: tuple[str, list[str]]) -> dict[str, Any]:
    return policy_attributes({"bindings": [{"role": r, "members": m} for r, m in bindings]}, "my-project")


def test_google_apis_service_agent_editor_does_not_fail_the_project(gcp_checks: dict[str, Check],
                                                                   collected: FactSet) -> None:
    """Every real project grants PROJECT_NUMBER@cloudservices roles/editor; Google says not to revoke it."""
    good = _fact(collected, POLICY, "good-project")
    assert {"role": "roles/editor", "members": ["serviceAccount:111111111111@cloudservices.gserviceaccount.com"],
            "conditional": False} in good.attributes["bindings"]
    assert good.attributes["service_account_primitive_grants"] == []
    assert good.attributes["service_account_impersonation_grants"] == []
    for check_id in ("no_primitive_roles_for_service_accounts", "no_project_wide_impersonation"):
        assert gcp_checks[f"{POLICY}.{check_id}"].evaluate(good, {}).status == "pass"
    bad = _fact(collected, POLICY, "bad-project")
    assert [g["member"] for g in bad.attributes["service_account_primitive_grants"]][:2] == [
        "serviceAccount:deployer@bad-project.iam.gserviceaccount.com",
        "serviceAccount:222222222222-compute@developer.gserviceaccount.com"]


def test_service_agents_are_excluded_but_user_managed_and_default_accounts_are_not() -> None:
    agents = ["serviceAccount:123@cloudservices.gserviceaccount.com",
              "serviceAccount:service-123@compute-system.iam.gserviceaccount.com",
              "serviceAccount:service-123@gcp-sa-pubsub.iam.gserviceaccount.com",
              "serviceAccount:service-org-456@gcp-sa-scc-notification.iam.gserviceaccount.com"]
    kept = ["serviceAccount:deployer@my-project.iam.gserviceaccount.com",
            "serviceAccount:123-compute@developer.gserviceaccount.com",
            "serviceAccount:my-project@appspot.gserviceaccount.com",
            # user-managed, merely named like an agent: its domain is the scanned project
            "serviceAccount:service-123456@my-project.iam.gserviceaccount.com",
            "serviceAccount:ci@cloudservices-lookalike.iam.gserviceaccount.com"]
    attrs = _policy(("roles/editor", agents + kept), ("roles/iam.serviceAccountTokenCreator", agents + kept))
    assert [g["member"] for g in attrs["service_account_primitive_grants"]] == kept
    assert [g["member"] for g in attrs["service_account_impersonation_grants"]] == kept
    assert [g["member"] for g in attrs["default_service_account_primitive_grants"]] == kept[1:3]


WORKFORCE = "principal://iam.googleapis.com/locations/global/workforcePools/partners/subject/carol@partner.example"
WORKLOAD = ("principalSet://iam.googleapis.com/projects/222222222222/locations/global/workloadIdentityPools/github/"
            "attribute.repository/acme/deploy")


def test_federated_identities_with_owner_or_editor_are_counted(collected: FactSet) -> None:
    """Workforce pool members are people, workload pool members are workloads."""
    bad = _fact(collected, POLICY, "bad-project").attributes
    assert {"role": "roles/owner", "member": WORKFORCE} in bad["human_primitive_grants"]
    assert {"role": "roles/editor", "member": WORKLOAD} in bad["service_account_primitive_grants"]
    good = _fact(collected, POLICY, "good-project").attributes
    assert good["human_primitive_grants"] == good["service_account_primitive_grants"] == []


def test_a_project_whose_only_owners_are_federated_fails(gcp_checks: dict[str, Check]) -> None:
    for member, check_id in [(WORKFORCE, "no_primitive_roles_for_users"),
                             ("principalSet://iam.googleapis.com/locations/global/workforcePools/staff/group/ops",
                              "no_primitive_roles_for_users"),
                             ("principalSet://iam.googleapis.com/locations/global/workforcePools/staff/*",
                              "no_primitive_roles_for_users"),
                             (WORKLOAD, "no_primitive_roles_for_service_accounts"),
                             ("principal://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/"
                              "my-project.svc.id.goog/subject/ns/prod/sa/api", "no_primitive_roles_for_service_accounts")]:
        fact = Fact("gcp", "my-project", "global", POLICY, "//p", "my-project", _policy(("roles/owner", [member])))
        assert gcp_checks[f"{POLICY}.{check_id}"].evaluate(fact, {}).status == "fail", member


def test_a_sink_with_an_empty_filter_but_an_enabled_exclusion_does_not_export_all_logs(
        gcp_checks: dict[str, Check], collected: FactSet) -> None:
    """bad-project's only empty-filter enabled sink excludes Data Access logs; good-project's exclusion is disabled."""
    check = gcp_checks["gcp.logging.project.export_all_logs"]
    bad = _fact(collected, "gcp.logging.project", "bad-project")
    sink = next(s for s in bad.attributes["sinks"] if s["name"] == "all-but-data-access")
    assert (sink["filter_empty"], sink["disabled"], sink["enabled_exclusions"]) == (True, False, ["no-data-access"])
    assert not bad.attributes["exports_all_logs"] and check.evaluate(bad, {}).status == "fail"
    good = _fact(collected, "gcp.logging.project", "good-project")
    sink = next(s for s in good.attributes["sinks"] if s["name"] == "all-logs-archive")
    assert sink["enabled_exclusions"] == [] and check.evaluate(good, {}).status == "pass"
