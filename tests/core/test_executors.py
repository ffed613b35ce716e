"""The executor interface: local threads by default, any executor through `collect`, a lossless wire format."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from posture.collect import EXECUTOR_LOST, collect, failed_outcome
from posture.executors import ExecutorError, ExecutorSettings, UnitExecutor, make_executor
from posture.executors.local import LocalExecutor
from posture.executors.wire import outcome_from_dict, outcome_to_dict, unit_from_dict, unit_to_dict
from posture.provider import Provider, UnitOutcome, WorkUnit


def test_local_is_the_default_executor_and_needs_no_broker() -> None:
    executor = make_executor(ExecutorSettings(concurrency=3))
    assert isinstance(executor, LocalExecutor) and executor.concurrency == 3
    assert isinstance(executor, UnitExecutor)


def test_unknown_executor_is_refused_naming_the_valid_ones() -> None:
    with pytest.raises(ExecutorError, match=r"unknown executor 'dask' \(valid: local, celery\)"):
        make_executor(ExecutorSettings("dask"))


def test_celery_executor_without_urls_names_the_flags_and_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POSTURE_BROKER_URL", raising=False)
    monkeypatch.delenv("POSTURE_RESULT_BACKEND", raising=False)
    with pytest.raises(ExecutorError, match=r"--broker \(or POSTURE_BROKER_URL\) and --backend \(or "
                                            r"POSTURE_RESULT_BACKEND\)"):
        make_executor(ExecutorSettings("celery"))


def test_collect_runs_units_on_the_executor_it_is_given(fake_cloud) -> None:
    class Recording:
        name = "recording"
        lost = None

        def __init__(self) -> None:
            self.units: list[WorkUnit] = []

        def run(self, provider: Provider, units: list[WorkUnit], progress=None) -> Iterator[UnitOutcome]:
            self.units.extend(units)
            return LocalExecutor(1).run(provider, units, progress)

    recording = Recording()
    via_executor = collect([fake_cloud.PROVIDER], set(fake_cloud.PROVIDER.fact_types), {}, executor=recording)
    local = collect([fake_cloud.PROVIDER], set(fake_cloud.PROVIDER.fact_types), {})
    assert recording.units, "the executor was not used"
    assert [f.to_dict() for f in via_executor.facts] == [f.to_dict() for f in local.facts]
    assert via_executor.errors == local.errors and via_executor.coverage == local.coverage


def test_an_executor_that_goes_away_leaves_errors_and_says_why(fake_cloud) -> None:
    class Lost:
        name = "lost"
        lost = None

        def run(self, provider: Provider, units: list[WorkUnit], progress=None) -> Iterator[UnitOutcome]:
            yield from LocalExecutor(1).run(provider, units[:1], progress)
            self.lost = "the broker went away"
            for unit in units[1:]:
                yield failed_outcome(unit, "BrokerUnavailable", "not collected: the broker went away")

    facts = collect([fake_cloud.PROVIDER], set(fake_cloud.PROVIDER.fact_types), {}, executor=Lost())
    assert facts.metadata["executor_lost"] == "the broker went away"
    assert facts.facts and any(e.code == "BrokerUnavailable" for e in facts.errors)
    assert EXECUTOR_LOST == "ExecutorLost"


def test_units_and_outcomes_survive_the_json_wire_unchanged(fake_cloud) -> None:
    units = fake_cloud.PROVIDER.plan(set(fake_cloud.PROVIDER.fact_types), {}).units
    tricky = WorkUnit("aws", "111122223333", "eu-west-1", "s3", ("aws.s3.bucket",),
                      (("scan", "abc"), ("roles", ("arn:aws:iam::1:role/a", "arn:aws:iam::2:role/b")),
                       ("regions", ("eu-west-1", "us-east-1")), ("profile", None), ("root_managed_centrally", False)))
    for unit in [*units, tricky]:
        assert unit_from_dict(json.loads(json.dumps(unit_to_dict(unit)))) == unit
    for outcome in LocalExecutor(2).run(fake_cloud.PROVIDER, units):
        back = outcome_from_dict(json.loads(json.dumps(outcome_to_dict(outcome))))
        assert back.unit == outcome.unit and back.requests == outcome.requests
        assert [f.to_dict() for f in back.facts] == [f.to_dict() for f in outcome.facts]
        assert back.errors == outcome.errors and back.coverage == outcome.coverage
