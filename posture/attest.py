"""Signed assessment results: an in-toto Statement v1 in a DSSE envelope, and its verification.

The statement's subject is the JSON report (and the fact file, when given) by
SHA-256; its predicate says who assessed what against which tier and with
what outcome: organisation label, tier id with the digest of the resolved tier
(every level of its chain: controls, exclusions, parameters), scopes,
attainment per scope and tier, result counts, tool version and the collection
window. Another organisation verifies it with the signer's public key:
the signature, the digests, and the attainment recomputed from the report's
results and the tier with the engine's own rules (:func:`verify`). Every
mismatch is reported, each naming what differs.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from posture.engine import attainment_for
from posture.report import Report, TierAttainment
from posture.signing import PublicKey, SigningError, sign_envelope, verify_envelope
from posture.tiers import ResolvedTier

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
PREDICATE_TYPE = "https://posture.dev/attestation/assessment/v1"
ATTESTATION_SUFFIX = ".intoto.json"


class AttestationError(Exception):
    """The attestation cannot be made or read (usage problem, exit 2)."""


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def tier_fingerprint(tier: ResolvedTier) -> dict[str, Any]:
    """What the tier digest covers: every level of the chain, each control's status and parameter values.

    File paths, titles and descriptions are left out: the same tier read from another directory has the
    same digest; a changed parameter, control, exclusion or catalogue n/a reason changes it.
    """
    levels = tier.levels or [tier]
    return {
        "id": tier.id,
        "chain": list(tier.chain),
        "levels": [{
            "id": level.id,
            "controls": [{
                "id": c.id,
                "severity": c.spec.severity,
                "excluded": c.excluded,
                "justification": c.justification.strip(),
                "parameters": c.parameters,
                "not_applicable": dict(sorted(c.spec.not_applicable.items())),
            } for _, c in sorted(level.controls.items())],
        } for level in levels],
    }


def tier_digest(tier: ResolvedTier) -> str:
    return sha256_bytes(canonical_json(tier_fingerprint(tier)))


def _attainment_summary(attainment: list[TierAttainment]) -> list[dict[str, Any]]:
    return [{
        "tier": a.tier, "provider": a.provider, "scope": a.scope, "status": a.status, "pass_rate": a.pass_rate,
        "controls": dict(sorted(Counter(c.status for c in a.controls).items())),
    } for a in sorted(attainment, key=lambda a: (a.provider, a.scope, a.tier))]


def tier_mismatches(report: Report, tier: ResolvedTier) -> list[str]:
    """Where the report's recorded tier and ``tier`` disagree (id, chain, controls, parameters, exclusions)."""
    problems = []
    if report.tier.get("id") != tier.id:
        problems.append(f"tier id: the report was evaluated against {report.tier.get('id')!r}, the tier is {tier.id!r}")
    if list(report.tier.get("chain") or []) != list(tier.chain):
        problems.append(f"tier chain: report {' -> '.join(report.tier.get('chain') or [])}, tier {' -> '.join(tier.chain)}")
    for cid in sorted(set(report.controls) | set(tier.controls)):
        if cid not in tier.controls or cid not in report.controls:
            where = "the tier" if cid not in tier.controls else "the report"
            problems.append(f"control {cid}: missing from {where}")
            continue
        mine, theirs = tier.controls[cid], report.controls[cid]
        if bool(theirs.get("excluded")) != mine.excluded:
            problems.append(f"control {cid}: excluded={theirs.get('excluded')} in the report, {mine.excluded} in the tier")
        recorded = theirs.get("parameters") or {}
        for name in sorted(set(recorded) | set(mine.parameters)):
            if json.dumps(recorded.get(name), sort_keys=True) != json.dumps(mine.parameters.get(name), sort_keys=True):
                problems.append(f"control {cid} parameter {name}: {recorded.get(name)!r} in the report, "
                                f"{mine.parameters.get(name)!r} in the tier")
    return problems


def build_statement(report: Report, report_bytes: bytes, report_name: str, tier: ResolvedTier, organisation: str,
                    facts: tuple[str, bytes] | None = None, now: datetime | None = None) -> dict[str, Any]:
    subject = [{"name": report_name, "digest": {"sha256": sha256_bytes(report_bytes)},
                "mediaType": "application/json", "annotations": {"posture": "report"}}]
    if facts is not None:
        subject.append({"name": facts[0], "digest": {"sha256": sha256_bytes(facts[1])},
                        "mediaType": "application/jsonl", "annotations": {"posture": "facts"}})
    summary = report.summary
    return {
        "_type": STATEMENT_TYPE,
        "subject": subject,
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "organisation": organisation,
            "tier": {"id": tier.id, "title": tier.title, "chain": list(tier.chain),
                     "digest": {"sha256": tier_digest(tier)}},
            "scopes": [{"provider": s["provider"], "id": s["id"], "name": s.get("name") or s["id"]}
                       for s in report.scopes],
            "attainment": _attainment_summary(report.attainment),
            "results": {"total": summary["results"], **summary["by_status"]},
            "complete": summary["complete"],
            "tool": dict(report.tool),
            "collection": {"started_at": report.started_at, "finished_at": report.finished_at},
            "attested_at": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
        },
    }


def attest(report_path: Path, tier: ResolvedTier, private_key: Any, organisation: str | None = None,
           facts_path: Path | None = None, now: datetime | None = None) -> dict[str, Any]:
    """The signed DSSE envelope for a report; refuses a tier that is not the one the report was evaluated with."""
    from posture.compare import report_label

    report_bytes = _read(report_path, "report")
    report = _parse_report(report_path, report_bytes)
    problems = tier_mismatches(report, tier)
    if problems:
        raise AttestationError(f"{report_path}: the tier does not match the report's: " + "; ".join(problems[:5]))
    facts = (facts_path.name, _read(facts_path, "fact file")) if facts_path is not None else None
    statement = build_statement(report, report_bytes, report_path.name, tier, report_label(report, organisation),
                                facts, now)
    return sign_envelope(canonical_json(statement), PAYLOAD_TYPE, private_key)


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise AttestationError(f"{path}: cannot read {what}: {exc.strerror or exc}") from None


def _parse_report(path: Path, data: bytes) -> Report:
    try:
        return Report.from_dict(json.loads(data))
    except json.JSONDecodeError as exc:
        raise AttestationError(f"{path}: not valid JSON: {exc.msg} (line {exc.lineno})") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise AttestationError(f"{path}: not a posture report: {exc}") from None


# ------------------------------------------------------------------------- verification
@dataclass
class Verification:
    """The outcome of verifying one attestation against a report."""

    verified: bool = False
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    keyid: str = ""
    key_source: str = ""
    statement: dict[str, Any] = field(default_factory=dict)

    @property
    def predicate(self) -> dict[str, Any]:
        return self.statement.get("predicate", {})

    def to_dict(self, with_key: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {"status": "verified" if self.verified else "unverified", "problems": self.problems}
        if self.notes:
            out["notes"] = self.notes
        if with_key and self.keyid:
            out["keyid"] = self.keyid
        return out


def read_envelope(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(_read(path, "attestation"))
    except json.JSONDecodeError as exc:
        raise AttestationError(f"{path}: not valid JSON: {exc.msg} (line {exc.lineno})") from None
    if not isinstance(data, dict) or "payload" not in data or "signatures" not in data:
        raise AttestationError(f"{path}: not a DSSE envelope (no payload / signatures)")
    return data


def subject_digest(statement: dict[str, Any], role: str) -> str | None:
    for s in statement.get("subject", []):
        if (s.get("annotations") or {}).get("posture") == role:
            return (s.get("digest") or {}).get("sha256")
    return None


@dataclass(frozen=True)
class _CheckRef:
    """What attainment reads of a check (id, provider, controls), rebuilt from the report."""

    id: str
    provider: str
    controls: tuple[str, ...]


def _tier_results(report: Report) -> list[Any]:
    """Results the tier's attainment counts (a ``--framework`` adds results that never count)."""
    return [r for r in report.results if not getattr(r, "framework_only", False)]


def _check_refs(report: Report) -> dict[str, _CheckRef]:
    return {cid: _CheckRef(cid, info.get("provider", ""), tuple(info.get("controls", [])))
            for cid, info in report.checks.items()}


def _comparable_controls(report: Report, tier: ResolvedTier, level: ResolvedTier) -> set[str]:
    """Controls of an ancestor level whose results the report holds: active in the selected tier too, and
    every check assessing them has the same parameters (of all its controls) at both levels."""
    same = set()
    for cid, ctrl in level.controls.items():
        selected = tier.controls.get(cid)
        if selected is None or selected.excluded:
            continue
        if ctrl.excluded:
            same.add(cid)
            continue
        for info in (i for i in report.checks.values() if cid in i.get("controls", [])):
            # every parameter of every control the check implements (function checks do not declare theirs)
            if any(_params(level, other) != _params(tier, other) for other in info.get("controls", [])):
                break
        else:
            same.add(cid)
    return same


def _params(tier: ResolvedTier, control: str) -> str:
    ctrl = tier.controls.get(control)
    return json.dumps(None if ctrl is None or ctrl.excluded else ctrl.parameters, sort_keys=True)


def _control_problems(where: str, recorded: TierAttainment, fresh: TierAttainment, only: set[str] | None
                      ) -> list[str]:
    problems = []
    old_controls = {c.control: c for c in recorded.controls}
    for c in fresh.controls:
        if only is not None and c.control not in only:
            continue
        o = old_controls.get(c.control)
        if o is None or (o.status, o.passed, o.failed, o.errors) != (c.status, c.passed, c.failed, c.errors):
            was = "absent" if o is None else f"{o.status} {o.passed}/{o.failed}/{o.errors}"
            problems.append(f"{where}: control {c.control} is {was} in the report, its results give "
                            f"{c.status} {c.passed}/{c.failed}/{c.errors} (pass/fail/error)")
    return problems


def _attainment_problems(report: Report, tier: ResolvedTier) -> list[str]:
    """The selected tier's attainment recomputed from the results; each ancestor tier's controls recomputed
    where its parameters equal the selected tier's, the rest checked against its own counts."""
    problems = []
    checks = _check_refs(report)
    recorded = {(a.tier, a.provider, a.scope): a for a in report.attainment}
    for level in tier.levels or [tier]:
        only = None if level.id == tier.id else _comparable_controls(report, tier, level)
        for fresh in attainment_for(level, checks, _tier_results(report), report.scopes):
            where = f"attainment of {fresh.tier} for {fresh.provider}/{fresh.scope}"
            old = recorded.pop((fresh.tier, fresh.provider, fresh.scope), None)
            if old is None:
                problems.append(f"{where}: missing from the report")
                continue
            if sorted(c.control for c in old.controls) != sorted(level.controls):
                problems.append(f"{where}: its controls are not those of tier {level.id}")
            problems.extend(_control_problems(where, old, fresh, only))
            # the tier status follows from the control statuses (for ancestors: from the recorded counts)
            expected = fresh if only is None else TierAttainment.from_dict(old.to_dict())
            if only is not None:
                for c in expected.controls:
                    c.recount()
                expected.recount()
            if (old.status, old.pass_rate) != (expected.status, expected.pass_rate):
                source = "its results" if only is None else "its control counts"
                problems.append(f"{where}: the report says {old.status} ({old.pass_rate:.2%}), {source} give "
                                f"{expected.status} ({expected.pass_rate:.2%})")
    for tier_id, provider, scope in sorted(recorded):
        problems.append(f"attainment of {tier_id} for {provider}/{scope}: not a tier of the chain "
                        f"{' -> '.join(tier.chain)} or not a scope of the report")
    return problems


def verify(envelope: dict[str, Any], report_bytes: bytes, keys: list[PublicKey], tier: ResolvedTier | None,
           facts_bytes: bytes | None = None, report_name: str = "report") -> Verification:
    """Check signature, digests, tier and attainment; every mismatch becomes a problem naming what differs."""
    v = Verification()
    try:
        payload, key = verify_envelope(envelope, keys)
    except SigningError as exc:
        v.problems.append(f"signature: {exc}")
        return v
    v.keyid, v.key_source = key.keyid, key.source
    if envelope.get("payloadType") != PAYLOAD_TYPE:
        v.problems.append(f"payload type {envelope.get('payloadType')!r} is not {PAYLOAD_TYPE!r}")
        return v
    try:
        statement = json.loads(payload)
    except json.JSONDecodeError:
        v.problems.append("the signed payload is not JSON")
        return v
    v.statement = statement
    if statement.get("_type") != STATEMENT_TYPE or statement.get("predicateType") != PREDICATE_TYPE:
        v.problems.append(f"not a posture assessment statement (type {statement.get('_type')!r}, predicate "
                          f"{statement.get('predicateType')!r})")
        return v
    predicate = statement["predicate"]

    attested = subject_digest(statement, "report")
    actual = sha256_bytes(report_bytes)
    if attested != actual:
        v.problems.append(f"report digest: {report_name} has sha256 {actual}, the attestation names {attested} "
                          "(the report was changed after signing, or it is another report)")
    attested_facts = subject_digest(statement, "facts")
    if facts_bytes is not None:
        if attested_facts is None:
            v.problems.append("fact file: given, but the attestation does not name one")
        elif attested_facts != sha256_bytes(facts_bytes):
            v.problems.append(f"fact file digest: sha256 {sha256_bytes(facts_bytes)}, the attestation names "
                              f"{attested_facts}")
    elif attested_facts is not None:
        v.notes.append("the attestation names a fact file; give it with --facts to check its digest too")

    try:
        report = Report.from_dict(json.loads(report_bytes))
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        v.problems.append(f"report: not a posture report ({exc})")
        return v
    if tier is None:
        v.problems.append(f"tier: {predicate['tier']['id']!r} could not be resolved, so its digest and the "
                          "attainment were not checked (give --tier FILE or put it on POSTURE_TIERS_PATH)")
    else:
        if predicate["tier"]["digest"].get("sha256") != tier_digest(tier):
            v.problems.append(f"tier digest: the resolved tier {tier.id} ({tier.path}) has sha256 {tier_digest(tier)}, "
                              f"the attestation names {predicate['tier']['digest'].get('sha256')} (the tier file "
                              "changed, or it is another tier)")
        v.problems.extend(f"tier: {p}" for p in tier_mismatches(report, tier))
        v.problems.extend(_attainment_problems(report, tier))
    if predicate.get("attainment") != _attainment_summary(report.attainment):
        signed = {(a["tier"], a["provider"], a["scope"]): a for a in predicate.get("attainment", [])}
        for a in _attainment_summary(report.attainment):
            s = signed.get((a["tier"], a["provider"], a["scope"]))
            if s != a:
                v.problems.append(f"predicate attainment of {a['tier']} for {a['provider']}/{a['scope']}: "
                                  f"signed {(s or {}).get('status', 'absent')}, report {a['status']}")
    summary = report.summary
    if predicate.get("results") != {"total": summary["results"], **summary["by_status"]}:
        v.problems.append(f"result counts: signed {predicate.get('results')}, report "
                          f"{ {'total': summary['results'], **summary['by_status']} }")
    scopes = [{"provider": s["provider"], "id": s["id"], "name": s.get("name") or s["id"]} for s in report.scopes]
    if predicate.get("scopes") != scopes:
        v.problems.append("scopes: the signed scopes differ from the report's")
    window = {"started_at": report.started_at, "finished_at": report.finished_at}
    if predicate.get("collection") != window:
        v.problems.append(f"collection window: signed {predicate.get('collection')}, report {window}")
    v.verified = not v.problems
    return v


# ---------------------------------------------------------------------------- compare
def _payload_statement(envelope: dict[str, Any]) -> dict[str, Any]:
    """The statement an envelope carries, *unverified*: only to match it to a report and find its tier."""
    import base64

    try:
        statement = json.loads(base64.b64decode(envelope["payload"]))
        return statement if isinstance(statement, dict) else {}
    except (KeyError, TypeError, ValueError):
        return {}


def resolve_attested_tier(envelope: dict[str, Any]) -> ResolvedTier | None:
    """The tier the statement names, found on the tier search path (None when it is not there)."""
    from posture.tiers import TierError, load_tier

    tier_id = (_payload_statement(envelope).get("predicate") or {}).get("tier", {}).get("id")
    if not tier_id:
        return None
    try:
        return load_tier(tier_id)
    except (TierError, FileNotFoundError):
        return None


def verify_for_compare(report_path: Path, keys: list[PublicKey], envelopes: list[tuple[Path, dict[str, Any]]],
                       label: str | None) -> dict[str, Any]:
    """Verify one report for ``posture compare``: its attestation is the ``--attestation`` whose subject is
    the report's digest, else ``REPORT.intoto.json`` beside it; an explicit label must be the attested one."""
    report_bytes = _read(report_path, "report")
    digest = sha256_bytes(report_bytes)
    chosen = next(((p, e) for p, e in envelopes if subject_digest(_payload_statement(e), "report") == digest), None)
    sibling = report_path.with_name(report_path.name + ATTESTATION_SUFFIX)
    if chosen is None and sibling.is_file():
        chosen = (sibling, read_envelope(sibling))
    if chosen is None:
        return {"status": "unverified", "problems": [f"no attestation for {report_path.name} (expected "
                                                     f"{sibling.name} beside it, or --attestation FILE)"]}
    path, envelope = chosen
    outcome = verify(envelope, report_bytes, keys, resolve_attested_tier(envelope), report_name=report_path.name)
    organisation = outcome.predicate.get("organisation") if outcome.keyid else None
    if outcome.verified and label and organisation != label:
        outcome.problems.append(f"label {label!r} is not the attested organisation {organisation!r}")
        outcome.verified = False
    out = {**outcome.to_dict(), "attestation": str(path)}
    if organisation:
        out["organisation"] = organisation
    return out
