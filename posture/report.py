"""Report: results + scan metadata + coverage + tier attainment.

The report is the one object every output renders, and its dict form (the
JSON output, schema ``posture/schemas/report.schema.json``) is what
``posture compare``, ``posture report`` and ``posture diff`` read back.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

REPORT_SCHEMA_ID = "posture.report/v1"
STATUSES = ("pass", "fail", "error", "not_applicable", "excluded", "waived")
SEVERITY_ORDER = {"critical": 4, "high": 3, "medium": 2, "low": 1, "info": 0}
#: SARIF/GitHub security-severity for each severity (>= 9 critical, >= 7 high, >= 4 medium).
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "0.0"}


def fingerprint(provider: str, scope: str, check_id: str, resource_id: str) -> str:
    """A result's fingerprint (:attr:`Result.fingerprint`) from the fields it is made of."""
    return hashlib.sha256(f"{provider}\x00{scope}\x00{check_id}\x00{resource_id}".encode()).hexdigest()[:32]


@dataclass
class Result:
    """One check on one resource."""

    check_id: str
    status: str  # pass | fail | error | not_applicable | excluded | waived
    provider: str
    scope: str
    region: str
    resource_id: str
    resource_name: str
    resource_type: str
    controls: list[str]
    severity: str
    message: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    error_code: str = ""
    justification: str = ""
    waiver: dict[str, Any] | None = None
    baseline_state: str = ""  # new | unchanged | absent, filled from scan history
    #: evaluated only for a framework (``--framework``): not selected by the tier, not in its attainment
    framework_only: bool = False

    @property
    def fingerprint(self) -> str:
        """Stable across runs: where (provider, scope), the check and the resource, nothing that varies.

        The scope is part of it because some resource ids are the same in every account (an
        AWS-managed policy's ARN): two accounts' results must never collapse into one.
        """
        key = (self.provider, self.scope, self.check_id, self.resource_id)
        cached = self.__dict__.get("_fingerprint")
        if cached is not None and cached[0] == key:  # asked for by every output, waivers and attainment
            return cached[1]
        fp = fingerprint(*key)
        self.__dict__["_fingerprint"] = (key, fp)
        return fp

    @property
    def sort_key(self) -> tuple[str, ...]:
        return (self.provider, self.scope, self.region, self.check_id, self.resource_id)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form. Built field by field: ``dataclasses.asdict`` deep-copied every evidence value
        and took a quarter of the time of writing a large report."""
        d = {name: getattr(self, name) for name in _RESULT_FIELDS}
        d["controls"] = list(self.controls)
        d["evidence"] = dict(self.evidence)
        if self.waiver is None:
            d.pop("waiver")
        else:
            d["waiver"] = dict(self.waiver)
        if not self.framework_only:
            d.pop("framework_only")
        d["fingerprint"] = self.fingerprint
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Result:
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**fields)


_RESULT_FIELDS = tuple(Result.__dataclass_fields__)


@dataclass
class ControlAttainment:
    control: str
    status: str  # pass | fail | error | not_applicable | excluded | not_assessed
    passed: int = 0
    failed: int = 0
    errors: int = 0
    justification: str = ""
    #: fingerprints of the results that failed when this tier was evaluated (before any waiver), so
    #: waivers can be applied, and taken back, on every tier of the chain exactly
    failing: list[str] = field(default_factory=list)

    def recount(self) -> None:
        """Status from the counts: any failure fails; else any error; else any pass; else nothing applied."""
        if self.status in ("excluded", "not_assessed"):
            return
        self.status = ("fail" if self.failed else "error" if self.errors else
                       "pass" if self.passed else "not_applicable")

    @classmethod
    def from_counts(cls, control: str, passed: int, failed: int, errors: int,
                    failing: list[str] | None = None) -> ControlAttainment:
        att = cls(control, "", passed, failed, errors, failing=sorted(failing or []))
        att.recount()
        return att


@dataclass
class TierAttainment:
    """Whether one scope attains one tier of the selected tier's chain.

    ``status`` is ``attained`` (every control passed or is not applicable /
    excluded), ``not_attained`` (some control failed) or ``incomplete`` (no
    failure, but some control could not be assessed: an error, or no check on
    this provider; controls the catalogue marks not applicable to the provider
    count as not applicable).
    """

    tier: str
    provider: str
    scope: str
    status: str
    pass_rate: float
    controls: list[ControlAttainment] = field(default_factory=list)
    #: only the controls of a check selection (--check, --service, ...) were assessed
    partial: bool = False

    def recount(self) -> None:
        """Pass rate and status from the controls (the one place these rules live)."""
        counted = [c for c in self.controls if c.status in ("pass", "fail", "error", "not_assessed")]
        self.pass_rate = round(sum(c.status == "pass" for c in counted) / len(counted), 4) if counted else 1.0
        if any(c.status == "fail" for c in self.controls):
            self.status = "not_attained"
        elif any(c.status in ("error", "not_assessed") for c in self.controls):
            self.status = "incomplete"
        else:
            self.status = "attained"

    @classmethod
    def from_controls(cls, tier: str, provider: str, scope: str, controls: list[ControlAttainment]
                      ) -> TierAttainment:
        att = cls(tier, provider, scope, "", 0.0, controls)
        att.recount()
        return att

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if not self.partial:
            d.pop("partial")
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TierAttainment:
        ctrls = [ControlAttainment(**c) for c in data.get("controls", [])]
        return cls(**{**{k: data[k] for k in ("tier", "provider", "scope", "status", "pass_rate")},
                      "controls": ctrls, "partial": bool(data.get("partial", False))})


def summarize(by_status: Mapping[str, int], failing: Mapping[str, int], coverage: Mapping[str, Any]
              ) -> dict[str, Any]:
    """The report's summary from the count of results by status and of failures by severity."""
    return {
        "results": sum(by_status.values()),
        "by_status": {s: by_status.get(s, 0) for s in STATUSES},
        "failures_by_severity": {s: failing.get(s, 0) for s in SEVERITY_ORDER},
        # a disabled API (a not_applicable collection error) is an answer, not missing coverage
        "complete": by_status.get("error", 0) == 0 and not any(
            not e.get("not_applicable") for e in coverage.get("errors", [])),
    }


@dataclass
class Report:
    tool: dict[str, str]
    tier: dict[str, Any]
    scopes: list[dict[str, Any]]
    started_at: str
    finished_at: str
    results: list[Result]
    checks: dict[str, dict[str, Any]]
    controls: dict[str, dict[str, Any]]
    coverage: dict[str, Any]
    attainment: list[TierAttainment]
    requests: int = 0
    metadata: dict[str, Any] = field(default_factory=dict)
    #: framework sections (``--framework``), see posture.frameworks
    frameworks: list[dict[str, Any]] = field(default_factory=list)
    #: the check selection that narrowed the tier (--check, --service, ...); None for the whole tier
    selection: dict[str, list[str]] | None = None
    #: (provider, scope, resource id) -> tags/labels its facts carry (value None: key only), for tag
    #: waivers; never written out (tag values stay out of reports), None for a report read from JSON
    resource_tags: dict[tuple[str, str, str], dict[str, str | None]] | None = field(default=None, repr=False)

    @property
    def summary(self) -> dict[str, Any]:
        return summarize(Counter(r.status for r in self.results),
                         Counter(r.severity for r in self.results if r.status == "fail"), self.coverage)

    def failures_at_or_above(self, severity: str) -> list[Result]:
        threshold = SEVERITY_ORDER[severity]
        return [r for r in self.results if r.status == "fail" and SEVERITY_ORDER.get(r.severity, 0) >= threshold]

    def to_dict(self, *, results: bool = True) -> dict[str, Any]:
        """The JSON form; ``results=False`` leaves the results out (the history keeps them apart)."""
        out = {
            "schema": REPORT_SCHEMA_ID,
            "tool": self.tool,
            "tier": self.tier,
            "scopes": self.scopes,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "requests": self.requests,
            "summary": self.summary,
            "attainment": [a.to_dict() for a in self.attainment],
            "coverage": self.coverage,
            "controls": self.controls,
            "checks": self.checks,
            "results": [r.to_dict() for r in self.results],
            "metadata": self.metadata,
            **({"frameworks": self.frameworks} if self.frameworks else {}),
            **({"selection": self.selection} if self.selection else {}),
        }
        if not results:
            del out["results"]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        if data.get("schema") != REPORT_SCHEMA_ID:
            raise ValueError(f"not a posture report (schema {data.get('schema')!r}, expected {REPORT_SCHEMA_ID!r})")
        return cls(
            tool=data["tool"],
            tier=data["tier"],
            scopes=data["scopes"],
            started_at=data["started_at"],
            finished_at=data["finished_at"],
            results=[Result.from_dict(r) for r in data["results"]],
            checks=data["checks"],
            controls=data["controls"],
            coverage=data["coverage"],
            attainment=[TierAttainment.from_dict(a) for a in data["attainment"]],
            requests=data.get("requests", 0),
            metadata=data.get("metadata", {}),
            frameworks=data.get("frameworks", []),
            selection=data.get("selection"),
        )


def load_report(path: str) -> Report:
    """Read a JSON report written by ``posture scan --format json``."""
    import json

    from posture.documents import NestingError, loads_json

    with open(path, encoding="utf-8") as fh:
        try:
            data = loads_json(fh.read())
        except NestingError as exc:
            raise ValueError(f"{path}:{exc.line}: {exc}" if exc.line else f"{path}: {exc}") from None
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not valid JSON: {exc.msg} (line {exc.lineno})") from None
    try:
        return Report.from_dict(data)
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{path}: malformed posture report: missing or bad field {exc}") from None
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
