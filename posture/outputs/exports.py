"""What exports meant for other systems (OCSF, CSV) may carry of a result.

SIEMs and spreadsheets keep data longer and show it to more people than a
posture report does, so evidence a check marks sensitive (``sensitive_evidence``
globs in its YAML) leaves only as a placeholder saying it was withheld.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from posture.report import Report, Result

REDACTED = "[redacted: marked sensitive]"


def sensitive_patterns(report: Report, check_id: str) -> tuple[str, ...]:
    return tuple(report.checks.get(check_id, {}).get("sensitive_evidence") or ())


def shareable_evidence(report: Report, result: Result) -> dict[str, Any]:
    """The result's evidence with every value the check marks sensitive replaced by :data:`REDACTED`."""
    patterns = sensitive_patterns(report, result.check_id)
    if not patterns:
        return dict(result.evidence)
    return {key: REDACTED if any(fnmatchcase(key, p) for p in patterns) else value
            for key, value in result.evidence.items()}
