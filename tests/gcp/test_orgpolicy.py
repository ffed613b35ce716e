"""Organization policy constraints (routes/orgpolicy.json): enforced fleet-wide, they pass what the resource alone fails.

policy-project inherits storage.publicAccessPrevention, compute.requireOsLogin and compute.disableSerialPortAccess;
policy-denied-project has the same resources and its effective policies are denied.
"""

from __future__ import annotations

from typing import Any

import pytest
from posture_gcp.collectors.orgpolicy import enforced_by
from posture_gcp.provider import GcpProvider

from posture.checks import Check
from posture.facts import Fact, FactSet
from tests.gcp.fake_gcp import FakeGcp

BUCKET, INSTANCE = "gcp.storage.bucket", "gcp.compute.instance"
BUCKET_CHECKS = (f"{BUCKET}.public_access_prevention", f"{BUCKET}.not_public")
INSTANCE_CHECKS = (f"{INSTANCE}.os_login", f"{INSTANCE}.serial_port_disabled", f"{INSTANCE}.block_project_ssh_keys")
CONSTRAINTS = ("storage.publicAccessPrevention", "compute.requireOsLogin", "compute.disableSerialPortAccess")


def _run(fake: FakeGcp, projects: list[str], fact_types: set[str], twice: bool = False) -> FactSet:
    provider = GcpProvider()
    options = {"gcp_api_endpoint": fake.url, "gcp_max_retries": 0, "project": projects}
    units = provider.plan(fact_types, options).units
    outcomes = [provider.collect(u) for u in units * (2 if twice else 1)]
    return FactSet(facts=[f for o in outcomes for f in o.facts], errors=[e for o in outcomes for e in o.errors],
                   coverage=[c for o in outcomes for c in o.coverage])


def _facts(facts: FactSet, fact_type: str, scope: str) -> list[Fact]:
    return [f for f in facts.facts if f.type == fact_type and f.scope == scope]


def _statuses(checks: dict[str, Check], facts: list[Fact], ids: tuple[str, ...]) -> dict[tuple[str, str], str]:
    return {(f.name, i): checks[i].evaluate(f, {}).status for f in facts for i in ids}


def test_enforced_constraints_pass_buckets_and_instances(fake_gcp: FakeGcp, gcp_checks: dict[str, Check]) -> None:
    fake_gcp.reset()
    facts = _run(fake_gcp, ["policy-project"], {BUCKET, INSTANCE})
    assert not facts.errors and sorted(c.fact_type for c in facts.coverage) == [INSTANCE, BUCKET]
    buckets = _facts(facts, BUCKET, "policy-project")
    inherited = next(b for b in buckets if b.name == "policy-project-inherited").attributes
    assert inherited["public_access_prevention"] == "inherited"
    assert inherited["org_policy_public_access_prevention"] is True and inherited["org_policy_errors"] == {}
    # Public access prevention blocks the public IAM grant and default object ACL: neither is read or counted.
    assert inherited["public_grants"] == [] and inherited["default_object_acl_public"] == []
    assert not fake_gcp.requests_to("/iam", "GET")
    assert set(_statuses(gcp_checks, buckets, BUCKET_CHECKS).values()) == {"pass"}
    instances = _facts(facts, INSTANCE, "policy-project")
    assert len(instances) == 2
    for vm in instances:
        assert (vm.attributes["os_login_enabled"], vm.attributes["serial_port_enabled"]) == (False, True)
        assert vm.attributes["org_policy_require_os_login"] is True
        assert vm.attributes["org_policy_disable_serial_port_access"] is True
    assert set(_statuses(gcp_checks, instances, INSTANCE_CHECKS).values()) == {"pass"}


def test_a_denied_org_policy_api_is_no_error_and_resources_are_judged_alone(fake_gcp: FakeGcp,
                                                                            gcp_checks: dict[str, Check]) -> None:
    facts = _run(fake_gcp, ["policy-denied-project"], {BUCKET, INSTANCE})
    assert not facts.errors and sorted(c.fact_type for c in facts.coverage) == [INSTANCE, BUCKET]
    buckets = _facts(facts, BUCKET, "policy-denied-project")
    inherited = next(b for b in buckets if b.name == "policy-denied-project-inherited").attributes
    assert inherited["org_policy_public_access_prevention"] is None
    assert inherited["org_policy_errors"] == {"storage.publicAccessPrevention": "PERMISSION_DENIED"}
    assert inherited["public_grants"] == [{"role": "roles/storage.objectViewer", "member": "allUsers"}]
    assert inherited["default_object_acl_public"] == [{"role": "READER", "entity": "allUsers"}]
    statuses = _statuses(gcp_checks, buckets, BUCKET_CHECKS)
    assert {k: v for k, v in statuses.items() if k[0] == "policy-denied-project-inherited"} == {
        ("policy-denied-project-inherited", i): "fail" for i in BUCKET_CHECKS}
    instances = _facts(facts, INSTANCE, "policy-denied-project")
    for vm in instances:
        assert vm.attributes["org_policy_require_os_login"] is None
        assert vm.attributes["org_policy_disable_serial_port_access"] is None
        assert vm.attributes["org_policy_errors"] == {"compute.requireOsLogin": "PERMISSION_DENIED",
                                                      "compute.disableSerialPortAccess": "PERMISSION_DENIED"}
    assert set(_statuses(gcp_checks, instances, INSTANCE_CHECKS).values()) == {"fail"}


def test_not_enforced_constraints_keep_the_old_results(collected: FactSet, gcp_checks: dict[str, Check]) -> None:
    """bad-project's effective policies do not enforce the constraints: its buckets and VMs still fail."""
    bucket = next(f for f in _facts(collected, BUCKET, "bad-project") if f.name == "bad-public-data")
    assert bucket.attributes["org_policy_public_access_prevention"] is False
    assert {i: gcp_checks[i].evaluate(bucket, {}).status for i in BUCKET_CHECKS} == dict.fromkeys(BUCKET_CHECKS,
                                                                                                  "fail")
    vm = next(f for f in _facts(collected, INSTANCE, "bad-project") if f.name == "vm-public")
    assert vm.attributes["org_policy_require_os_login"] is False
    assert vm.attributes["org_policy_disable_serial_port_access"] is False
    assert gcp_checks[f"{INSTANCE}.os_login"].evaluate(vm, {}).status == "fail"


def test_one_call_per_constraint_per_project_and_scan(fake_gcp: FakeGcp) -> None:
    """Every unit collected twice in one scan: the effective policies are still read once per project."""
    fake_gcp.reset()
    _run(fake_gcp, ["policy-project", "policy-denied-project", "bad-project"], {BUCKET, INSTANCE}, twice=True)
    reads = sorted(c.path for c in fake_gcp.requests_to(":getEffectivePolicy"))
    assert reads == sorted(f"/v2/projects/{p}/policies/{c}:getEffectivePolicy"
                           for p in ("policy-project", "policy-denied-project", "bad-project") for c in CONSTRAINTS)


def test_constraints_are_read_only_when_a_resource_needs_them(fake_gcp: FakeGcp) -> None:
    """good-project's VMs pass by their metadata and one bucket is 'inherited': only that constraint is read."""
    fake_gcp.reset()
    facts = _run(fake_gcp, ["good-project"], {BUCKET, INSTANCE, "gcp.compute.firewall"})
    assert [c.path for c in fake_gcp.requests_to(":getEffectivePolicy")] == [
        "/v2/projects/good-project/policies/storage.publicAccessPrevention:getEffectivePolicy"]
    vm: dict[str, Any] = _facts(facts, INSTANCE, "good-project")[0].attributes
    assert vm["org_policy_require_os_login"] is None and vm["org_policy_errors"] == {}
    fake_gcp.reset()
    _run(fake_gcp, ["good-project"], {"gcp.compute.firewall", "gcp.sql.instance"})
    assert not fake_gcp.requests_to(":getEffectivePolicy")


@pytest.mark.parametrize(("policy", "enforced"), [
    ({"name": "projects/1/policies/compute.requireOsLogin", "spec": {"rules": [{"enforce": True}]}}, True),
    ({"name": "projects/1/policies/compute.requireOsLogin", "spec": {"rules": [{"enforce": False}]}}, False),
    ({"name": "projects/1/policies/compute.requireOsLogin", "spec": {}}, False),
    ({"name": "projects/1/policies/compute.requireOsLogin"}, False),
    ({"name": "projects/1/policies/compute.requireOsLogin", "spec": {"rules": [
        {"enforce": True, "condition": {"expression": "resource.matchTag('123/env', 'prod')"}},
        {"enforce": False}]}}, False),
])
def test_a_boolean_constraint_is_enforced_by_an_unconditional_rule(policy: dict[str, Any], enforced: bool) -> None:
    assert enforced_by(policy) is enforced
