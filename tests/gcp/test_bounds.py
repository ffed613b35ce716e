"""Many projects in bounded memory: a unit's clients go with it, a scan keeps few large answers."""

from __future__ import annotations

import gc
import re
import weakref
from typing import Any

import pytest
from posture_gcp import clients as gcp_clients
from posture_gcp.provider import GcpProvider

from posture.collect import run_units

NOW_RELATIVE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")
PROJECTS = ["good-project", "bad-project", "denied-project"]


def _scan(options: dict[str, Any], watch: Any = None) -> tuple[list[Any], list[Any]]:
    provider = GcpProvider()
    plan = provider.plan(set(provider.fact_types), {**options, "project": PROJECTS})
    shared = provider.scan_state(plan.units[0].option("scan"), gcp_clients.Shared)
    facts, errors = [], []
    for outcome in run_units(provider, plan.units, concurrency=4):
        # the fake dates its resources relative to now: two scans seconds apart differ only there
        facts += [NOW_RELATIVE.sub("<time>", repr((f.scope, f.type, f.id, f.attributes))) for f in outcome.facts]
        errors += [(e.scope, e.fact_type, e.code) for e in outcome.errors]
        if watch:
            watch(shared)
    return sorted(facts), sorted(errors)


def test_units_release_their_clients_and_large_answers_stay_within_the_bound(
        fake_gcp: Any, gcp_options: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    unbounded = _scan(gcp_options)
    monkeypatch.setattr(gcp_clients, "LARGE_ANSWERS", 1)
    made: list[weakref.ref[Any]] = []
    init = gcp_clients.Clients.__init__

    def recorded(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        made.append(weakref.ref(self))

    monkeypatch.setattr(gcp_clients.Clients, "__init__", recorded)
    kept: list[int] = []
    bounded = _scan(gcp_options, lambda shared: kept.append(shared.large_kept))
    gc.collect()
    assert bounded == unbounded
    assert kept and max(kept) == 1  # three projects' inventories and metadata, one kept at a time
    assert made and not [ref for ref in made if ref() is not None]  # every unit's clients went with it


def test_every_http_attempt_of_a_gated_gcp_unit_takes_and_gives_back_a_project_service_slot(
        fake_gcp: Any, gcp_options: dict[str, Any]) -> None:
    from posture.collecting.throttling import gated
    from tests.core.test_throttle import Recording

    provider = GcpProvider()
    plan = provider.plan(set(provider.fact_types), {**gcp_options, "project": ["good-project"]})
    gate, requests = Recording(), 0
    for unit in plan.units:
        with gated(gate, "gcp", unit.scope):
            requests += provider.collect(unit).requests
    acquired = [key for what, key in gate.log if what == "acquire"]
    assert len(acquired) == requests > 0  # the REST clients' and the discovery clients' requests alike
    assert gate.held == []
    assert {key.rsplit(":", 1)[0] for key in acquired} == {"gcp:good-project:global"}
    assert {"gcp:good-project:global:compute", "gcp:good-project:global:storage",
            "gcp:good-project:global:iam"} <= set(acquired)


def test_a_request_resent_after_a_401_refresh_keeps_its_slot_rather_than_waiting_for_a_second(
        fake_gcp: Any, gcp_options: dict[str, Any]) -> None:
    from posture.collecting.throttling import gated
    from tests.core.test_throttle import Recording
    from tests.gcp.fake_gcp import error

    class OneSlot(Recording):
        """A gate of one slot per key: a second acquire of a held key would wait for ever."""

        def acquire(self, key: str) -> str:
            assert key not in self.held, f"{key} acquired again while held"
            return super().acquire(key)

    provider = GcpProvider()
    plan = provider.plan({"gcp.compute.firewall"}, {**gcp_options, "project": ["good-project"]})
    gate = OneSlot()
    firewalls = "/compute/v1/projects/good-project/global/firewalls"
    with gated(gate, "gcp", "good-project"), \
            fake_gcp.fault(firewalls, error(401, "UNAUTHENTICATED", "token expired (fake)"), times=1):
        [outcome] = [provider.collect(unit) for unit in plan.units]
    assert outcome.errors == [] and outcome.facts
    assert outcome.requests == 2  # the refused request and the one resent after the refresh
    assert [what for what, _ in gate.log] == ["acquire", "release"] and gate.held == []
