"""Evaluate a fact file as a stream: one pass, memory bounded by checks and scopes, not by facts.

``posture evaluate`` on an organisation's million facts cannot hold the facts and the results in memory
(12.5 KB a fact). Here each fact is evaluated as it is read and dropped: every check of its type runs
once with the selected tier's parameters and its result goes, serialised, to a :class:`ResultSpool`;
every other tier of the chain reuses that verdict unless it reads other parameter values, in which case
the check runs again for that tier's attainment only. Attainment is counted per (tier, scope, control)
as verdicts come; the failing fingerprints are kept, as the report lists them. Waivers are applied as
results are made. Checks read one fact each, so nothing is grouped across facts.

What comes out is what :func:`posture.engine.evaluate` makes of the same facts: the same results in the
same order, the same attainment, summary and coverage (``tests/core/test_streaming.py`` compares them).
"""

from __future__ import annotations

import copy
import json
import multiprocessing
import resource
from collections import Counter, defaultdict
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from posture import conditions, engine
from posture.checks import Check
from posture.facts import (
    CollectionError,
    Coverage,
    Fact,
    FactFileError,
    FactSet,
    FilePart,
    ReadState,
    check_parts,
    iter_records,
    peek_metadata,
    split_file,
)
from posture.outputs.sarif import rank
from posture.report import Report, Result, fingerprint, summarize
from posture.result_spool import ResultSpool, SpoolPart
from posture.selection import NO_SELECTION, Selection
from posture.tags import fact_tags
from posture.terminal import debug

if TYPE_CHECKING:
    from posture.tiers import ResolvedTier

_PRETTY = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS
#: a result's JSON sits two levels deep in the report (``{"results": [...]}``)
RESULT_INDENT = b"    "


@dataclass
class StreamedReport(Report):
    """A report whose results were spooled, not kept: ``results`` is empty and the summary was counted."""

    tally: dict[str, Any] = field(default_factory=dict)

    @property
    def summary(self) -> dict[str, Any]:
        return self.tally


@dataclass
class _TierRun:
    """A check run for the results, with the selected tier's parameters."""

    check: Check
    params: dict[str, Any]
    evaluator: conditions.Evaluator
    severity: str
    controls: list[str]


@dataclass
class _LevelRun:
    """A check counted for one tier of the chain: the selected tier's verdict (``reuse``) or its own run."""

    check: Check
    counted: tuple[str, ...]  # the tier's controls whose attainment the verdict counts towards
    tier_index: int | None  # the same check among the selected tier's runs, if it is one of them
    reuse: bool
    params: dict[str, Any] = field(default_factory=dict)
    evaluator: conditions.Evaluator | None = None


@dataclass
class _TypePlan:
    """Everything run on one (provider, fact type)."""

    tier: list[_TierRun] = field(default_factory=list)
    levels: list[list[_LevelRun]] = field(default_factory=list)


@dataclass
class Findings:
    """What the stream leaves besides the spooled results; parts of a file evaluated apart are merged."""

    errors: list[CollectionError] = field(default_factory=list)
    coverage: list[Coverage] = field(default_factory=list)
    scope_records: list[dict[str, Any]] = field(default_factory=list)
    seen_scopes: set[tuple[str, str]] = field(default_factory=set)
    seen_types: set[tuple[str, str]] = field(default_factory=set)
    #: (tier index, provider, scope) -> control -> counts
    counts: dict[tuple[int, str, str], dict[str, engine.ControlCounts]] = field(default_factory=dict)
    by_status: Counter[str] = field(default_factory=Counter)
    failing: Counter[str] = field(default_factory=Counter)  # failures by severity
    waivers_applied: Counter[str] = field(default_factory=Counter)
    waivers_would_match: Counter[str] = field(default_factory=Counter)

    def merge(self, other: Findings) -> None:
        """Add what ``other`` found in the part of the file after this one's."""
        self.errors += other.errors
        self.coverage += other.coverage
        self.scope_records += other.scope_records
        self.seen_scopes |= other.seen_scopes
        self.seen_types |= other.seen_types
        for key, controls in other.counts.items():
            mine = self.counts.setdefault(key, defaultdict(engine.ControlCounts))
            for cid, c in controls.items():
                m = mine[cid]
                m.passed, m.failed, m.errors, m.waived = (m.passed + c.passed, m.failed + c.failed,
                                                          m.errors + c.errors, m.waived + c.waived)
                m.failing += c.failing
        for name in ("by_status", "failing", "waivers_applied", "waivers_would_match"):
            getattr(self, name).update(getattr(other, name))


class _Waivers:
    """Waivers applied to each result as it is made, as :func:`posture.waivers.apply_waivers` does."""

    def __init__(self, waivers: list[Any], today: date) -> None:
        from posture.waiver_index import WaiverIndex

        self.active = [w for w in waivers if not w.expired(today)]
        self.expired = [w for w in waivers if w.expired(today)]
        self._active, self._expired = WaiverIndex(self.active), WaiverIndex(self.expired)

    def apply(self, result: Result, tags: dict[str, str | None], found: Findings) -> None:
        def decide(w: Any) -> bool:
            return bool(w.matches(result, tags))

        waiver = self._active.first(result, decide)
        if waiver is not None:
            result.status = "waived"
            result.justification = waiver.justification
            result.waiver = {"id": waiver.id, "owner": waiver.owner, "justification": waiver.justification,
                             "expires": waiver.expires.isoformat()}
            found.waivers_applied[waiver.id] += 1
            return
        for w in self._expired.all(result, decide):
            found.waivers_would_match[w.id] += 1

    def coverage(self, found: Findings) -> dict[str, Any]:
        return {
            "expired_waivers": [{**w.to_dict(), "matching_failures": found.waivers_would_match[w.id]}
                                for w in self.expired],
            "waivers": {"applied": sum(found.waivers_applied[i] for i in {w.id for w in self.active}),
                        "unused": sorted({w.id for w in self.active if not found.waivers_applied[w.id]})},
        }


class StreamingEvaluation:
    """One fact file evaluated against one tier; results go to ``spool``, the rest is kept to build the report."""

    def __init__(self, tier: ResolvedTier, checks: Mapping[str, Check], spool: ResultSpool, *,
                 providers: Iterable[str], metadata: dict[str, Any], selection: Selection = NO_SELECTION,
                 waivers: list[Any] | None = None, today: date | None = None,
                 originals: Container[str] = ()) -> None:
        """``originals``: the statuses whose results the spool also keeps as made (SARIF lists failures with
        their evidence in its own order; outputs reading every result want them all)."""
        self._originals = originals
        self.tier, self.checks, self.spool, self.metadata = tier, checks, spool, metadata
        self._providers = set(providers)
        self._selection = selection
        self._waivers = _Waivers(waivers, today or date.today()) if waivers is not None else None
        self._plans: dict[tuple[str, str], _TypePlan] | None = None
        self.chain: engine.Chain | None = None
        self.found = Findings()
        self._current: tuple[str, str] | None = None

    def fork(self, spool: ResultSpool) -> StreamingEvaluation:
        """The same evaluation (plans, waivers) for another part of the file, into ``spool``."""
        other = copy.copy(self)
        other.spool, other.found, other._current = spool, Findings(), None
        return other

    # ----------------------------------------------------------------------------------- planning
    def _plan(self) -> dict[tuple[str, str], _TypePlan]:
        """The checks for each (provider, fact type), with the collection time as the clock."""
        if self._plans is not None:
            return self._plans
        tier, now = self.tier, engine._clock(FactSet(metadata=self.metadata))
        chain = self.chain = engine.plan_chain(tier, self.checks, self._providers, self._selection)
        plans: dict[tuple[str, str], _TypePlan] = defaultdict(lambda: _TypePlan(levels=[[] for _ in tier.levels]))
        tier_index: dict[str, tuple[int, Check]] = {}
        for check in chain.selected:
            params = engine.check_parameters(tier, check)
            plan = plans[(check.provider, check.fact_type)]
            tier_index[check.id] = (len(plan.tier), check)
            plan.tier.append(_TierRun(check, params, conditions.Evaluator(params, now=now),
                                      engine.check_severity(tier, check),
                                      sorted(x for x in check.controls if x in tier.controls)))
        for li, level in enumerate(tier.levels):
            for check in engine.select_checks(level, chain.provider_checks) if level.id != tier.id else chain.selected:
                counted = tuple(cid for cid in check.controls if cid in level.controls
                                and not level.controls[cid].excluded
                                and (chain.only_controls is None or cid in chain.only_controls))
                index = tier_index.get(check.id)
                reuse = index is not None and (level.id == tier.id or engine._params_read(level, check)
                                               == engine._params_read(tier, check))
                run = _LevelRun(check, counted, index[0] if index else None, reuse)
                if not reuse:
                    run.params = engine.check_parameters(level, check)
                    run.evaluator = conditions.Evaluator(run.params, now=now)
                plans[(check.provider, check.fact_type)].levels[li].append(run)
        self._plans = dict(plans)
        return self._plans

    # ----------------------------------------------------------------------------------- the stream
    def run(self, records: Iterable[tuple[str, Any]]) -> None:
        """Consume (kind, record) pairs as :func:`posture.facts.iter_records` yields them."""
        for kind, record in records:
            if kind == "fact":
                self.fact(record)
            elif kind == "error":
                self.error(record)
            elif kind == "collected":
                self.found.coverage.append(record)
                self.found.seen_types.add((record.provider, record.fact_type))
            elif kind == "scope":
                self.found.scope_records.append(record)

    def run_parts(self, path: Path, parts: list[FilePart]) -> None:
        """Evaluate ``parts`` of the file in forked worker processes, one each, and merge what they made."""
        global _FORKED
        self._plan()  # once, before the fork: the workers share it
        _FORKED = (self, path)
        try:
            with multiprocessing.get_context("fork").Pool(len(parts)) as pool:
                outcomes = pool.map(_evaluate_part, [(i, part, self.spool.part_directory())
                                                     for i, part in enumerate(parts)], chunksize=1)
        finally:
            _FORKED = None
        states: list[ReadState] = []
        for outcome in outcomes:
            self.spool.adopt(outcome.spool)
            states.append(outcome.state)
            if outcome.error:
                check_parts(path, states, complete=False)  # a part after the footer is the first problem
                raise FactFileError(outcome.error)
            self.found.merge(outcome.found)
            self.metadata.update(outcome.metadata)
        check_parts(path, states)
        debug(f"evaluated {path} in {len(parts)} parts; peak RSS of each worker: "
              + ", ".join(f"{o.peak_rss_mib:.0f} MiB" for o in outcomes))

    def _enter(self, provider: str, scope: str) -> None:
        """A new scope: the results so far are one sorted run (a file in scope order reads back in one pass)."""
        key = (provider, scope)
        if key != self._current:
            self.spool.flush()
            self._current = key
            self.found.seen_scopes.add(key)

    def fact(self, fact: Fact) -> None:
        plans = self._plan()
        self._enter(fact.provider, fact.scope)
        self.found.seen_types.add((fact.provider, fact.type))
        plan = plans.get((fact.provider, fact.type))
        if plan is None:
            return
        tags = (fact_tags(fact.attributes) or {}) if self._waivers is not None else None
        verdicts: list[tuple[str, bool, str]] = []  # per tier run: status before waivers, waived, fingerprint
        for run in plan.tier:
            check = run.check
            status, message, evidence, code = _outcome(check, fact, run.params, run.evaluator)
            result = Result(
                check_id=check.id, status=status, provider=fact.provider, scope=fact.scope, region=fact.region,
                resource_id=fact.id, resource_name=fact.name, resource_type=fact.type, controls=run.controls,
                severity=run.severity, message=message, evidence=engine._jsonable(evidence), error_code=code)
            if status == "fail" and self._waivers is not None:
                self._waivers.apply(result, tags or {}, self.found)
            self._emit(result)
            verdicts.append((status, result.status == "waived", result.fingerprint))
        for li, runs in enumerate(plan.levels):
            counts = self._counts_for(li, fact.provider, fact.scope)
            for lrun in runs:
                if lrun.reuse:
                    status, waived, fp = verdicts[lrun.tier_index]  # type: ignore[index]
                else:
                    status = _outcome(lrun.check, fact, lrun.params, lrun.evaluator)[0]
                    waived = lrun.tier_index is not None and verdicts[lrun.tier_index][1]
                    fp = fingerprint(fact.provider, fact.scope, lrun.check.id, fact.id) if status == "fail" else ""
                _count(counts, lrun.counted, status, waived, fp)

    def error(self, err: CollectionError, *, late: bool = False) -> None:
        """A fact type not collected in one scope/region: an error (or not applicable) for each check of it."""
        plans = self._plan()
        if not late:
            self._enter(err.provider, err.scope)
            self.found.seen_types.add((err.provider, err.fact_type))
        self.found.errors.append(err)
        plan = plans.get((err.provider, err.fact_type))
        if plan is None:
            return
        status = "not_applicable" if err.not_applicable else "error"
        for run in plan.tier:
            self._emit(Result(
                check_id=run.check.id, status=status, provider=err.provider, scope=err.scope, region=err.region,
                resource_id=f"{err.provider}/{err.scope}/{err.region}/{err.fact_type}",
                resource_name=f"{err.fact_type} in {err.scope}/{err.region}", resource_type=err.fact_type,
                controls=run.controls, severity=run.severity,
                message=f"Could not assess: {err.code}: {err.message}", error_code=err.code,
            ), late=late)
        for li, runs in enumerate(plan.levels):
            counts = self._counts_for(li, err.provider, err.scope)
            for lrun in runs:
                _count(counts, lrun.counted, status, False, "")

    def _counts_for(self, level: int, provider: str, scope: str) -> dict[str, engine.ControlCounts]:
        key = (level, provider, scope)
        counts = self.found.counts.get(key)
        if counts is None:
            counts = self.found.counts[key] = defaultdict(engine.ControlCounts)
        return counts

    def _emit(self, result: Result, *, late: bool = False) -> None:
        self.found.by_status[result.status] += 1
        if result.status == "fail":
            self.found.failing[result.severity] += 1
        d = result.to_dict()
        original = orjson.dumps(d) if result.status in self._originals else b""
        (self.spool.add_late if late else self.spool.add)(result.sort_key, result.status, rank(result.severity),
                                                          result_json(d), original)

    # ----------------------------------------------------------------------------------- the end
    def finish(self, plugin_problems: list[dict[str, str]] | None = None) -> StreamedReport:
        """After the last record: results only known then (excluded controls, fact types never collected),
        attainment, and the report (without its results, which are in the spool)."""
        self._plan()
        chain = self.chain
        assert chain is not None
        tier, found = self.tier, self.found
        scopes = engine._scopes(FactSet(scopes=found.scope_records)) if found.scope_records else [
            {"provider": p, "id": s, "name": s, "kind": "", "parent": ""} for p, s in sorted(found.seen_scopes)]
        for provider, fact_type in sorted({(c.provider, c.fact_type) for c in chain.needed} - found.seen_types):
            for err in engine.not_collected_errors(self.metadata, provider, fact_type, scopes):
                self.error(err, late=True)
        for check, cid, justification in chain.excluded:
            for scope in scopes:
                if scope["provider"] == check.provider:
                    self._emit(engine.excluded_result(tier, check, cid, justification, scope), late=True)

        implementing_by = engine.implementing_checks(chain.provider_checks.values())
        none: dict[str, engine.ControlCounts] = {}
        attainment = []
        for li, level in enumerate(tier.levels):
            for s in scopes:
                counted = found.counts.get((li, s["provider"], s["id"]), none)
                attainment.append(engine.scope_attainment(
                    level, s["provider"], s["id"], implementing_by,
                    lambda cid, counted=counted: counted.get(cid) or engine.ControlCounts(), chain.only_controls))
        report = engine.build_report(tier, self.checks, chain, self.metadata, scopes, [], attainment, found.errors,
                                     found.coverage, plugin_problems=plugin_problems)
        if self._waivers is not None:
            report.coverage.update(self._waivers.coverage(found))
        streamed = StreamedReport(**{f: getattr(report, f) for f in Report.__dataclass_fields__})
        streamed.tally = summarize(found.by_status, found.failing, streamed.coverage)
        return streamed


def result_json(d: dict[str, Any]) -> bytes:
    """A result's dict form as the JSON report writes it (two-space indent, sorted keys, at its depth)."""
    try:
        text = orjson.dumps(d, option=_PRETTY)
    except (TypeError, orjson.JSONEncodeError):  # what orjson refuses (an integer past 64 bits)
        text = json.dumps(d, indent=2, ensure_ascii=False, sort_keys=True).encode()
    return RESULT_INDENT + text.replace(b"\n", b"\n" + RESULT_INDENT)


def _outcome(check: Check, fact: Fact, params: dict[str, Any], evaluator: conditions.Evaluator | None
             ) -> tuple[str, str, Any, str]:
    try:
        outcome = check.evaluate(fact, params, evaluator)
        return outcome.status, outcome.message, outcome.evidence, ""
    except Exception as exc:  # a broken check is an error result, never a crashed scan
        return "error", f"check failed: {exc}", {}, type(exc).__name__


def _count(counts: dict[str, engine.ControlCounts], controls: tuple[str, ...], status: str, waived: bool,
           fp: str) -> None:
    for cid in controls:
        c = counts[cid]
        if status == "pass":
            c.passed += 1
        elif status == "fail":
            c.failed += 1
            c.failing.append(fp)
            c.waived += waived
        elif status == "error":
            c.errors += 1


def evaluate_file(path: Path, tier: ResolvedTier, checks: Mapping[str, Check], spool: ResultSpool, *,
                  providers: Iterable[str], selection: Selection = NO_SELECTION, waivers: list[Any] | None = None,
                  plugin_problems: list[dict[str, str]] | None = None, originals: Container[str] = (),
                  workers: int = 1) -> StreamedReport:
    """Evaluate the fact file at ``path`` for ``providers`` into ``spool``; the report without its results.

    With ``workers`` > 1 the file is cut into as many parts (at scope boundaries), each evaluated by a
    forked process into a spool of its own that ``spool`` adopts; what they found is merged in file order,
    so the report is the same. Raises :class:`posture.facts.FactFileError` for a damaged file, after
    reading it to the end.
    """
    metadata = peek_metadata(path)
    run = StreamingEvaluation(tier, checks, spool, providers=providers, metadata=metadata, selection=selection,
                              waivers=waivers, originals=originals)
    parts = split_file(path, workers) if workers > 1 else []
    if len(parts) > 1:
        run.run_parts(path, parts)
    else:
        run.run(iter_records(path, metadata))
    return run.finish(plugin_problems)


#: a fact file smaller than this is evaluated in one process (forking costs more than it saves)
PARALLEL_FROM_BYTES = 64 << 20
MAX_AUTO_WORKERS = 4
WORKERS_ENV = "POSTURE_EVALUATE_WORKERS"


def workers_for(path: Path) -> int:
    """``$POSTURE_EVALUATE_WORKERS`` processes (0 or unset: one per CPU, up to four, for a file of 64 MiB
    or more; one below)."""
    import os

    from posture.environment import value

    wanted = value(WORKERS_ENV) or 0
    if wanted:
        return wanted
    return min(os.cpu_count() or 1, MAX_AUTO_WORKERS) if path.stat().st_size >= PARALLEL_FROM_BYTES else 1


#: the evaluation a forked worker continues (set just before the pool forks)
_FORKED: tuple[StreamingEvaluation, Path] | None = None


def _evaluate_part(task: tuple[int, FilePart, str]) -> _PartOutcome:
    """In a worker: one part of the file into a spool handed back to the parent."""
    index, part, directory = task
    assert _FORKED is not None
    parent, path = _FORKED
    spool = ResultSpool(directory, first_seq=index << 40, handed_over=True)
    run = parent.fork(spool)
    state, metadata = ReadState(), dict(parent.metadata)
    error = ""
    try:
        run.run(iter_records(path, metadata, part, state))
    except FactFileError as exc:
        error = str(exc)
    handed = spool.hand_over()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return _PartOutcome(handed, run.found, state, metadata, error, peak)


@dataclass
class _PartOutcome:
    spool: SpoolPart
    found: Findings
    state: ReadState
    metadata: dict[str, Any]
    error: str
    peak_rss_mib: float


