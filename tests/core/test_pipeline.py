"""One scan pipeline over the registry it is handed: plan -> collect -> evaluate -> write."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from posture.checks import load_check_file
from posture.outputs import Output, json_output
from posture.pipeline import Pipeline, PlanError
from posture.plugins import PluginProblem, PluginRegistry
from posture.selection import Selection
from tests.core import fake_provider
from tests.core.conftest import COLLECTED_AT, default_world


@pytest.fixture
def world(fresh_plugins, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fake world, with no plugin installed at all: whatever the pipeline sees, it was handed."""
    monkeypatch.setenv("POSTURE_PLUGINS", "")
    fresh_plugins.reset()
    monkeypatch.setattr(fake_provider, "WORLD", default_world())
    monkeypatch.setattr("posture.collect._now", lambda: COLLECTED_AT)


def handed(**kwargs) -> PluginRegistry:
    checks = {c.id: c for c in load_check_file(fake_provider.CHECKS)}
    return PluginRegistry(providers={"fake": fake_provider.FakeProvider()}, checks=checks,
                          outputs={"json": Output("json", ".json", json_output.write)}, **kwargs)


def test_a_scan_uses_only_the_registry_it_is_handed(world) -> None:
    from posture import plugins

    report = Pipeline(handed()).run("tier-2", ["fake"])
    assert plugins.registry().providers == {}  # nothing installed: the global registry played no part
    assert {r.check_id for r in report.results} == set(handed().checks)
    assert {r.status for r in report.results} >= {"pass", "fail", "error"}


def test_an_unknown_provider_names_the_handed_registrys_providers(world) -> None:
    with pytest.raises(PlanError, match=r"unknown provider\(s\): aws \(available: fake\)"):
        Pipeline(handed()).plan("tier-1", ["aws"])


def test_the_stages_add_up_to_run(world) -> None:
    pipeline = Pipeline(handed())
    plan = pipeline.plan("tier-2", ["fake"])
    facts = pipeline.collect(plan, {})
    assert facts.metadata["tier"] == "tier-2" and facts.metadata["providers"] == ["fake"]
    staged = json_output.dumps(pipeline.evaluate(plan, facts))
    assert staged == json_output.dumps(pipeline.run("tier-2", ["fake"]))


def test_a_plan_without_a_tier_collects_every_fact_type_or_what_the_selection_reads(world) -> None:
    pipeline = Pipeline(handed())
    assert pipeline.plan(None, ["fake"]).fact_types == set(fake_provider.FakeProvider.fact_types)
    narrowed = pipeline.plan(None, ["fake"], selection=Selection.from_options(services=["storage"]))
    assert narrowed.fact_types == {"fake.storage.bucket"}
    with pytest.raises(PlanError, match="matches no check of fake"):
        pipeline.plan(None, ["fake"], selection=Selection.from_options(checks=["fake.nothing.*"]))
    with pytest.raises(PlanError, match="plan with a tier"):
        pipeline.evaluate(pipeline.plan(None, ["fake"]), pipeline.collect(pipeline.plan(None, ["fake"]), {}))


def test_an_offline_plan_evaluates_a_fact_file_as_the_scan_did(world) -> None:
    pipeline = Pipeline(handed())
    plan = pipeline.plan("tier-2", ["fake"])
    facts = pipeline.collect(plan, {})
    replayed = pipeline.evaluate(pipeline.offline_plan(facts, "tier-2"), facts)
    assert json_output.dumps(replayed) == json_output.dumps(pipeline.evaluate(plan, facts))


def test_the_handed_registrys_plugin_problems_reach_the_report(world) -> None:
    problem = PluginProblem("broken", "load", "ImportError: no module")
    report = Pipeline(handed(problems=[problem])).run("tier-1", ["fake"])
    assert report.coverage["plugin_problems"] == [{"plugin": "broken", "stage": "load",
                                                   "error": "ImportError: no module"}]


def test_write_goes_through_the_handed_outputs_and_reports_a_failing_one(world, tmp_path: Path) -> None:
    def broken(report, path, console) -> None:
        raise RuntimeError("plugin bug")

    registry = handed()
    registry.outputs["bad"] = Output("bad", ".bad", broken)
    pipeline = Pipeline(registry)
    written, problems = pipeline.write(pipeline.run("tier-1", ["fake"]), ["bad", "json"], tmp_path, None)
    assert written == [tmp_path / "posture-report.json"]
    assert json.loads(written[0].read_text(encoding="utf-8"))["tier"]["id"] == "tier-1"
    assert problems == ["output 'bad' failed: RuntimeError: plugin bug"]
