"""Check selection: narrow what a tier selects (``--check``, ``--exclude-check``, ``--service``,
``--severity``, ``--control``).

A selection only ever removes checks from the tier's choice, so a narrowed scan collects fewer fact
types; the report records the selection and marks its tier attainment *partial*, because controls
outside the selection were not looked at.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from posture.checks import SEVERITIES, Check


class SelectionError(ValueError):
    """A selection naming something that does not exist (a typo would silently select nothing)."""


def service_of(check: Check) -> str:
    """The cloud service a check is about: the second part of its fact type (``s3`` in ``aws.s3.bucket``)."""
    parts = check.fact_type.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def split_values(values: Iterable[str]) -> tuple[str, ...]:
    """Repeated options and comma-separated lists alike: ``--severity high,critical``."""
    return tuple(v.strip() for value in values for v in str(value).split(",") if v.strip())


@dataclass(frozen=True)
class Selection:
    checks: tuple[str, ...] = ()  # fnmatch globs over check ids
    exclude_checks: tuple[str, ...] = ()
    services: tuple[str, ...] = ()  # "s3" or "aws.s3"
    severities: tuple[str, ...] = ()
    controls: tuple[str, ...] = ()  # control ids or globs ("IAM-*")

    @classmethod
    def from_options(cls, checks: Iterable[str] = (), exclude_checks: Iterable[str] = (),
                     services: Iterable[str] = (), severities: Iterable[str] = (),
                     controls: Iterable[str] = ()) -> Selection:
        sel = cls(split_values(checks), split_values(exclude_checks), tuple(s.lower() for s in split_values(services)),
                  tuple(s.lower() for s in split_values(severities)), tuple(c.upper() for c in split_values(controls)))
        bad = [s for s in sel.severities if s not in SEVERITIES]
        if bad:
            raise SelectionError(f"unknown severity {', '.join(bad)} (valid: {', '.join(SEVERITIES)})")
        return sel

    @property
    def active(self) -> bool:
        return bool(self.checks or self.exclude_checks or self.services or self.severities or self.controls)

    def matches(self, check: Check, severity: str | None = None) -> bool:
        """Whether ``check`` (with its effective ``severity`` under the tier) survives the selection."""
        if self.checks and not any(fnmatchcase(check.id, p) for p in self.checks):
            return False
        if any(fnmatchcase(check.id, p) for p in self.exclude_checks):
            return False
        if self.services and not ({service_of(check), f"{check.provider}.{service_of(check)}"} & set(self.services)):
            return False
        if self.severities and (severity or check.severity or "medium") not in self.severities:
            return False
        return not self.controls or any(fnmatchcase(c, p) for c in check.controls for p in self.controls)

    def narrow(self, checks: Iterable[Check], severity_of: Any = None) -> list[Check]:
        """The checks that survive; ``severity_of(check)`` gives the tier's severity for ``--severity``."""
        if not self.active:
            return list(checks)
        return [c for c in checks if self.matches(c, severity_of(c) if severity_of else None)]

    def validate(self, known: Mapping[str, Check], control_ids: Iterable[str]) -> None:
        """Refuse names that match nothing installed, listing what exists (exit 2 in the CLI)."""
        ids = sorted(known)
        for option, patterns in (("--check", self.checks), ("--exclude-check", self.exclude_checks)):
            missing = [p for p in patterns if not any(fnmatchcase(i, p) for i in ids)]
            if missing:
                raise SelectionError(f"{option} {', '.join(missing)} matches no installed check "
                                     "(`posture checks list` shows them)")
        services = sorted({service_of(c) for c in known.values()} | {f"{c.provider}.{service_of(c)}"
                                                                     for c in known.values()})
        missing = [s for s in self.services if s not in services]
        if missing:
            raise SelectionError(f"--service {', '.join(missing)} is not a service of any installed check "
                                 f"(valid: {', '.join(s for s in services if '.' not in s)})")
        controls = sorted(set(control_ids))
        missing = [p for p in self.controls if not any(fnmatchcase(c, p) for c in controls)]
        if missing:
            raise SelectionError(f"--control {', '.join(missing)} matches no control of the catalogue "
                                 f"(valid: {', '.join(controls)})")

    def to_dict(self) -> dict[str, list[str]]:
        """What the report records (only the filters given)."""
        return {k: list(v) for k, v in (("checks", self.checks), ("exclude_checks", self.exclude_checks),
                                         ("services", self.services), ("severities", self.severities),
                                         ("controls", self.controls)) if v}


NO_SELECTION = Selection()
