"""Waivers: accepted risks with an owner, a justification and an expiry date.

A waiver turns matching *failures* into ``waived`` results (so they stop
failing CI and SARIF marks them as suppressed) until it expires; after that
the failures come back and the waiver is listed in
``report.coverage["expired_waivers"]`` so someone renews or fixes it.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from fnmatch import fnmatchcase
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from posture.documents import DocumentError, read_document, schema_errors, short_repr, type_name
from posture.report import Report
from posture.waiver_index import WaiverIndex, glob_matcher

SCHEMA_PATH = Path(__file__).parent / "schemas" / "waivers.schema.json"


#: an organisation may keep 100k+ waivers (14 to 24 MB, by the length of their ids); other documents are capped at 5 MB
MAX_WAIVER_FILE_BYTES = 256_000_000


class WaiverError(DocumentError):
    """An unreadable or invalid waiver file: names the file, the line, the JSON path and the problem."""


@dataclass(frozen=True)
class Waiver:
    id: str
    resource: str
    owner: str
    justification: str
    expires: date
    check: str = ""
    control: str = ""
    provider: str = ""
    scope: str = ""
    #: tag/label key -> fnmatch glob on its value; matched against the tags the resource's facts carry
    tags: tuple[tuple[str, str], ...] = ()

    def expired(self, today: date) -> bool:
        """A waiver applies through its expiry date, inclusive."""
        return today > self.expires

    def matches(self, result: Any, tags: dict[str, str | None] | None = None) -> bool | None:
        """Whether the waiver covers ``result``; ``None`` when it names tags and ``tags`` are unknown.

        ``tags`` are what the resource's facts carry: values where the cloud's facts keep them
        (Azure tags, GCP labels), ``None`` where they keep only the key (AWS keeps tag keys, never
        values): such a key matches only the glob ``*``.
        """
        if not self._matches_without_tags(result):
            return False
        if not self.tags:
            return True
        if tags is None:
            return None
        folded = {k.lower(): v for k, v in tags.items()}
        for key, glob in self.tags:
            if key in tags:
                value = tags[key]
            elif result.provider == "azure" and key.lower() in folded:  # Azure tag names ignore case
                value = folded[key.lower()]
            else:
                return False
            if value is None and glob != "*":
                return False
            if value is not None and not fnmatchcase(str(value), glob):
                return False
        return True

    def _matches_without_tags(self, result: Any) -> bool:
        if self.check and result.check_id != self.check:
            return False
        if self.control and self.control not in result.controls:
            return False
        if self.provider and result.provider != self.provider:
            return False
        if self.scope and not self.scope_matcher(result.scope):
            return False
        return bool(self.resource_matcher(result.resource_id))

    @cached_property
    def resource_matcher(self) -> Callable[[str], Any]:
        """``fnmatchcase`` on the resource glob, built once (fnmatch's own cache holds 32k patterns)."""
        return glob_matcher(self.resource)

    @cached_property
    def scope_matcher(self) -> Callable[[str], Any]:
        return glob_matcher(self.scope)

    def to_dict(self) -> dict[str, Any]:
        d = {"id": self.id, "owner": self.owner, "justification": self.justification,
             "expires": self.expires.isoformat(), "resource": self.resource}
        for key in ("check", "control", "provider", "scope"):
            if getattr(self, key):
                d[key] = getattr(self, key)
        if self.tags:
            d["tags"] = dict(self.tags)
        return d


#: the schema's either/or rules for one waiver, as written in waivers.schema.json
_ONE_OF_CHECK_OR_CONTROL = [{"required": ["check"], "not": {"required": ["control"]}},
                            {"required": ["control"], "not": {"required": ["check"]}}]
_ANY_OF_RESOURCE_OR_TAGS = [{"required": ["resource"]}, {"required": ["tags"]}]


@lru_cache(maxsize=1)
def _fast_validator() -> tuple[Any, bool]:
    """The schema compiled to Python by fastjsonschema (its draft-07 keywords are all it uses), and
    whether the either/or rules were left to :func:`_either_or_holds`.

    fastjsonschema spends most of its time raising and catching inside ``oneOf``/``anyOf`` (two
    exceptions a waiver); with the same rules as two membership tests, 100k waivers are validated
    in 0.35 s instead of 1.3 s.
    """
    import fastjsonschema

    schema = copy.deepcopy(_schema())
    waiver = schema["$defs"]["waiver"]
    in_python = (waiver.get("oneOf") == _ONE_OF_CHECK_OR_CONTROL
                 and waiver.get("anyOf") == _ANY_OF_RESOURCE_OR_TAGS)
    if in_python:
        del waiver["oneOf"], waiver["anyOf"]
    schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    return fastjsonschema.compile(schema), in_python


def _either_or_holds(waivers: list[dict[str, Any]]) -> bool:
    """Each waiver gives exactly one of check/control, and a resource or tags."""
    return all(("check" in w) != ("control" in w) and ("resource" in w or "tags" in w) for w in waivers)


def _valid_fast(data: Any) -> bool:
    """True when the file is certainly valid: 100k waivers take 0.3 s here against 12 s in jsonschema.

    Anything else (invalid, or fastjsonschema unable to decide) goes to jsonschema, whose located
    messages are the ones users see.
    """
    validate, either_or_in_python = _fast_validator()
    try:
        validate(data)
    except Exception:  # noqa: BLE001 - any doubt: the slow, exact path decides
        return False
    return not either_or_in_python or _either_or_holds(data["waivers"])


@lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def load_waivers(path: str | Path, known_checks: Iterable[str] | None = None,
                 known_controls: Iterable[str] | None = None) -> list[Waiver]:
    """Load and validate a YAML waiver file (schema ``posture/schemas/waivers.schema.json``).

    With ``known_checks`` / ``known_controls`` a waiver naming a check or control that does not
    exist is an error with a did-you-mean: it would otherwise match nothing, silently, forever.
    """
    path = Path(path)
    doc = read_document(path, WaiverError, max_bytes=MAX_WAIVER_FILE_BYTES)
    if not isinstance(doc.data, dict):
        raise doc.error([], f"a waiver file must be a mapping at the top level, got {type_name(doc.data)}")
    errors = [] if _valid_fast(doc.data) else schema_errors(doc, SCHEMA_PATH, formats=True)
    if errors:
        parts, problem, err = max(errors, key=lambda e: len(e[0]))
        if err.validator == "oneOf":
            problem = "give exactly one of 'check' or 'control'"
        elif err.validator == "anyOf":
            problem = "give 'resource' (a glob on the resource id), 'tags' (tag/label key: value glob), or both"
        elif err.validator in ("pattern", "format") and parts[-1:] == ["expires"]:
            problem = f"{short_repr(err.instance)} is not a date (YYYY-MM-DD)"
        raise doc.error(parts, problem)
    known = (("check", None if known_checks is None else set(known_checks)),
             ("control", None if known_controls is None else set(known_controls)))
    dates: dict[str, date] = {}  # most waivers share a few expiry dates
    waivers: list[Waiver] = []
    seen: set[str] = set()
    for i, item in enumerate(doc.data["waivers"]):
        expires = dates.get(item["expires"])
        if expires is None:
            try:
                expires = dates[item["expires"]] = date.fromisoformat(item["expires"])
            except ValueError:
                raise doc.error(["waivers", i, "expires"], f"not a date: {short_repr(item['expires'])}") from None
        if item["id"] in seen:
            raise doc.error(["waivers", i, "id"], f"duplicate waiver id {short_repr(item['id'])}")
        seen.add(item["id"])
        for key, options in known:
            name = item.get(key)
            if name and options is not None and name not in options:
                raise doc.error(["waivers", i, key], f"unknown {key} {short_repr(name)}"
                                                     f"{_did_you_mean(name, options, key)}")
        waivers.append(Waiver(
            id=item["id"], resource=item.get("resource", "*"), owner=item["owner"],
            justification=item["justification"], tags=tuple(sorted((item.get("tags") or {}).items())),
            expires=expires, check=item.get("check", ""), control=item.get("control", ""),
            provider=item.get("provider", ""), scope=item.get("scope", ""),
        ))
    return waivers


def _did_you_mean(name: str, options: set[str], what: str) -> str:
    import difflib

    close = difflib.get_close_matches(name, sorted(options), n=3, cutoff=0.6)
    if close:
        return "; did you mean " + " or ".join(close) + "?"
    return f" (`posture checks list` lists the {what}s)" if what == "check" else \
        " (`posture tiers show tier-3` lists the controls)"


def apply_waivers(report: Report, waivers: list[Waiver], today: date | None = None) -> None:
    """Mark failures matched by an unexpired waiver as ``waived``; list expired waivers in coverage.

    The first matching waiver (file order) wins. Tier attainment is refreshed
    the way the engine counts (``waived`` like ``pass``). Results waived
    earlier are judged again, so applying waivers is idempotent and an expired
    or removed waiver no longer hides its failure.
    """
    today = today or date.today()
    tags_of = report.resource_tags  # None for a report read back from JSON: tags are never saved
    # Start from the evaluation's verdicts: a saved report re-rendered with an expired or removed
    # waiver must show the failure again.
    previously: dict[str, str] = {}
    for r in report.results:
        if r.status == "waived":
            previously[r.fingerprint] = (r.waiver or {}).get("id", "")
            r.status, r.justification, r.waiver = "fail", "", None
    active = [w for w in waivers if not w.expired(today)]
    expired = [w for w in waivers if w.expired(today)]
    would_match = dict.fromkeys((w.id for w in expired), 0)
    applied = dict.fromkeys((w.id for w in active), 0)
    active_index, expired_index = WaiverIndex(active), WaiverIndex(expired)
    for r in report.results:
        if r.status != "fail":
            continue
        tags = tags_of.get((r.provider, r.scope, r.resource_id), {}) if tags_of is not None else None

        def decide(w: Waiver, r: Any = r, tags: Any = tags) -> bool:
            return bool(_covers(w, r, tags, previously.get(r.fingerprint)))

        waiver = active_index.first(r, decide)
        if waiver is not None:
            r.status = "waived"
            r.justification = waiver.justification
            r.waiver = {"id": waiver.id, "owner": waiver.owner, "justification": waiver.justification,
                        "expires": waiver.expires.isoformat()}
            applied[waiver.id] += 1
            continue
        for w in expired_index.all(r, decide):
            would_match[w.id] += 1
    report.coverage["expired_waivers"] = [
        {**w.to_dict(), "matching_failures": would_match[w.id]} for w in expired
    ]
    report.coverage["waivers"] = {"applied": sum(applied.values()),
                                  "unused": sorted(w for w, n in applied.items() if n == 0)}
    refresh_attainment(report)


def _covers(waiver: Waiver, result: Any, tags: dict[str, str | None] | None, previous_id: str | None) -> bool:
    """A tag waiver on a saved report (tags unknown) still covers what it covered when tags were known."""
    verdict = waiver.matches(result, tags)
    if verdict is None:  # a tag waiver over a saved report: keep the decision made when tags were known
        return previous_id == waiver.id
    return verdict


def refresh_attainment(report: Report) -> None:
    """Recount each tier's controls after waivers, with the engine's rules.

    Every tier of the chain keeps the fingerprints that failed when it was
    evaluated (``ControlAttainment.failing``); a failure counts as passed
    while its result is waived. Tiers evaluated with other parameters or other
    exclusions than the selected one are therefore exact too.
    """
    waived = {r.fingerprint for r in report.results if r.status == "waived"}
    for att in report.attainment:
        for ctrl in att.controls:
            if not ctrl.failing:
                continue  # nothing failed in this tier (or a report written before failures were kept)
            still = sum(fp not in waived for fp in ctrl.failing)
            ctrl.passed += ctrl.failed - still
            ctrl.failed = still
            ctrl.recount()
        att.recount()
