"""The engine turns facts into results and tier attainment, deterministically."""

from __future__ import annotations

from posture.engine import evaluate
from posture.facts import read_fact_file, write_fact_file
from posture.scan import plan_scan, run_scan
from posture.tiers import load_tier


def by_resource(report) -> dict[tuple[str, str], str]:
    return {(r.check_id, r.resource_id): r.status for r in report.results}


def test_scan_gives_exact_status_for_each_resource(fake_cloud) -> None:
    report = run_scan("tier-1", ["fake"])
    got = by_resource(report)
    assert got[("fake.iam.user.mfa", "user/alice")] == "pass"
    assert got[("fake.iam.user.mfa", "user/bob")] == "fail"
    assert got[("fake.iam.user.mfa", "user/robot")] == "not_applicable"
    assert got[("fake.storage.bucket.not_public", "bucket/public-site")] == "fail"
    assert got[("fake.storage.bucket.not_public", "bucket/private")] == "pass"
    assert got[("fake.iam.key.rotated", "key/AKIAOLD")] == "pass"  # 200 days <= 365


def test_denied_collection_becomes_error_results_for_exactly_the_checks_needing_it(fake_cloud) -> None:
    report = run_scan("tier-1", ["fake"])
    errors = [r for r in report.results if r.status == "error"]
    assert [(r.check_id, r.scope, r.error_code) for r in errors] == [
        ("fake.iam.user.mfa", "222222222222", "AccessDenied")]
    assert report.coverage["errors"][0]["code"] == "AccessDenied"
    # the rest of the denied scope was still assessed
    assert by_resource(report)[("fake.storage.bucket.not_public", "bucket/other")] == "pass"


def test_tier_parameters_tighten_results(fake_cloud) -> None:
    report = run_scan("tier-2", ["fake"])
    assert by_resource(report)[("fake.iam.key.rotated", "key/AKIAOLD")] == "fail"  # 200 days > tier-2 limit


def test_only_fact_types_needed_by_the_tier_are_collected(fake_cloud) -> None:
    tier = load_tier("tier-1")
    plan = plan_scan(tier, ["fake"])
    assert plan.fact_types == {c.fact_type for c in plan.checks}
    run_scan(tier, ["fake"])
    collected = {ft for unit in fake_cloud.PROVIDER.collected for ft in unit}
    assert collected == plan.fact_types


def test_attainment_is_computed_per_scope_for_every_tier_of_the_chain(fake_cloud) -> None:
    report = run_scan("tier-2", ["fake"])
    att = {(a.tier, a.scope): a for a in report.attainment}
    assert {t for t, _ in att} == {"tier-1", "tier-2"}
    assert att[("tier-1", "111111111111")].status == "not_attained"  # bob has no MFA
    key_control = {c.control: c for c in att[("tier-1", "111111111111")].controls}["IAM-05"]
    assert key_control.status == "pass"  # 200-day key is fine for tier-1...
    key_control_t2 = {c.control: c for c in att[("tier-2", "111111111111")].controls}["IAM-05"]
    assert key_control_t2.status == "fail"  # ...but not for tier-2
    # no failure in scope 2, but a denied fact type and controls with no fake check: incomplete, never attained
    assert att[("tier-1", "222222222222")].status in {"incomplete", "not_attained"}
    controls2 = {c.control: c.status for c in att[("tier-1", "222222222222")].controls}
    assert controls2["IAM-01"] == "error"
    assert "not_assessed" in controls2.values()


def test_evaluate_on_saved_facts_reproduces_the_scan(fake_cloud, tmp_path) -> None:
    from posture.plugins import registry
    from posture.scan import collect_facts

    plan = plan_scan("tier-2", ["fake"])
    facts = collect_facts(plan, {})
    scanned = evaluate(facts, plan.tier, registry().checks, providers=["fake"])
    path = tmp_path / "facts.jsonl"
    write_fact_file(path, facts)
    replayed = evaluate(read_fact_file(path), load_tier("tier-2"), registry().checks, providers=["fake"])
    assert replayed.to_dict() == scanned.to_dict()
