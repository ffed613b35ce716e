"""Checks: one control implemented for one cloud resource type.

Most checks are data (YAML files next to their plugin, validated against
``posture/schemas/checks.schema.json``)::

    provider: aws
    checks:
      - id: aws.s3.bucket.default_encryption
        title: S3 bucket encrypts new objects by default
        fact_type: aws.s3.bucket
        controls: [DP-03]
        severity: medium            # optional; defaults to the control's severity
        applies_when: {...}         # optional condition; false -> not_applicable
        condition: {...}            # must hold for the resource to pass
        message: "Bucket {name} has no default encryption"   # optional, {name}/{id}/{region}
        remediation: |
          Markdown text.
        references: [https://...]
        sensitive_evidence: [ip_ranges]   # optional evidence keys (fnmatch globs) whose values
                                          # never leave in exports meant for other systems (OCSF, CSV)

A check whose logic can't be a condition is a Python function
``fn(fact, params) -> Outcome`` wrapped in a :class:`Check` with
``function=`` and registered by its plugin.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from posture import conditions
from posture.documents import Document, DocumentError, read_document, validate_schema
from posture.facts import Fact

SEVERITIES = ("critical", "high", "medium", "low", "info")
STATUSES = ("pass", "fail", "error", "not_applicable", "excluded", "waived")
SCHEMA_DIR = Path(__file__).parent / "schemas"


@dataclass(frozen=True)
class Outcome:
    """What evaluating one check on one fact gives."""

    status: str  # pass | fail | not_applicable
    message: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)


CheckFunction = Callable[[Fact, Mapping[str, Any]], Outcome]


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    provider: str
    fact_type: str
    controls: tuple[str, ...]
    remediation: str = ""
    description: str = ""
    severity: str | None = None
    condition: Mapping[str, Any] | None = None
    applies_when: Mapping[str, Any] | None = None
    message: str = ""
    references: tuple[str, ...] = ()
    #: evidence keys (fnmatch globs) whose values exports for other systems (OCSF, CSV) must redact
    sensitive_evidence: tuple[str, ...] = ()
    function: CheckFunction | None = field(default=None, compare=False)
    source: str = ""

    def __post_init__(self) -> None:
        if (self.condition is None) == (self.function is None):
            raise ValueError(f"check {self.id}: exactly one of condition or function is required")
        if self.severity is not None and self.severity not in SEVERITIES:
            raise ValueError(f"check {self.id}: unknown severity {self.severity!r}")

    @property
    def parameters(self) -> set[str]:
        """Tier parameters this check reads (declarative checks only)."""
        return conditions.parameters_used(self.condition) | conditions.parameters_used(self.applies_when)

    def evaluate(self, fact: Fact, params: Mapping[str, Any], evaluator: conditions.Evaluator | None = None
                 ) -> Outcome:
        if self.function is not None:
            return self.function(fact, params)
        ev = evaluator or conditions.Evaluator(params)
        evidence: dict[str, Any] = {}
        if self.applies_when is not None and not ev.evaluate(self.applies_when, fact.attributes, evidence):
            return Outcome("not_applicable", f"{self.title}: does not apply to {fact.name}", evidence)
        assert self.condition is not None
        ok = ev.evaluate(self.condition, fact.attributes, evidence)
        if ok:
            return Outcome("pass", f"{fact.name}: {self.title}", evidence)
        return Outcome("fail", self._fail_message(fact), evidence)

    def _fail_message(self, fact: Fact) -> str:
        if self.message:
            try:
                return self.message.format(name=fact.name, id=fact.id, region=fact.region, scope=fact.scope)
            except (KeyError, IndexError, ValueError):
                return self.message
        return f"{fact.name}: fails '{self.title}'"


def required_keys(attribute: str, *, param: str = "required_tags", noun: str = "tag",
                  case_sensitive: bool = True) -> CheckFunction:
    """A check function: the keys at ``attribute`` (a list of names or a mapping) must include every
    name in tier parameter ``param``. Fails naming the missing keys.

    Shared by every provider's "resources carry ownership tags/labels" checks (INV-03), which a
    plain condition can only express without saying *which* key is missing.
    """

    def fold(name: Any) -> str:
        return str(name) if case_sensitive else str(name).lower()

    def check(fact: Fact, params: Mapping[str, Any]) -> Outcome:
        required = [str(t) for t in params.get(param) or ()]
        present = sorted(str(k) for k in (fact.attributes.get(attribute) or ()))
        have = {fold(k) for k in present}
        missing = [t for t in required if fold(t) not in have]
        evidence = {param: required, attribute: present, "missing": missing}
        if missing:
            return Outcome("fail", f"{fact.name} lacks required {noun}(s): {', '.join(missing)}", evidence)
        return Outcome("pass", f"{fact.name} carries every required {noun}", evidence)

    check.__name__ = f"required_{noun}s_at_{attribute}"
    return check


def function_check(check_id: str, function: CheckFunction, *, fact_type: str, title: str,
                   controls: Iterable[str], source: str = "", **more: Any) -> Check:
    """A check evaluated by a Python function, for the logic a condition cannot say.

    The provider is the id's first segment (ids are ``<provider>.<service>...``), so a plugin
    writes only what is particular to the check; ``more`` takes the other :class:`Check` fields.
    """
    return Check(id=check_id, title=title, provider=check_id.split(".", 1)[0], fact_type=fact_type,
                 controls=tuple(controls), function=function, source=source, **more)


def required_keys_check(check_id: str, fact_type: str, label: str, *, attribute: str, remediation: str,
                        noun: str = "tag", case_sensitive: bool = True, source: str = "",
                        references: tuple[str, ...] = ()) -> Check:
    """The INV-03 check every cloud has: ``label`` resources carry the tier's required tags/labels
    (parameter ``required_tags``), evaluated by :func:`required_keys` on ``attribute``."""
    what = "ownership tags" if noun == "tag" else f"{noun}s"
    return function_check(check_id, required_keys(attribute, noun=noun, case_sensitive=case_sensitive),
                          fact_type=fact_type, title=f"{label} carries the required {what}", controls=("INV-03",),
                          remediation=remediation, references=references, source=source)


class CheckFileError(DocumentError):
    """A malformed check file: names the file, the line, the path inside it and the problem."""


_CONDITION_PART = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")


def _condition_problem(doc: Document, at: list[Any], exc: conditions.ConditionError) -> CheckFileError:
    """``condition.all[0].op: unknown operator`` located in the file."""
    where, _, problem = str(exc).partition(": ")
    parts = [int(i) if i else name for name, i in _CONDITION_PART.findall(where)]
    return doc.error([*at, *parts], problem or str(exc))


def load_check_file(path: str | Path) -> list[Check]:
    """Load and validate a YAML check file."""
    path = Path(path)
    doc = read_document(path, CheckFileError)
    validate_schema(doc, SCHEMA_DIR / "checks.schema.json", "check")
    data = doc.data
    provider = data["provider"]
    checks: list[Check] = []
    for i, item in enumerate(data["checks"]):
        for part in ("condition", "applies_when"):
            if part in item:
                try:
                    conditions.validate(item[part], part)
                except conditions.ConditionError as exc:
                    raise _condition_problem(doc, ["checks", i], exc) from None
        checks.append(
            Check(
                id=item["id"],
                title=item["title"],
                provider=provider,
                fact_type=item["fact_type"],
                controls=tuple(item["controls"]),
                remediation=item.get("remediation", "").strip(),
                description=item.get("description", "").strip(),
                severity=item.get("severity"),
                condition=item.get("condition"),
                applies_when=item.get("applies_when"),
                message=item.get("message", ""),
                references=tuple(item.get("references", ())),
                sensitive_evidence=tuple(item.get("sensitive_evidence", ())),
                source=str(path),
            )
        )
    return checks
