"""IAM-01/IAM-02 (Security Command Center findings) and INV-02 (Policy Analyzer key activity) collection.

Facts come from real discovery clients against the fake GCP server; a second
fake with its own routes covers the projects the shared fixtures do not
(no user-managed keys, Policy Analyzer disabled).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from posture_gcp.collectors.iam import ACTIVITY_HINT
from posture_gcp.collectors.securitycenter import FILTER
from posture_gcp.provider import GcpProvider

from posture.checks import Check
from posture.facts import Fact, FactSet
from tests.gcp.fake_gcp import FakeGcp, error_body

KEYS = "gcp.iam.service_account_key"
SCC = "gcp.securitycenter.identity_findings"
ACTIVITY = "/locations/global/activityTypes/serviceAccountKeyLastAuthentication/activities:query"


def _fact(facts: FactSet, fact_type: str, scope: str, name: str) -> Fact:
    return next(f for f in facts.facts if f.type == fact_type and f.scope == scope and f.name == name)


def _run(fake: FakeGcp, project: str | list[str], fact_types: set[str]) -> FactSet:
    provider = GcpProvider()
    projects = [project] if isinstance(project, str) else project
    options = {"gcp_api_endpoint": fake.url, "gcp_max_retries": 0, "project": projects}
    outcomes = [provider.collect(u) for u in provider.plan(fact_types, options).units]
    return FactSet(facts=[f for o in outcomes for f in o.facts], errors=[e for o in outcomes for e in o.errors],
                   coverage=[c for o in outcomes for c in o.coverage])


# ------------------------------------------------------------------ Security Command Center
def test_mfa_findings_are_read_at_the_projects_organization_on_every_page(collected: FactSet,
                                                                          fake_gcp: FakeGcp) -> None:
    bad = _fact(collected, SCC, "bad-project", "bad-project").attributes
    assert (bad["parent"], bad["mfa_not_enforced_active"]) == ("organizations/900", 2)
    assert {f["name"] for f in bad["findings"]} == {"organizations/900/sources/11/findings/f0mfa1",
                                                    "organizations/900/sources/11/findings/f0mfa2"}
    good = _fact(collected, SCC, "good-project", "good-project").attributes
    assert (good["parent"], good["mfa_not_enforced_active"], good["reported"]) == ("organizations/100", 0, True)


def test_findings_are_filtered_server_side_to_active_mfa_findings(fake_gcp: FakeGcp) -> None:
    fake_gcp.reset()
    _run(fake_gcp, "good-project", {SCC})
    (call,) = fake_gcp.requests_to("/sources/-/findings")
    assert call.values("filter") == [FILTER] == ['state="ACTIVE" AND category="MFA_NOT_ENFORCED"']


def test_security_command_center_disabled_is_an_error_with_a_hint_not_a_pass(collected: FactSet) -> None:
    (err,) = [e for e in collected.errors if e.scope == "denied-project" and e.fact_type == SCC]
    assert (err.code, err.not_applicable) == ("SERVICE_DISABLED", False)
    assert "activate Security Command Center" in err.message
    assert not [f for f in collected.facts if f.scope == "denied-project" and f.type == SCC]


# ------------------------------------------------------------------------ Policy Analyzer
def test_key_facts_carry_last_authentication_from_every_activity_page(collected: FactSet) -> None:
    aa01 = _fact(collected, KEYS, "bad-project", "deployer@bad-project.iam.gserviceaccount.com/aa01").attributes
    assert aa01["last_authenticated_time"] is not None  # second page of the activity query
    bb01 = _fact(collected, KEYS, "bad-project", "222222222222-compute@developer.gserviceaccount.com/bb01")
    assert bb01.attributes["last_authenticated_time"] is not None
    never = _fact(collected, KEYS, "good-project", "ci-sa@good-project.iam.gserviceaccount.com/9f1e0c")
    assert never.attributes["last_authenticated_time"] is None
    assert never.id == ("//iam.googleapis.com/projects/good-project/serviceAccounts/"
                        "ci-sa@good-project.iam.gserviceaccount.com/keys/9f1e0c")


def test_activity_of_a_key_that_no_longer_exists_adds_no_fact(collected: FactSet) -> None:
    assert not [f for f in collected.facts if f.type == KEYS and "old-sa@" in f.name]


def test_service_accounts_alone_make_no_policy_analyzer_or_scc_call(fake_gcp: FakeGcp) -> None:
    fake_gcp.reset()
    facts = _run(fake_gcp, "bad-project", {"gcp.iam.service_account"})
    assert [f for f in facts.facts if f.type == "gcp.iam.service_account"]
    assert not fake_gcp.requests_to("activityTypes") and not fake_gcp.requests_to("/sources/") and not fake_gcp.requests_to(
        ":getAncestry")


# --------------------------------------------------------------- projects of a second fake
@pytest.fixture(scope="module")
def other_fake(fake_gcp: FakeGcp, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeGcp]:
    """keyless-project: an account without keys; pa-off-project: a key, Policy Analyzer disabled;
    org-a-one and org-a-two: two projects of organization 700."""
    sa = "projects/{p}/serviceAccounts/app@{p}.iam.gserviceaccount.com"
    routes: dict[str, Any] = {}
    for p in ("keyless-project", "pa-off-project"):
        routes[f"GET /v1/projects/{p}/serviceAccounts"] = {"accounts": [
            {"name": sa.format(p=p), "email": f"app@{p}.iam.gserviceaccount.com"}]}
    routes[f"GET /v1/{sa.format(p='keyless-project')}/keys"] = {}
    routes[f"GET /v1/{sa.format(p='pa-off-project')}/keys"] = {"keys": [
        {"name": sa.format(p="pa-off-project") + "/keys/k1", "validAfterTime": "{{days_ago:5}}",
         "keyType": "USER_MANAGED"}]}
    routes[f"GET /v1/projects/pa-off-project{ACTIVITY}"] = error_body(
        403, "PERMISSION_DENIED", "Policy Analyzer API has not been used in project 5 before or it is disabled.",
        "SERVICE_DISABLED")
    for p in ("org-a-one", "org-a-two"):
        routes[f"POST /v1/projects/{p}:getAncestry"] = {"ancestor": [
            {"resourceId": {"type": "project", "id": p}}, {"resourceId": {"type": "organization", "id": "700"}}]}
    routes["GET /v1/organizations/700/sources/-/findings"] = {"listFindingsResults": [{"finding": {
        "name": "organizations/700/sources/1/findings/m", "category": "MFA_NOT_ENFORCED", "state": "ACTIVE",
        "resourceName": "//cloudresourcemanager.googleapis.com/organizations/700"}}]}
    folder = tmp_path_factory.mktemp("other-routes")
    (folder / "other.json").write_text(json.dumps(routes), encoding="utf-8")
    fake = FakeGcp(folder)
    fake.jwt_signers.extend(fake_gcp.jwt_signers)  # the same ADC key signs its own JWTs
    fake.start()
    yield fake
    fake.stop()


def test_a_project_without_user_managed_keys_makes_no_activity_query(other_fake: FakeGcp) -> None:
    facts = _run(other_fake, "keyless-project", {KEYS})
    assert not facts.errors and not [f for f in facts.facts if f.type == KEYS]
    assert [c.fact_type for c in facts.coverage] == [KEYS]
    assert not other_fake.requests_to("activityTypes")


def test_policy_analyzer_disabled_is_an_error_for_keys_only(other_fake: FakeGcp) -> None:
    facts = _run(other_fake, "pa-off-project", {KEYS, "gcp.iam.service_account"})
    assert [(e.fact_type, e.code, e.not_applicable) for e in facts.errors] == [(KEYS, "SERVICE_DISABLED", False)]
    assert ACTIVITY_HINT in facts.errors[0].message
    assert {f.type for f in facts.facts} == {"gcp.iam.service_account"}


def test_projects_of_one_organization_share_one_findings_call(other_fake: FakeGcp) -> None:
    other_fake.reset()
    facts = _run(other_fake, ["org-a-one", "org-a-two"], {SCC})
    assert {(f.scope, f.attributes["mfa_not_enforced_active"]) for f in facts.facts} == {("org-a-one", 1),
                                                                                         ("org-a-two", 1)}
    assert len(other_fake.requests_to("/sources/-/findings")) == 1
    assert len(other_fake.requests_to(":getAncestry")) == 2


# ---------------------------------------------------------------------------- the INV-02 check
def _key(**attrs: Any) -> Fact:
    base = {"service_account_email": "a@p.iam.gserviceaccount.com", "service_account_disabled": False,
            "key_id": "k", "disabled": False, "last_authenticated_time": None,
            "valid_after_time": (datetime.now(UTC) - timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%SZ")}
    return Fact("gcp", "p", "global", KEYS, "//iam.googleapis.com/k", "a/k", {**base, **attrs})


def _days_ago(n: int) -> str:
    return (datetime.now(UTC) - timedelta(days=n)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize(("attrs", "status"), [
    ({"valid_after_time": _days_ago(400)}, "fail"),  # never used, old
    ({"valid_after_time": _days_ago(10)}, "pass"),  # never used, new
    ({"valid_after_time": _days_ago(400), "last_authenticated_time": _days_ago(3)}, "pass"),
    ({"valid_after_time": _days_ago(400), "last_authenticated_time": _days_ago(120)}, "fail"),
    ({"valid_after_time": _days_ago(400), "disabled": True}, "pass"),
    ({"valid_after_time": _days_ago(400), "service_account_disabled": True}, "pass"),
])
def test_unused_key_check_judges_last_use_then_creation(attrs: dict[str, Any], status: str,
                                                        gcp_checks: dict[str, Check]) -> None:
    check = gcp_checks["gcp.iam.service_account_key.unused_disabled"]
    assert check.evaluate(_key(**attrs), {"max_credential_unused_days": 90}).status == status


def test_unused_key_limit_follows_the_tier_parameter(gcp_checks: dict[str, Check], collected: FactSet) -> None:
    """The 10-day-old never-used key passes at 90 days and fails at a 7-day limit."""
    check = gcp_checks["gcp.iam.service_account_key.unused_disabled"]
    fact = _fact(collected, KEYS, "good-project", "ci-sa@good-project.iam.gserviceaccount.com/9f1e0c")
    assert check.evaluate(fact, {"max_credential_unused_days": 90}).status == "pass"
    assert check.evaluate(fact, {"max_credential_unused_days": 7}).status == "fail"


def test_route_files_stay_valid_json() -> None:
    routes = Path(__file__).resolve().parents[1] / "fixtures" / "gcp" / "routes"
    for path in routes.glob("*.json"):
        assert isinstance(json.loads(path.read_text(encoding="utf-8")), dict), path
