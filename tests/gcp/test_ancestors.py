"""Settings inherited from folders and the organization (routes/ancestors.json): read once per ancestor and scan.

organizations/800 > folders/810 > inheriting-project, sibling-project (no audit config of their own);
organizations/800 > folders/820 (denied) > restricted-project.
"""

from __future__ import annotations

from typing import Any

from posture_gcp.collectors.resourcemanager import audit_attributes
from posture_gcp.provider import GcpProvider

from posture.checks import Check
from posture.facts import Fact, FactSet
from tests.gcp.fake_gcp import FakeGcp

POLICY = "gcp.resourcemanager.iam_policy"
AUDIT_CHECKS = (f"{POLICY}.admin_read_audit_logs", f"{POLICY}.data_access_audit_logs")


def _run(fake: FakeGcp, projects: list[str], fact_types: set[str]) -> FactSet:
    provider = GcpProvider()
    options = {"gcp_api_endpoint": fake.url, "gcp_max_retries": 0, "project": projects}
    outcomes = [provider.collect(u) for u in provider.plan(fact_types, options).units]
    return FactSet(facts=[f for o in outcomes for f in o.facts], errors=[e for o in outcomes for e in o.errors],
                   coverage=[c for o in outcomes for c in o.coverage])


def _fact(facts: FactSet, fact_type: str, scope: str) -> Fact:
    return next(f for f in facts.facts if f.type == fact_type and f.scope == scope)


def _statuses(checks: dict[str, Check], fact: Fact, ids: tuple[str, ...]) -> dict[str, str]:
    return {i: checks[i].evaluate(fact, {}).status for i in ids}


def test_audit_config_of_the_folder_and_organization_applies_to_the_project(fake_gcp: FakeGcp,
                                                                            gcp_checks: dict[str, Check]) -> None:
    """inheriting-project has no auditConfigs; folders/810 enables ADMIN_READ, organizations/800 DATA_READ/WRITE."""
    facts = _run(fake_gcp, ["inheriting-project"], {POLICY})
    assert not facts.errors
    attrs = _fact(facts, POLICY, "inheriting-project").attributes
    assert attrs["audit_all_services"] == {"log_types": ["ADMIN_READ", "DATA_READ", "DATA_WRITE"],
                                           "exempted_members": []}
    assert attrs["audit_inherited_from"] == ["folders/810", "organizations/800"]
    assert attrs["unreadable_ancestors"] == []
    assert _statuses(gcp_checks, _fact(facts, POLICY, "inheriting-project"), AUDIT_CHECKS) == dict.fromkeys(
        AUDIT_CHECKS, "pass")


def test_a_denied_folder_is_named_and_the_projects_own_config_still_passes(fake_gcp: FakeGcp,
                                                                           gcp_checks: dict[str, Check]) -> None:
    facts = _run(fake_gcp, ["restricted-project"], {POLICY})
    assert not facts.errors and [c.fact_type for c in facts.coverage] == [POLICY]
    fact = _fact(facts, POLICY, "restricted-project")
    assert fact.attributes["unreadable_ancestors"] == ["folders/820"]
    assert _statuses(gcp_checks, fact, AUDIT_CHECKS) == dict.fromkeys(AUDIT_CHECKS, "pass")


def test_exemptions_of_any_level_add_up() -> None:
    own = {"auditConfigs": [{"service": "allServices", "auditLogConfigs": [{"logType": "DATA_READ"}]}]}
    org = {"auditConfigs": [{"service": "allServices", "auditLogConfigs": [
        {"logType": "DATA_READ", "exemptedMembers": ["user:bob@example.com"]}, {"logType": "DATA_WRITE"}]}]}
    assert audit_attributes([own, org])["audit_all_services"] == {
        "log_types": ["DATA_READ", "DATA_WRITE"], "exempted_members": ["user:bob@example.com"]}


def test_existing_projects_keep_their_results_with_their_ancestors_read(collected: FactSet) -> None:
    """bad-project (folders/200 > organizations/100) gains no allServices log type from its ancestors."""
    bad: dict[str, Any] = _fact(collected, POLICY, "bad-project").attributes
    assert bad["audit_all_services"]["log_types"] == ["DATA_READ", "DATA_WRITE"]
    assert bad["audit_inherited_from"] == ["organizations/100"] and bad["unreadable_ancestors"] == []


def test_ancestor_policies_are_read_once_per_scan_for_all_projects_below(fake_gcp: FakeGcp) -> None:
    fake_gcp.reset()
    _run(fake_gcp, ["inheriting-project", "sibling-project", "restricted-project"], {POLICY})
    ancestors = sorted(c.path for c in fake_gcp.requests_to() if not c.path.startswith("/v3/projects/"))
    assert ancestors == ["/v3/folders/810", "/v3/folders/810:getIamPolicy", "/v3/folders/820",
                         "/v3/folders/820:getIamPolicy", "/v3/organizations/800:getIamPolicy"]
    # per project: projects.get (its parent) and its own getIamPolicy
    assert len(fake_gcp.requests_to("/v3/projects/")) == 3 * 2


# ------------------------------------------------------------------------------ aggregated sinks
SINKS = "gcp.logging.project"
EXPORT = f"{SINKS}.export_all_logs"


def test_an_aggregated_organization_sink_exports_the_projects_logs(fake_gcp: FakeGcp,
                                                                   gcp_checks: dict[str, Check]) -> None:
    """inheriting-project has only _Required/_Default; organizations/800's includeChildren sink has an empty
    filter. folders/810's includeChildren sink does not count: it has an enabled exclusion."""
    facts = _run(fake_gcp, ["inheriting-project"], {SINKS})
    assert not facts.errors
    fact = _fact(facts, SINKS, "inheriting-project")
    inherited = {(s["parent"], s["name"], s["enabled_exclusions"] == []) for s in fact.attributes["inherited_sinks"]}
    assert inherited == {("folders/810", "inherited-no-debug", False), ("organizations/800", "org-all-logs", True)}
    assert fact.attributes["exports_all_logs"] and gcp_checks[EXPORT].evaluate(fact, {}).status == "pass"


def test_ancestor_sinks_without_include_children_or_with_a_filter_do_not_count(collected: FactSet,
                                                                                gcp_checks: dict[str, Check]) -> None:
    """bad-project: folders/200's empty-filter sink lacks includeChildren, organizations/100's has a filter."""
    fact = _fact(collected, SINKS, "bad-project")
    assert [(s["parent"], s["name"]) for s in fact.attributes["inherited_sinks"]] == [
        ("organizations/100", "org-audit-to-bq")]
    assert not fact.attributes["exports_all_logs"] and gcp_checks[EXPORT].evaluate(fact, {}).status == "fail"


def test_denied_ancestor_sinks_are_named_and_the_projects_own_sink_still_passes(
        fake_gcp: FakeGcp, gcp_checks: dict[str, Check]) -> None:
    facts = _run(fake_gcp, ["restricted-project"], {SINKS})
    assert not facts.errors and [c.fact_type for c in facts.coverage] == [SINKS]
    fact = _fact(facts, SINKS, "restricted-project")
    assert fact.attributes["unreadable_ancestors"] == ["folders/820"] and fact.attributes["inherited_sinks"] == []
    assert gcp_checks[EXPORT].evaluate(fact, {}).status == "pass"


def test_ancestor_sinks_are_listed_once_per_scan_for_all_projects_below(fake_gcp: FakeGcp) -> None:
    fake_gcp.reset()
    _run(fake_gcp, ["inheriting-project", "sibling-project", "restricted-project"], {SINKS, POLICY})
    paths = [c.path for c in fake_gcp.requests_to()]
    assert sorted(p for p in paths if p.startswith(("/v2/folders/", "/v2/organizations/"))) == [
        "/v2/folders/810/sinks", "/v2/folders/820/sinks", "/v2/organizations/800/sinks"]
    # the chain (projects.get, folders.get) is shared with the audit-config reads
    assert sorted(p for p in paths if p.startswith("/v3/") and not p.endswith(":getIamPolicy")) == [
        "/v3/folders/810", "/v3/folders/820", "/v3/projects/inheriting-project", "/v3/projects/restricted-project",
        "/v3/projects/sibling-project"]


# ------------------------------------------------------------------------------ discovered scopes
def _collect_plan(fake: FakeGcp, options: dict[str, Any], fact_types: set[str]) -> FactSet:
    provider = GcpProvider()
    outcomes = [provider.collect(u) for u in provider.plan(fact_types, {"gcp_api_endpoint": fake.url,
                                                                         "gcp_max_retries": 0, **options}).units]
    return FactSet(facts=[f for o in outcomes for f in o.facts], errors=[e for o in outcomes for e in o.errors],
                   coverage=[c for o in outcomes for c in o.coverage])


def test_a_discovered_scan_reuses_the_parents_discovery_learnt(fake_gcp: FakeGcp) -> None:
    """organizations/100 > good-project, folders/200 > bad-project, folders/200 > folders/300 > denied-project:
    projects.search and folders.list gave every parent, so no projects.get / folders.get is made."""
    fake_gcp.reset()
    discovered = _collect_plan(fake_gcp, {"organization": ["100"]}, {POLICY, SINKS})
    gets = [c.path for c in fake_gcp.requests_to(method="GET") if c.path.startswith(("/v3/projects/", "/v3/folders/"))]
    assert gets == []
    explicit = _collect_plan(fake_gcp, {"project": ["good-project", "bad-project", "denied-project"]}, {POLICY, SINKS})
    for fact_type in (POLICY, SINKS):
        for scope in ("good-project", "bad-project", "denied-project"):
            found = [f.attributes for f in discovered.facts if f.type == fact_type and f.scope == scope]
            assert found == [f.attributes for f in explicit.facts if f.type == fact_type and f.scope == scope]


def test_the_root_folder_of_a_discovered_scan_is_still_read(fake_gcp: FakeGcp) -> None:
    """--folder 200: bad-project's parent comes from the search; folders/200's own parent needs folders.get."""
    fake_gcp.reset()
    facts = _collect_plan(fake_gcp, {"folder": ["200"]}, {POLICY})
    gets = [c.path for c in fake_gcp.requests_to(method="GET") if c.path.startswith(("/v3/projects/", "/v3/folders/"))]
    assert gets == ["/v3/folders/200"]
    assert _fact(facts, POLICY, "bad-project").attributes["audit_inherited_from"] == ["organizations/100"]
