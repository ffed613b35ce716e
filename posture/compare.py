"""Compare reports of several organisations (or scopes) side by side.

The control catalogue is cloud-agnostic, so an AWS organisation and an Azure
organisation line up per control. The comparison is a plain dict (schema
``posture/schemas/compare.schema.json``, id ``posture.compare/v1``) holding
only labels, tier and control ids, statuses and counts: no resource appears
in it, and with ``salt`` every organisation and scope identifier is replaced by
an HMAC-SHA256 pseudonym, so it can be shared between organisations.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from posture.report import Report

COMPARE_SCHEMA_ID = "posture.compare/v1"
STATUSES = ("pass", "fail", "error", "excluded", "not_applicable", "waived")
#: worst first: the organisation's status for a control is the worst of its scopes'
CONTROL_STATUS_ORDER = ("fail", "error", "not_assessed", "pass", "not_applicable", "excluded")
_STANDARD_TIER = re.compile(r"^tier-[0-9]+$")


class Pseudonymiser:
    """Stable pseudonyms: the same salt and value always give the same name, nothing else does."""

    def __init__(self, salt: str | bytes) -> None:
        if not salt:
            raise ValueError("an anonymisation salt is required (there is no default)")
        self._key = salt.encode() if isinstance(salt, str) else salt

    def __call__(self, kind: str, value: str) -> str:
        digest = hmac.new(self._key, f"{kind}\x00{value}".encode(), hashlib.sha256).hexdigest()
        return f"{kind}-{digest[:12]}"


def report_label(report: Report, label: str | None = None) -> str:
    """``--label``, else ``metadata.organisation``, else the scope ids."""
    if label:
        return label
    org = (report.metadata or {}).get("organisation")
    if org:
        return str(org)
    return ",".join(sorted(str(s.get("id", "")) for s in report.scopes)) or "unnamed"


def _tier_name(tier: str, pseudo: Pseudonymiser | None) -> str:
    """Standard tier names are public; a custom tier's name could identify its owner."""
    return tier if pseudo is None or _STANDARD_TIER.match(tier) else pseudo("tier", tier)


def _worst(statuses: list[str]) -> str:
    for s in CONTROL_STATUS_ORDER:
        if s in statuses:
            return s
    return "not_assessed"


def _rows(reports: Sequence[Report], labels: Sequence[str | None], group_by: str, pseudo: Pseudonymiser | None
          ) -> dict[str, list[tuple[Report, set[tuple[str, str]]]]]:
    """Row label -> the (report, scopes of that report in this row) pairs that make it up."""
    rows: dict[str, list[tuple[Report, set[tuple[str, str]]]]] = defaultdict(list)
    for report, label in zip(reports, labels, strict=True):
        org = report_label(report, label)
        if group_by == "organisation":
            name = pseudo("org", org) if pseudo else org
            rows[name].append((report, {(s["provider"], s["id"]) for s in report.scopes}))
            continue
        for s in report.scopes:
            key = (s["provider"], s["id"])
            if pseudo:
                name = pseudo("scope", f"{s['provider']}:{s['id']}")
            else:
                shown = s.get("name") or s["id"]
                name = f"{org} / {shown}" if shown == s["id"] else f"{org} / {shown} ({s['id']})"
            rows[name].append((report, {key}))
    return rows


def compare(reports: Sequence[Report], labels: Sequence[str | None] | None = None, *,
            group_by: str = "organisation", salt: str | bytes | None = None,
            now: datetime | None = None, verifications: Sequence[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Build the comparison matrix: rows x tiers (attainment) and controls x rows (result counts).

    ``verifications`` (one per report, from ``posture.attest.verify_for_compare``) marks each row
    verified when every report in it carries a valid attestation by a trusted key.
    """
    if group_by not in ("organisation", "scope"):
        raise ValueError(f"group_by must be 'organisation' or 'scope', not {group_by!r}")
    if not reports:
        raise ValueError("nothing to compare: give at least one report")
    labels = list(labels) if labels is not None else [None] * len(reports)
    if len(labels) < len(reports):
        labels += [None] * (len(reports) - len(labels))
    if len(labels) > len(reports):
        raise ValueError(f"{len(labels)} labels for {len(reports)} reports")
    pseudo = Pseudonymiser(salt) if salt is not None else None
    rows = _rows(reports, labels, group_by, pseudo)
    verified_by = ({id(r): v for r, v in zip(reports, verifications, strict=True)}
                   if verifications is not None else None)

    tier_order: list[str] = []
    for r in reports:
        for t in list(r.tier.get("chain") or []) + [r.tier.get("id", "")]:
            if t and t not in tier_order:
                tier_order.append(t)
    control_info: dict[str, dict[str, Any]] = {}
    for r in reports:
        for cid, info in r.controls.items():
            control_info.setdefault(cid, info)

    organisations, attainment = [], []
    counts: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(lambda: dict.fromkeys(STATUSES, 0)))
    control_status: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for name, parts in rows.items():
        providers = sorted({p for _, keys in parts for p, _ in keys})
        scopes = []
        summary = dict.fromkeys(STATUSES, 0)
        for report, keys in parts:
            for s in report.scopes:
                if (s["provider"], s["id"]) not in keys:
                    continue
                if pseudo:
                    scopes.append({"provider": s["provider"], "id": pseudo("scope", f"{s['provider']}:{s['id']}")})
                else:
                    scopes.append({"provider": s["provider"], "id": s["id"], "name": s.get("name") or s["id"]})
            for res in report.results:
                if (res.provider, res.scope) not in keys:
                    continue
                summary[res.status] = summary.get(res.status, 0) + 1
                for cid in res.controls:
                    counts[cid][name][res.status] += 1
            selected = report.tier.get("id")
            for att in report.attainment:
                if att.tier == selected and (att.provider, att.scope) in keys:
                    for c in att.controls:
                        control_status[c.control][name].append(c.status)
        organisations.append({
            "label": name,
            "providers": providers,
            "scopes": sorted(scopes, key=lambda s: (s["provider"], s["id"])),
            "tiers": sorted({_tier_name(r.tier.get("id", ""), pseudo) for r, _ in parts}),
            "scanned_at": max((r.started_at for r, _ in parts), default=""),
            "summary": summary,
            **({"verification": _verification([verified_by[id(r)] for r, _ in parts], pseudo)}
               if verified_by is not None else {}),
        })
        for tier in tier_order:
            entries = [a for r, keys in parts for a in r.attainment
                       if a.tier == tier and (a.provider, a.scope) in keys]
            if not entries:
                attainment.append({"organisation": name, "tier": _tier_name(tier, pseudo), "status": "not_evaluated",
                                   "pass_rate": None, "scopes": 0, "scopes_attained": 0})
                continue
            statuses = [a.status for a in entries]
            status = ("not_attained" if "not_attained" in statuses else
                      "incomplete" if "incomplete" in statuses else "attained")
            attainment.append({
                "organisation": name, "tier": _tier_name(tier, pseudo), "status": status,
                "pass_rate": round(sum(a.pass_rate for a in entries) / len(entries), 4),
                "scopes": len(entries), "scopes_attained": statuses.count("attained"),
            })

    controls = []
    for cid in sorted(set(counts) | set(control_status) | set(control_info), key=_control_sort_key):
        by_org = {}
        for org in rows:
            c = dict(counts[cid][org]) if org in counts[cid] else dict.fromkeys(STATUSES, 0)
            statuses = control_status[cid].get(org, [])
            if statuses:
                status = _worst(statuses)
            elif c["fail"]:
                status = "fail"
            elif c["error"]:
                status = "error"
            elif c["pass"] or c["waived"]:
                status = "pass"
            elif c["excluded"]:
                status = "excluded"
            else:
                status = "not_assessed"
            by_org[org] = {**c, "status": status}
        info = control_info.get(cid, {})
        controls.append({"control": cid, "title": info.get("title", ""), "severity": info.get("severity", ""),
                         "results": by_org})

    return {
        "schema": COMPARE_SCHEMA_ID,
        "generated_at": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
        "anonymised": pseudo is not None,
        "group_by": group_by,
        "tiers": [_tier_name(t, pseudo) for t in tier_order],
        "organisations": organisations,
        "attainment": attainment,
        "controls": controls,
    }


def _verification(entries: list[dict[str, Any]], pseudo: Pseudonymiser | None) -> dict[str, Any]:
    """A row is verified when every report in it is; anonymised, only the statuses are kept."""
    status = "verified" if entries and all(e["status"] == "verified" for e in entries) else "unverified"
    reports = [{"status": e["status"]} if pseudo else
               {k: e[k] for k in ("status", "problems", "keyid", "organisation") if k in e} for e in entries]
    return {"status": status, "reports": reports}


def _control_sort_key(cid: str) -> tuple[str, int, str]:
    prefix, _, num = cid.partition("-")
    return (prefix, int(num) if num.isdigit() else 0, cid)
