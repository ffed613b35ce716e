"""Regression tests for confirmed false passes / false fails, on facts collected from the fake GCP server."""

from __future__ import annotations

from typing import Any

import pytest
from posture_gcp.collectors.resourcemanager import policy_attributes
from posture_gcp.collectors.storage import bucket_attributes
from posture_gcp.provider import GcpProvider

from posture.checks import Check
from posture.facts import Fact, FactSet
from tests.gcp.fake_gcp import FakeGcp

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


def test_a_public_default_object_acl_makes_a_bucket_public(gcp_checks: dict[str, Check], collected: FactSet,
                                                           fake_gcp: FakeGcp) -> None:
    """Without uniform access, defaultObjectAcl allUsers READER makes every new object public; the IAM policy
    does not show it. It comes with the bucket list (projection=full), not from a request per bucket."""
    check = gcp_checks["gcp.storage.bucket.not_public"]
    public = _fact(collected, "gcp.storage.bucket", "bad-project", "bad-default-acl")
    assert public.attributes["public_grants"] == []
    assert public.attributes["default_object_acl_public"] == [{"role": "READER", "entity": "allUsers"}]
    assert check.evaluate(public, {}).status == "fail"
    private = _fact(collected, "gcp.storage.bucket", "bad-project", "bad-legacy-acl")
    assert private.attributes["default_object_acl_public"] == [] and check.evaluate(private, {}).status == "pass"
    fake_gcp.reset()
    provider = GcpProvider()
    for unit in provider.plan({"gcp.storage.bucket"}, {"gcp_api_endpoint": fake_gcp.url,
                                                       "project": ["bad-project"]}).units:
        provider.collect(unit)
    calls = fake_gcp.requests_to()
    assert {c.param("projection") or "" for c in calls if c.path == "/storage/v1/b"} == {"full"}
    assert not [c.path for c in calls if c.path.endswith(("/acl", "/defaultObjectAcl"))]
    assert len(calls) == 2 + 3 + 1  # two list pages, the IAM policy of each bucket (none enforces prevention),
    # and the project's storage.publicAccessPrevention effective policy (read because a bucket is "inherited")
    assert [c.path for c in calls if not c.path.startswith("/storage/")] == [
        "/v2/projects/bad-project/policies/storage.publicAccessPrevention:getEffectivePolicy"]


@pytest.mark.parametrize(("uniform", "prevention", "flagged"), [
    (False, "inherited", True), (False, "enforced", False), (True, "inherited", False)])
def test_default_object_acl_counts_only_where_acls_take_effect(uniform: bool, prevention: str,
                                                               flagged: bool) -> None:
    from google.cloud.storage import Bucket

    bucket = Bucket(None, name="b")
    bucket._set_properties({"name": "b", "iamConfiguration": {
        "uniformBucketLevelAccess": {"enabled": uniform}, "publicAccessPrevention": prevention},
        "defaultObjectAcl": [{"entity": "allAuthenticatedUsers", "role": "READER"}]})
    assert bool(bucket_attributes(bucket, [])["default_object_acl_public"]) is flagged
