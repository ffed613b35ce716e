"""Scan orchestration: tier -> checks -> fact types -> providers -> engine."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from posture import plugins
from posture.collect import DEFAULT_CONCURRENCY, ProgressCallback, collect
from posture.engine import check_severity, evaluate, fact_types_needed, select_checks
from posture.facts import FactSet
from posture.provider import Provider, ProviderError
from posture.report import Report
from posture.selection import NO_SELECTION, Selection


@dataclass
class Plan:
    """What a scan will do, before any cloud call."""

    tier: Any
    providers: list[Provider]
    checks: list[Any]
    fact_types: set[str]
    #: frameworks reported on (``--framework``); their checks' fact types are in ``fact_types``
    frameworks: list[Any] = field(default_factory=list)
    #: check selection narrowing the tier (``--check``, ``--service``...)
    selection: Selection = NO_SELECTION


def plan_scan(tier: str | Any, providers: Iterable[str] | None = None, frameworks: Iterable[Any] = (),
              selection: Selection = NO_SELECTION) -> Plan:
    """Resolve the tier and select checks and fact types, per provider.

    Fact types are those of the tier's checks and of the frameworks' checks (collected even when the
    tier does not select them).
    """
    from posture.frameworks import check_mapping, load_framework, needed_checks
    from posture.tiers import load_tier

    resolved = load_tier(tier) if isinstance(tier, str) else tier
    reg = plugins.registry()
    names = list(providers) if providers else sorted(reg.providers)
    unknown = [n for n in names if n not in reg.providers]
    if unknown:
        known = ", ".join(sorted(reg.providers)) or "none installed"
        raise ProviderError(f"unknown provider(s): {', '.join(unknown)} (available: {known})")
    checks = selection.narrow(select_checks(resolved, reg.checks, names), lambda c: check_severity(resolved, c))
    fws = [load_framework(f) if isinstance(f, str) else f for f in frameworks]
    for fw in fws:
        check_mapping(fw, reg.checks)
    needed = fact_types_needed(checks) | fact_types_needed(needed_checks(fws, reg.checks, names))
    return Plan(resolved, [reg.providers[n] for n in names], checks, needed, fws, selection)


def plugin_problems() -> list[dict[str, str]]:
    return [{"plugin": p.plugin, "stage": p.stage, "error": p.error} for p in plugins.registry().problems]


def collect_facts(plan: Plan, options: dict[str, Any], *, concurrency: int = DEFAULT_CONCURRENCY,
                  progress: ProgressCallback | None = None) -> FactSet:
    facts = collect(plan.providers, plan.fact_types, options, concurrency=concurrency, progress=progress)
    facts.metadata.update({"tier": plan.tier.id, "providers": [p.name for p in plan.providers]})
    return facts


def run_scan(tier: str | Any = "tier-1", providers: Iterable[str] | None = None,
             options: dict[str, Any] | None = None, *, concurrency: int = DEFAULT_CONCURRENCY,
             progress: ProgressCallback | None = None, frameworks: Iterable[Any] = (),
             selection: Selection = NO_SELECTION) -> Report:
    """Collect exactly the facts the tier (and the frameworks) need and evaluate them."""
    plan = plan_scan(tier, providers, frameworks, selection)
    facts = collect_facts(plan, options or {}, concurrency=concurrency, progress=progress)
    report = evaluate_plan(plan, facts)
    if facts.metadata.get("interrupted"):  # Ctrl-C: partial results, and the caller must say so (exit 130)
        report.metadata["interrupted"] = True
    return report


def evaluate_plan(plan: Plan, facts: FactSet) -> Report:
    """The tier's report over ``facts``, with the plan's framework sections."""
    checks = plugins.registry().checks
    report = evaluate(facts, plan.tier, checks, providers=[p.name for p in plan.providers],
                      plugin_problems=plugin_problems(), selection=plan.selection)
    if plan.frameworks:
        from posture.frameworks import apply_frameworks

        apply_frameworks(report, plan.frameworks, facts, plan.tier, checks)
    return report
