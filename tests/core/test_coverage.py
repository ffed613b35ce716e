"""Control coverage: every tier-1 control has a check on every provider; gaps are listed, never hidden."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from posture.checks import Check
from posture.cli import cli
from posture.coverage import IMPLEMENTED, NOT_APPLICABLE, NOT_IMPLEMENTED, compute_coverage
from posture.hookspecs import hookimpl
from posture.tiers import load_tier

#: the providers with a built-in plugin; each must implement every tier-1 control
EXPECTED_PROVIDERS = ("aws", "azure", "gcp")


def make_check(check_id: str, provider: str, controls: tuple[str, ...]) -> Check:
    return Check(id=check_id, title=check_id, provider=provider, fact_type=f"{provider}.thing",
                 controls=controls, condition={"key": "ok", "op": "eq", "value": True})


class _TestPlugin:
    """An in-process plugin: provider 'testcloud' implementing three controls, 'emptycloud' none."""

    @hookimpl
    def register_providers(self, register):
        register(SimpleNamespace(name="testcloud", title="Test cloud", fact_types={}, options=[]))
        register(SimpleNamespace(name="emptycloud", title="Empty cloud", fact_types={}, options=[]))

    @hookimpl
    def register_checks(self, register):
        register(make_check("testcloud.user.mfa", "testcloud", ("IAM-01", "IAM-02")))
        register(make_check("testcloud.key.age", "testcloud", ("IAM-05",)))
        register(make_check("testcloud.cmk", "testcloud", ("DP-10",)))


@pytest.fixture
def test_plugins(fresh_plugins, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("POSTURE_PLUGINS", "none")
    fresh_plugins.reset()
    fresh_plugins.register_plugin(_TestPlugin(), "testplugin")
    return fresh_plugins


def test_coverage_maps_controls_to_checks_per_provider() -> None:
    tier = load_tier("tier-1")
    checks = {c.id: c for c in [make_check("x.mfa", "x", ("IAM-01",)), make_check("x.mfa2", "x", ("IAM-01",)),
                                make_check("y.ports", "y", ("NET-01", "DP-10")),
                                make_check("z.ports", "z", ("NET-01",))]}
    m = compute_coverage(tier, checks, ["y", "x"])
    assert m.providers == ["x", "y"]
    assert m.implemented["x"] == {"IAM-01": ["x.mfa", "x.mfa2"]}
    assert m.implemented["y"] == {"NET-01": ["y.ports"]}  # DP-10 is not in tier-1
    assert "IAM-01" not in m.gaps["x"] and "NET-01" in m.gaps["x"]
    assert m.status("x", "IAM-01") == IMPLEMENTED
    assert m.status("y", "IAM-01") == NOT_IMPLEMENTED
    assert "z" not in m.implemented  # checks of unrequested providers are ignored
    assert not m.complete
    assert "x: NET-01" in m.gap_lines()


def test_controls_marked_not_applicable_for_a_provider_are_not_gaps() -> None:
    tier = load_tier("tier-1")
    na = {cid: rc.spec.not_applicable for cid, rc in tier.controls.items() if rc.spec.not_applicable}
    assert na, "the catalogue marks no control not_applicable on any provider"
    cid, reasons = next(iter(sorted(na.items())))
    provider = next(iter(reasons))
    m = compute_coverage(tier, {}, [provider])
    assert m.status(provider, cid) == NOT_APPLICABLE
    assert m.not_applicable[provider][cid] == reasons[provider]
    assert cid not in m.gaps[provider]


def test_excluded_controls_are_not_required_for_coverage() -> None:
    org = load_tier("tiers/examples/acme-corp.yaml")
    m = compute_coverage(org, {}, ["aws"])
    assert "IAM-04" not in m.controls and "IAM-04" not in m.gaps["aws"]
    assert "DP-10" in m.gaps["aws"]


def test_every_tier1_control_has_a_check_on_every_expected_provider(fresh_plugins) -> None:
    """Fails listing each gap. Expected to fail until the aws, azure and gcp plugins are complete."""
    reg = fresh_plugins.registry()
    missing = [p for p in EXPECTED_PROVIDERS if p not in reg.providers]
    matrix = compute_coverage(load_tier("tier-1"), reg.checks, reg.providers)
    problems = [f"provider plugin not registered: {p}" for p in missing]
    problems += [f"{line} has no check" for line in matrix.gap_lines()]
    problems += [f"plugin problem: {p.plugin} ({p.stage}): {p.error}" for p in reg.problems]
    assert not problems, "tier-1 coverage gaps (expected providers: " + ", ".join(EXPECTED_PROVIDERS) \
        + "):\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("tier_id", ["tier-2", "tier-3"])
def test_checks_coverage_lists_every_gap_as_not_yet_implemented(fresh_plugins, tier_id: str) -> None:
    reg = fresh_plugins.registry()
    matrix = compute_coverage(load_tier(tier_id), reg.checks, reg.providers)
    result = CliRunner().invoke(cli, ["checks", "coverage", "--tier", tier_id, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    statuses = {(p, c["id"]): v["status"] for c in data["controls"] for p, v in c["providers"].items()}
    assert len(statuses) == len(matrix.controls) * len(matrix.providers)
    for provider, gaps in matrix.gaps.items():
        for cid in gaps:
            assert statuses[(provider, cid)] == NOT_IMPLEMENTED
    assert data["gaps"] == {p: matrix.gaps[p] for p in matrix.providers}


def test_checks_coverage_table_marks_gaps_not_yet_implemented(test_plugins) -> None:
    result = CliRunner().invoke(cli, ["checks", "coverage", "--tier", "tier-2"])
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if "IAM-06" in line)
    assert row.count("not yet implemented") == 2  # both providers
    row = next(line for line in result.output.splitlines() if "IAM-05" in line)
    assert "testcloud.key.age" in row and row.count("not yet implemented") == 1
    assert "emptycloud: IAM-01" in result.output


def test_checks_coverage_json_and_fail_on_gap(test_plugins) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["checks", "coverage", "--tier", "tier-1", "--provider", "testcloud", "--json"])
    data = json.loads(result.output)
    by_id = {c["id"]: c["providers"]["testcloud"] for c in data["controls"]}
    assert by_id["IAM-01"] == {"status": IMPLEMENTED, "checks": ["testcloud.user.mfa"]}
    assert by_id["NET-01"] == {"status": NOT_IMPLEMENTED, "checks": []}
    assert "DP-10" not in by_id  # introduced by tier-3, not tier-1
    assert data["complete"] is False
    failing = runner.invoke(cli, ["checks", "coverage", "--tier", "tier-1", "--fail-on-gap"])
    assert failing.exit_code == 1


def test_checks_coverage_rejects_an_unknown_provider(test_plugins) -> None:
    result = CliRunner().invoke(cli, ["checks", "coverage", "--provider", "nocloud"])
    assert result.exit_code == 2
    assert "unknown provider(s) nocloud (registered: emptycloud, testcloud)" in result.stderr


def test_checks_list_filters_by_tier_and_provider(test_plugins) -> None:
    runner = CliRunner()
    all_checks = json.loads(runner.invoke(cli, ["checks", "list", "--json"]).output)
    assert [c["id"] for c in all_checks] == ["testcloud.cmk", "testcloud.key.age", "testcloud.user.mfa"]
    tier1 = json.loads(runner.invoke(cli, ["checks", "list", "--tier", "tier-1", "--json"]).output)
    assert [c["id"] for c in tier1] == ["testcloud.key.age", "testcloud.user.mfa"]
    assert json.loads(runner.invoke(cli, ["checks", "list", "--provider", "emptycloud", "--json"]).output) == []
    text = runner.invoke(cli, ["checks", "list", "--tier", "tier-3"])
    assert text.exit_code == 0 and "testcloud.cmk" in text.output and "DP-10" in text.output
    bad = runner.invoke(cli, ["checks", "list", "--tier", "tier-9"])
    assert bad.exit_code == 2 and "unknown tier 'tier-9'" in bad.stderr
