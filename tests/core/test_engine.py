"""The engine turns facts into results and tier attainment, deterministically."""

from __future__ import annotations

from posture.cli.common import installed_pipeline
from posture.engine import evaluate
from posture.facts import read_fact_file, write_fact_file
from posture.tiers import load_tier


def by_resource(report) -> dict[tuple[str, str], str]:
    return {(r.check_id, r.resource_id): r.status for r in report.results}


def test_scan_gives_exact_status_for_each_resource(fake_cloud) -> None:
    report = installed_pipeline().run("tier-1", ["fake"])
    got = by_resource(report)
    assert got[("fake.iam.user.mfa", "user/alice")] == "pass"
    assert got[("fake.iam.user.mfa", "user/bob")] == "fail"
    assert got[("fake.iam.user.mfa", "user/robot")] == "not_applicable"
    assert got[("fake.storage.bucket.not_public", "bucket/public-site")] == "fail"
    assert got[("fake.storage.bucket.not_public", "bucket/private")] == "pass"
    assert got[("fake.iam.key.rotated", "key/AKIAOLD")] == "pass"  # 200 days <= 365


def test_denied_collection_becomes_error_results_for_exactly_the_checks_needing_it(fake_cloud) -> None:
    report = installed_pipeline().run("tier-1", ["fake"])
    errors = [r for r in report.results if r.status == "error"]
    assert [(r.check_id, r.scope, r.error_code) for r in errors] == [
        ("fake.iam.user.mfa", "222222222222", "AccessDenied")]
    assert report.coverage["errors"][0]["code"] == "AccessDenied"
    # the rest of the denied scope was still assessed
    assert by_resource(report)[("fake.storage.bucket.not_public", "bucket/other")] == "pass"


def test_tier_parameters_tighten_results(fake_cloud) -> None:
    report = installed_pipeline().run("tier-2", ["fake"])
    assert by_resource(report)[("fake.iam.key.rotated", "key/AKIAOLD")] == "fail"  # 200 days > tier-2 limit


def test_only_fact_types_needed_by_the_tier_are_collected(fake_cloud) -> None:
    tier = load_tier("tier-1")
    plan = installed_pipeline().plan(tier, ["fake"])
    assert plan.fact_types == {c.fact_type for c in plan.checks}
    installed_pipeline().run(tier, ["fake"])
    collected = {ft for unit in fake_cloud.PROVIDER.collected for ft in unit}
    assert collected == plan.fact_types


def test_attainment_is_computed_per_scope_for_every_tier_of_the_chain(fake_cloud) -> None:
    report = installed_pipeline().run("tier-2", ["fake"])
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

    plan = installed_pipeline().plan("tier-2", ["fake"])
    facts = installed_pipeline().collect(plan, {})
    scanned = evaluate(facts, plan.tier, registry().checks, providers=["fake"])
    path = tmp_path / "facts.jsonl"
    write_fact_file(path, facts)
    replayed = evaluate(read_fact_file(path), load_tier("tier-2"), registry().checks, providers=["fake"])
    assert replayed.to_dict() == scanned.to_dict()


def test_fact_file_lines_validate_against_the_published_schema(fake_cloud, tmp_path) -> None:
    import json

    import jsonschema


    path = tmp_path / "facts.jsonl"
    write_fact_file(path, installed_pipeline().collect(installed_pipeline().plan("tier-1", ["fake"]), {}))
    from pathlib import Path

    import posture

    schema = json.loads((Path(posture.__file__).parent / "schemas" / "facts.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    kinds = set()
    for line in path.read_text().splitlines():
        obj = json.loads(line)
        kinds.add(obj["kind"])
        validator.validate(obj)
    assert {"header", "scope", "fact", "error", "collected", "footer"} <= kinds


def test_work_units_are_picklable_and_outcomes_merge_regardless_of_order(fake_cloud) -> None:
    import pickle
    import random

    from posture.collect import run_units

    plan = installed_pipeline().plan("tier-1", ["fake"])
    units = fake_cloud.PROVIDER.plan(plan.fact_types, {}).units
    assert [pickle.loads(pickle.dumps(u)) for u in units] == units
    shuffled = units[:]
    random.Random(7).shuffle(shuffled)
    facts_a = sorted(f.id for o in run_units(fake_cloud.PROVIDER, units) for f in o.facts)
    facts_b = sorted(f.id for o in run_units(fake_cloud.PROVIDER, shuffled, concurrency=1) for f in o.facts)
    assert facts_a == facts_b


def test_provider_that_cannot_start_is_recorded_while_others_are_scanned(fake_cloud, monkeypatch) -> None:
    from posture.collect import collect
    from posture.provider import ProviderError

    class Broken:
        name = "broken"
        fact_types = {"broken.thing": "x"}
        options: list = []

        def plan(self, fact_types, options):
            raise ProviderError("broken: no credentials found")

    facts = collect([Broken(), fake_cloud.PROVIDER], {"broken.thing", "fake.storage.bucket"}, {})
    assert any(e.provider == "broken" and e.code == "ProviderUnavailable" for e in facts.errors)
    assert any(f.type == "fake.storage.bucket" for f in facts.facts)


def test_concurrent_scans_of_one_provider_keep_their_own_plans() -> None:
    """A scan's plan (its errors, its request count) travels in return values, so two concurrent scans of
    one registered provider neither wait for each other nor mix what they found."""
    import threading

    from posture.collect import collect
    from posture.facts import CollectionError, Coverage
    from posture.provider import Plan, Scope, UnitOutcome, WorkUnit

    both_collecting = threading.Barrier(2, timeout=10)

    class Shared:
        name = "shared"
        fact_types = {"shared.thing": "x"}
        options: list = []

        def plan(self, fact_types, options):
            scope = Scope("shared", options["scope"])
            denied = [CollectionError("shared", d, "global", "shared.thing", "AccessDenied", "") for d in options["denied"]]
            return Plan([scope], [WorkUnit("shared", scope.id, "global", "c", ("shared.thing",))], denied,
                        requests=options["requests"])

        def collect(self, unit):
            both_collecting.wait()  # proves the two scans run at the same time: neither holds the provider
            return UnitOutcome(unit, coverage=[Coverage("shared", unit.scope, "global", "shared.thing")])

    provider = Shared()
    results: dict[str, object] = {}

    def scan(scope: str, denied: list[str], requests: int) -> None:
        results[scope] = collect([provider], {"shared.thing"}, {"scope": scope, "denied": denied,
                                                                 "requests": requests})

    threads = [threading.Thread(target=scan, args=("a", ["a-child"], 3)),
               threading.Thread(target=scan, args=("b", ["b-child"], 5))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [e.scope for e in results["a"].errors] == ["a-child"]
    assert [e.scope for e in results["b"].errors] == ["b-child"]
    assert (results["a"].metadata["requests"], results["b"].metadata["requests"]) == (3, 5)


def test_a_fact_file_clock_without_a_time_zone_is_read_as_utc() -> None:
    from datetime import UTC, datetime

    from posture.engine import _clock
    from posture.facts import FactSet

    assert _clock(FactSet(metadata={"finished_at": "2026-11-30T10:00:00"})) == datetime(2026, 11, 30, 10, tzinfo=UTC)
