"""CSV output: one row per result, for spreadsheets and ad-hoc filtering.

Columns are fixed (:data:`COLUMNS`) so scripts can rely on them. Waived rows
name their waiver (id, owner, expiry, reason); evidence is one JSON cell with
values the check marks sensitive redacted. A cell a spreadsheet would run as a
formula (a cloud name starting with ``=``, ``+``, ``-``, ``@``, tab or CR) is
prefixed with ``'`` so opening the file never executes anything.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from posture.hookspecs import hookimpl
from posture.outputs import Output, write_text
from posture.outputs.exports import shareable_evidence
from posture.report import Report, Result

COLUMNS = (
    "provider", "scope", "region", "check_id", "title", "status", "severity", "controls", "resource_type",
    "resource_id", "resource_name", "message", "error_code", "evidence", "waiver_id", "waiver_owner",
    "waiver_expires", "justification", "baseline_state", "fingerprint", "tier",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def row(report: Report, result: Result) -> dict[str, str]:
    waiver = result.waiver or {}
    evidence = shareable_evidence(report, result)
    values = {
        "provider": result.provider, "scope": result.scope, "region": result.region,
        "check_id": result.check_id, "title": report.checks.get(result.check_id, {}).get("title", ""),
        "status": result.status, "severity": result.severity, "controls": ";".join(result.controls),
        "resource_type": result.resource_type, "resource_id": result.resource_id,
        "resource_name": result.resource_name, "message": result.message, "error_code": result.error_code,
        "evidence": json.dumps(evidence, sort_keys=True, ensure_ascii=False) if evidence else "",
        "waiver_id": waiver.get("id", ""), "waiver_owner": waiver.get("owner", ""),
        "waiver_expires": waiver.get("expires", ""),
        "justification": waiver.get("justification") or result.justification,
        "baseline_state": result.baseline_state, "fingerprint": result.fingerprint,
        "tier": report.tier.get("id", ""),
    }
    return {k: _cell(values[k]) for k in COLUMNS}


def render_string(report: Report) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for result in sorted(report.results, key=lambda r: r.sort_key):
        writer.writerow(row(report, result))
    return buffer.getvalue()


def write(report: Report, path: Path | None, console: Any = None) -> None:
    write_text(render_string(report), path)


@hookimpl
def register_outputs(register: Any) -> None:
    register(Output("csv", ".csv", write, "CSV, one row per result (waivers named, sensitive evidence redacted)"))
