"""The scan pipeline: plan -> collect -> evaluate -> write, over the plugins it is handed.

Every way posture scans goes through one :class:`Pipeline`: ``posture scan``, ``posture collect``,
``posture evaluate``, the AWS plugin's ``posture demo`` and the ``benchmarks/`` scripts. The plugin
registry is passed in, never looked up, so whoever builds the pipeline decides which providers,
checks and outputs a scan sees (the CLI passes :func:`posture.plugins.registry`; a test or an
embedding application may pass a registry of its own)::

    pipeline = Pipeline(registry())
    plan = pipeline.plan("tier-2", ["aws"])
    facts = pipeline.collect(plan, {"region": ["eu-west-1"]})
    report = pipeline.evaluate(plan, facts)
    written, problems = pipeline.write(report, ["json", "sarif"], Path("out"), console)

``pipeline.run(...)`` is the first three stages in one call. What a command line adds around them
(waivers, the history store, exit codes) stays in :mod:`posture.cli`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from posture.collect import DEFAULT_CONCURRENCY, ProgressCallback, collect
from posture.engine import check_severity, evaluate, fact_types_needed, select_checks
from posture.executors import UnitExecutor
from posture.facts import FactSet
from posture.provider import Provider, ProviderError
from posture.report import Report
from posture.selection import NO_SELECTION, Selection

if TYPE_CHECKING:
    from posture.checks import Check
    from posture.tiers import ResolvedTier

REPORT_BASENAME = "posture-report"


class Registry(Protocol):
    """What the pipeline needs of the plugins (:class:`posture.plugins.PluginRegistry` is one)."""

    providers: Mapping[str, Provider]
    checks: Mapping[str, Check]
    outputs: Mapping[str, Any]
    problems: list[Any]


class PlanError(ProviderError):
    """Nothing can be scanned as asked: an unknown provider, or a check selection that leaves no check."""


@dataclass
class ScanPlan:
    """What a scan will do, before any cloud call."""

    #: the resolved tier; ``None`` collects every fact type the providers offer (``posture collect``)
    tier: ResolvedTier | None
    providers: list[Provider]
    checks: list[Check]
    fact_types: set[str]
    #: frameworks reported on (``--framework``); their checks' fact types are in ``fact_types``
    frameworks: list[Any] = field(default_factory=list)
    #: check selection narrowing the tier (``--check``, ``--service``...)
    selection: Selection = NO_SELECTION
    #: the providers the report covers (a saved fact file may name providers not installed here)
    provider_names: list[str] = field(default_factory=list)


class Pipeline:
    """One scan pipeline over the providers, checks and outputs of ``registry``."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    # ------------------------------------------------------------------ plan
    def plan(self, tier: str | ResolvedTier | None, providers: Iterable[str] | None = None, *,
             frameworks: Iterable[Any] = (), selection: Selection = NO_SELECTION) -> ScanPlan:
        """Resolve the tier and choose the checks and the fact types to collect, per provider.

        Fact types are those of the tier's checks and of the frameworks' checks (collected even when
        the tier does not select them). Without a tier, every fact type of the providers (narrowed to
        what the selected checks read when a selection is active). ``providers`` defaults to every
        installed provider; an unknown one is a :class:`PlanError`.
        """
        names = self._provider_names(providers)
        chosen = [self.registry.providers[n] for n in names]
        checks = self.registry.checks
        if tier is None:
            return ScanPlan(None, chosen, [], self._all_fact_types(chosen, names, selection), [], selection, names)
        from posture.frameworks import check_mapping, load_framework, needed_checks
        from posture.tiers import load_tier

        resolved = load_tier(tier) if isinstance(tier, str) else tier
        selected = selection.narrow(select_checks(resolved, checks, names), lambda c: check_severity(resolved, c))
        if not selected and selection.active:
            raise PlanError("the check selection leaves none of the tier's checks for " + ", ".join(names)
                            + " (`posture checks list` with the same filters shows what it selects)")
        fws = [load_framework(f) if isinstance(f, str) else f for f in frameworks]
        for fw in fws:
            check_mapping(fw, checks)
        needed = fact_types_needed(selected) | fact_types_needed(needed_checks(fws, checks, names))
        return ScanPlan(resolved, chosen, selected, needed, fws, selection, names)

    def offline_plan(self, facts: FactSet, tier: str | ResolvedTier, *, frameworks: Iterable[Any] = (),
                     selection: Selection = NO_SELECTION) -> ScanPlan:
        """The plan a saved fact file was collected under, to evaluate it again without a cloud call.

        The providers are those the file names (they need not be installed); nothing is collected.
        """
        from posture.frameworks import load_framework
        from posture.tiers import load_tier

        resolved = load_tier(tier) if isinstance(tier, str) else tier
        names = facts.metadata.get("providers") or sorted({s["provider"] for s in facts.scopes}
                                                          | {f.provider for f in facts.facts})
        checks = selection.narrow(select_checks(resolved, self.registry.checks, names),
                                  lambda c: check_severity(resolved, c))
        fws = [load_framework(f) if isinstance(f, str) else f for f in frameworks]
        return ScanPlan(resolved, [], checks, fact_types_needed(checks), fws, selection, list(names))

    def _provider_names(self, providers: Iterable[str] | None) -> list[str]:
        installed = self.registry.providers
        names = list(providers) if providers else sorted(installed)
        unknown = [n for n in names if n not in installed]
        if unknown:
            known = ", ".join(sorted(installed)) or "none installed"
            raise PlanError(f"unknown provider(s): {', '.join(unknown)} (available: {known})")
        return names

    def _all_fact_types(self, chosen: list[Provider], names: list[str], selection: Selection) -> set[str]:
        wanted = {ft for p in chosen for ft in p.fact_types}
        if selection.active:
            picked = selection.narrow(c for c in self.registry.checks.values() if c.provider in names)
            if not picked:
                raise PlanError("the check selection matches no check of " + ", ".join(names))
            wanted &= {c.fact_type for c in picked}
        return wanted

    # --------------------------------------------------------------- collect
    def collect(self, plan: ScanPlan, options: dict[str, Any], *, concurrency: int = DEFAULT_CONCURRENCY,
                progress: ProgressCallback | None = None, executor: UnitExecutor | None = None) -> FactSet:
        """Collect exactly the plan's fact types from its providers (see :func:`posture.collect.collect`).

        Work units run on ``executor`` (default: local threads, ``concurrency`` at once).
        """
        facts = collect(plan.providers, plan.fact_types, options, concurrency=concurrency, progress=progress,
                        executor=executor)
        if plan.tier is not None:
            facts.metadata["tier"] = plan.tier.id
        facts.metadata["providers"] = list(plan.provider_names)
        return facts

    # -------------------------------------------------------------- evaluate
    def evaluate(self, plan: ScanPlan, facts: FactSet) -> Report:
        """The tier's report over ``facts``, with the plan's framework sections."""
        if plan.tier is None:
            raise PlanError("a plan without a tier collects facts only; plan with a tier to evaluate them")
        checks = self.registry.checks
        report = evaluate(facts, plan.tier, checks, providers=plan.provider_names,
                          plugin_problems=self.plugin_problems(), selection=plan.selection)
        if plan.frameworks:
            from posture.frameworks import apply_frameworks

            apply_frameworks(report, plan.frameworks, facts, plan.tier, checks)
        return report

    def plugin_problems(self) -> list[dict[str, str]]:
        """The plugins that failed to load or register, as the report's coverage lists them."""
        return [{"plugin": p.plugin, "stage": p.stage, "error": p.error} for p in self.registry.problems]

    def run(self, tier: str | ResolvedTier = "tier-1", providers: Iterable[str] | None = None,
            options: dict[str, Any] | None = None, *, concurrency: int = DEFAULT_CONCURRENCY,
            progress: ProgressCallback | None = None, frameworks: Iterable[Any] = (),
            selection: Selection = NO_SELECTION, executor: UnitExecutor | None = None) -> Report:
        """Plan, collect and evaluate: exactly the facts the tier (and the frameworks) need.

        After Ctrl-C the report holds what was collected and says ``metadata.interrupted``; when the
        executor went away (a broker lost), ``metadata.executor_lost`` says why.
        """
        plan = self.plan(tier, providers, frameworks=frameworks, selection=selection)
        facts = self.collect(plan, options or {}, concurrency=concurrency, progress=progress, executor=executor)
        report = self.evaluate(plan, facts)
        for key in ("interrupted", "executor_lost"):
            if facts.metadata.get(key):
                report.metadata[key] = facts.metadata[key]
        return report

    # ----------------------------------------------------------------- write
    def write(self, report: Report, formats: Iterable[str], output_dir: Path,
              console: Any) -> tuple[list[Path], list[str]]:
        """Write ``report`` in every format through the output plugins, files first.

        Returns the files written and the problems of the outputs that failed: one output that fails (a
        plugin bug, an odd name) never costs the others. An unwritable path
        (:class:`posture.atomic.WriteError`) is raised.
        """
        from posture.atomic import WriteError, ensure_dir

        outputs = self.registry.outputs
        written: list[Path] = []
        broken: list[str] = []
        ensure_dir(output_dir)
        for name in sorted(formats, key=lambda n: outputs[n].suffix is None):
            out = outputs[name]
            path = output_dir / f"{REPORT_BASENAME}{out.suffix}" if out.suffix else None
            try:
                out.write(report, path, console)
            except WriteError:
                raise
            except Exception as exc:  # noqa: BLE001 - reported by the caller, the other outputs are still written
                broken.append(f"output {name!r} failed: {type(exc).__name__}: {exc}")
                continue
            if path is not None:
                written.append(path)
        return written, broken
