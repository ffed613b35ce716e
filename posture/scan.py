"""Scan orchestration: tier -> checks -> fact types -> providers -> engine."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from posture import plugins
from posture.collect import DEFAULT_CONCURRENCY, ProgressCallback, collect
from posture.engine import evaluate, fact_types_needed, select_checks
from posture.facts import FactSet
from posture.provider import Provider, ProviderError
from posture.report import Report


@dataclass
class Plan:
    """What a scan will do, before any cloud call."""

    tier: Any
    providers: list[Provider]
    checks: list[Any]
    fact_types: set[str]


def plan_scan(tier: str | Any, providers: Iterable[str] | None = None) -> Plan:
    """Resolve the tier and select checks and fact types, per provider."""
    from posture.tiers import load_tier

    resolved = load_tier(tier) if isinstance(tier, str) else tier
    reg = plugins.registry()
    names = list(providers) if providers else sorted(reg.providers)
    unknown = [n for n in names if n not in reg.providers]
    if unknown:
        known = ", ".join(sorted(reg.providers)) or "none installed"
        raise ProviderError(f"unknown provider(s): {', '.join(unknown)} (available: {known})")
    checks = select_checks(resolved, reg.checks, names)
    return Plan(resolved, [reg.providers[n] for n in names], checks, fact_types_needed(checks))


def plugin_problems() -> list[dict[str, str]]:
    return [{"plugin": p.plugin, "stage": p.stage, "error": p.error} for p in plugins.registry().problems]


def collect_facts(plan: Plan, options: dict[str, Any], *, concurrency: int = DEFAULT_CONCURRENCY,
                  progress: ProgressCallback | None = None) -> FactSet:
    facts = collect(plan.providers, plan.fact_types, options, concurrency=concurrency, progress=progress)
    facts.metadata.update({"tier": plan.tier.id, "providers": [p.name for p in plan.providers]})
    return facts


def run_scan(tier: str | Any = "tier-1", providers: Iterable[str] | None = None,
             options: dict[str, Any] | None = None, *, concurrency: int = DEFAULT_CONCURRENCY,
             progress: ProgressCallback | None = None) -> Report:
    """Collect exactly the facts the tier needs and evaluate them."""
    plan = plan_scan(tier, providers)
    facts = collect_facts(plan, options or {}, concurrency=concurrency, progress=progress)
    return evaluate(facts, plan.tier, plugins.registry().checks, providers=[p.name for p in plan.providers],
                    plugin_problems=plugin_problems())
