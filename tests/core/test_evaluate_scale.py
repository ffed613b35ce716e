"""Evaluating at organisation scale changes how, never what: each check runs once per resource where the
tiers of the chain agree, results serialise field by field and through orjson, waivers are indexed."""

from __future__ import annotations

import dataclasses
import json
import random
from datetime import date
from fnmatch import fnmatchcase
from pathlib import Path

import pytest

from posture import engine
from posture.facts import read_fact_file
from posture.plugins import registry
from posture.report import Result
from posture.tiers import load_tier

DEMO_FACTS = Path(__file__).parents[2] / "benchmarks" / "data" / "aws-demo.facts.jsonl"


@pytest.fixture(scope="module")
def demo_facts():
    return read_fact_file(DEMO_FACTS)


@pytest.mark.parametrize("tier_id", ["tier-2", "tier-3"])
def test_attainment_equals_evaluating_every_tier_of_the_chain_in_full(demo_facts, tier_id: str) -> None:

    checks = registry().checks
    tier = load_tier(tier_id)
    report = engine.evaluate(demo_facts, tier, checks)
    provider_checks = {c.id: c for c in checks.values() if c.provider == "aws"}
    now = engine._clock(demo_facts)
    # the facts as the engine sees them: fact types this tier needs that the file lacks are NotCollected errors
    facts = engine.with_uncollected(demo_facts, engine.select_checks(tier, provider_checks), report.scopes)
    expected = []
    for level in tier.levels:  # the old way: every tier's checks evaluated again with its own parameters
        results = engine._results_for_tier(level, engine.select_checks(level, provider_checks), facts, now)
        expected.extend(engine._attainment(level, provider_checks, results, report.scopes))
    assert [a.to_dict() for a in report.attainment] == [a.to_dict() for a in expected]
    assert {a.status for a in report.attainment} >= {"not_attained"}


def test_a_tighter_parameter_still_judges_each_tier_with_its_own_value(demo_facts) -> None:
    tier = load_tier("tier-3")
    levels = {lvl.id: lvl for lvl in tier.levels}

    check = registry().checks["aws.logs.log_group.retention"]
    assert engine._params_read(levels["tier-1"], check) != engine._params_read(tier, check)


def _asdict_form(r: Result) -> dict:
    d = dataclasses.asdict(r)
    d["fingerprint"] = r.fingerprint
    if d["waiver"] is None:
        d.pop("waiver")
    if not d.get("framework_only", True):
        d.pop("framework_only")
    return d


def test_result_to_dict_is_the_dataclass_form_with_its_fingerprint(demo_facts) -> None:
    report = engine.evaluate(demo_facts, load_tier("tier-3"), registry().checks)
    report.results[0].waiver = {"id": "W-1", "owner": "o", "justification": "j", "expires": "2030-01-01"}
    for r in report.results:
        assert r.to_dict() == _asdict_form(r)
    r = report.results[1]
    before = r.fingerprint
    r.resource_id += "-renamed"  # a cached fingerprint never outlives the fields it is made of
    assert r.fingerprint != before and r.fingerprint == _asdict_form(r)["fingerprint"]


def test_json_and_sarif_are_what_the_standard_encoder_writes(demo_facts) -> None:
    from posture.outputs import json_output, sarif

    report = engine.evaluate(demo_facts, load_tier("tier-3"), registry().checks)
    assert json_output.dumps(report) == json.dumps(report.to_dict(), indent=2, sort_keys=True,
                                                    ensure_ascii=False) + "\n"
    assert sarif.dumps(report) == json.dumps(sarif.render(report), indent=2, ensure_ascii=False) + "\n"


def test_a_value_orjson_refuses_is_written_by_the_standard_encoder() -> None:
    from posture.jsonfast import dumps_pretty

    assert json.loads(dumps_pretty({"big": 2**70, 1: "x"})) == {"big": 2**70, "1": "x"}


# -------------------------------------------------------------------- waivers
def _brute_first(waivers, r):
    return next((w for w in waivers if w.matches(r)), None)


def test_the_waiver_index_finds_exactly_what_trying_every_waiver_finds() -> None:
    from posture.waiver_index import WaiverIndex
    from posture.waivers import Waiver

    rng = random.Random(7)
    checks = [f"aws.svc{i}.thing.ok" for i in range(6)]
    resources = [f"arn:aws:s3:::bucket-{i}" for i in range(40)] + [f"arn:aws:iam::1:user/u{i}" for i in range(40)]
    waivers = []
    for i in range(300):
        res = rng.choice(resources)
        kind = rng.random()
        pattern = (res if kind < 0.5 else res[: rng.randint(0, len(res))] + "*" if kind < 0.8
                   else res.replace(res[-1], "?") if kind < 0.9 else "arn:aws:[si][3a]*")
        by_check = rng.random() < 0.7
        waivers.append(Waiver(id=f"W{i}", resource=pattern, owner="o", justification="accepted risk here",
                              expires=date(2030, 1, 1), check=rng.choice(checks) if by_check else "",
                              control="" if by_check else rng.choice(["DP-01", "IAM-01"]),
                              scope=rng.choice(["", "1*", "2"])))
    index = WaiverIndex(waivers)
    for _ in range(2000):
        r = Result(rng.choice(checks), "fail", "aws", rng.choice(["1", "2", "12"]), "global",
                   rng.choice(resources), "n", "t", [rng.choice(["DP-01", "IAM-01", "LOG-01"])], "high")
        assert index.first(r) is _brute_first(waivers, r)
        assert index.all(r) == [w for w in waivers if w.matches(r)]
    assert fnmatchcase("arn:aws:s3:::bucket-1", "arn:aws:[si][3a]*")


def test_many_waivers_are_applied_in_one_pass(demo_facts) -> None:
    from posture.waivers import Waiver, apply_waivers

    report = engine.evaluate(demo_facts, load_tier("tier-3"), registry().checks)
    failing = [r for r in report.results if r.status == "fail"]
    waivers = [Waiver(id=f"N{i}", resource=f"arn:never:{i}", owner="o", justification="accepted risk here",
                      expires=date(2030, 1, 1), check=failing[i % len(failing)].check_id) for i in range(20_000)]
    waivers.append(Waiver(id="HIT", resource=failing[0].resource_id, owner="o", justification="accepted risk",
                          expires=date(2030, 1, 1), check=failing[0].check_id))
    apply_waivers(report, waivers, today=date(2029, 1, 1))
    assert failing[0].status == "waived" and failing[0].waiver["id"] == "HIT"
    assert report.coverage["waivers"]["applied"] == 1
