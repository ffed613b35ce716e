"""Scan history: every scan recorded, the previous one found, drift computed.

``Store(url)`` keeps each report's full JSON plus one row per result keyed by
fingerprint (provider, scope, check id, resource id), in SQLite by default or any SQLAlchemy
URL (``postgresql+psycopg://...``). ``fill_baseline`` marks failing results
``new`` or ``unchanged`` against the previous scan of the same scopes and tier
and lists the failures fixed since in ``report.coverage["absent"]``: the
shape SARIF's ``baselineState`` needs.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from posture.report import Report, Result

STORE_ENV = "POSTURE_STORE"
#: statuses that appear as SARIF results (waived = suppressed): what "failing" means for drift
FAILING = ("fail", "waived")


class StoreError(ValueError):
    """The store cannot be opened, or a scan id does not exist."""


class StoreMissing(StoreError):
    """A read-only command found no history store (nothing has been recorded there yet)."""


def default_store_url() -> str:
    """``$POSTURE_STORE``, else a SQLite file under ``$XDG_DATA_HOME/posture`` (``~/.local/share``)."""
    env = os.environ.get(STORE_ENV)
    if env:
        return env
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return str(base / "posture" / "history.sqlite")


def _sqlite_file(url: str) -> Path | None:
    """The file behind a SQLite URL or plain path; None for other databases and in-memory SQLite."""
    if "://" not in url:
        return Path(url).expanduser().resolve()
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        return Path(url[len("sqlite:///"):]).expanduser()
    return None


def _normalise_url(url: str) -> str:
    """A plain path means a SQLite file."""
    return url if "://" in url else f"sqlite:///{Path(url).expanduser().resolve()}"


def scope_keys(report: Report) -> list[str]:
    keys = {f"{s.get('provider', '')}:{s.get('id', '')}" for s in report.scopes}
    if not keys:
        keys = {f"{r.provider}:{r.scope}" for r in report.results}
    return sorted(keys)


def scan_key(report: Report) -> str:
    """Identifies "the same scan": same provider+scope set and same tier."""
    ident = json.dumps({"tier": report.tier.get("id", ""), "scopes": scope_keys(report)}, sort_keys=True)
    return hashlib.sha256(ident.encode()).hexdigest()


@dataclass
class ScanInfo:
    id: int
    recorded_at: str
    started_at: str
    tier: str
    scopes: list[str]
    passed: int
    failed: int
    errors: int
    waived: int
    results: int

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Store:
    """Scan history in a SQL database (SQLAlchemy Core; tables ``<prefix>scans`` and ``<prefix>scan_results``)."""

    def __init__(self, url: str | None = None, *, table_prefix: str = "posture_", create: bool = True) -> None:
        """Open (``create=True``: and create if needed) the store; read-only commands pass ``create=False``
        so that looking at history never leaves an empty database or directory behind."""
        url = url or default_store_url()
        sqlite_file = _sqlite_file(url)
        if sqlite_file is not None:
            if not create and not sqlite_file.is_file():
                raise StoreMissing(f"no scans recorded yet: there is no history store at {sqlite_file}")
            try:
                sqlite_file.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create the history store's directory {sqlite_file.parent}: "
                                 f"{exc.strerror or exc}") from None
        self.url = _normalise_url(url)
        try:
            self.engine = sa.create_engine(self.url)
        except (sa.exc.ArgumentError, ImportError) as exc:
            raise StoreError(f"cannot open history store {_redact(self.url)}: {exc}") from None
        md = sa.MetaData()
        self.scans = sa.Table(
            f"{table_prefix}scans", md,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("scan_key", sa.String(64), nullable=False, index=True),
            sa.Column("tier", sa.String(200), nullable=False),
            sa.Column("scopes", sa.Text, nullable=False),
            sa.Column("started_at", sa.String(40), nullable=False),
            sa.Column("finished_at", sa.String(40), nullable=False),
            sa.Column("recorded_at", sa.String(40), nullable=False),
            sa.Column("passed", sa.Integer, nullable=False),
            sa.Column("failed", sa.Integer, nullable=False),
            sa.Column("errors", sa.Integer, nullable=False),
            sa.Column("waived", sa.Integer, nullable=False),
            sa.Column("results", sa.Integer, nullable=False),
            sa.Column("report", sa.Text, nullable=False),
        )
        self.results = sa.Table(
            f"{table_prefix}scan_results", md,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("scan_id", sa.Integer, sa.ForeignKey(self.scans.c.id, ondelete="CASCADE"), nullable=False),
            sa.Column("fingerprint", sa.String(64), nullable=False),
            sa.Column("check_id", sa.String(300), nullable=False),
            sa.Column("resource_id", sa.Text, nullable=False),
            sa.Column("provider", sa.String(50), nullable=False),
            sa.Column("scope", sa.String(300), nullable=False),
            sa.Column("status", sa.String(20), nullable=False),
            sa.Column("severity", sa.String(10), nullable=False),
            sa.Index(f"{table_prefix}ix_results_scan_fp", "scan_id", "fingerprint"),
        )
        self.metadata = md
        try:
            if create:
                md.create_all(self.engine)
            elif not sa.inspect(self.engine).has_table(self.scans.name):
                raise StoreMissing(f"no scans recorded yet in history store {_redact(self.url)}")
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"cannot open history store {_redact(self.url)}: {exc.__class__.__name__}: "
                             f"{str(exc.orig if hasattr(exc, 'orig') else exc).strip()}") from None

    def record(self, report: Report) -> int:
        """Store ``report`` (full JSON + one row per result); returns the scan id."""
        by = report.summary["by_status"]
        with self.engine.begin() as conn:
            scan_id = conn.execute(self.scans.insert().values(
                scan_key=scan_key(report), tier=report.tier.get("id", ""),
                scopes=json.dumps(scope_keys(report)), started_at=report.started_at or "",
                finished_at=report.finished_at or "", recorded_at=datetime.now(UTC).isoformat(timespec="seconds"),
                passed=by["pass"], failed=by["fail"], errors=by["error"], waived=by["waived"],
                results=len(report.results), report=json.dumps(report.to_dict(), sort_keys=True),
            )).inserted_primary_key[0]
            rows = [{"scan_id": scan_id, "fingerprint": r.fingerprint, "check_id": r.check_id,
                     "resource_id": r.resource_id, "provider": r.provider, "scope": r.scope, "status": r.status,
                     "severity": r.severity} for r in report.results]
            if rows:
                conn.execute(self.results.insert(), rows)
        report.metadata["scan_id"] = int(scan_id)
        return int(scan_id)

    def previous(self, report: Report) -> Report | None:
        """The latest scan of the same scopes and tier that started before ``report``."""
        q = sa.select(self.scans.c.id).where(self.scans.c.scan_key == scan_key(report))
        if report.started_at:
            q = q.where(self.scans.c.started_at < report.started_at)
        q = q.order_by(self.scans.c.started_at.desc(), self.scans.c.id.desc()).limit(1)
        with self.engine.connect() as conn:
            row = conn.execute(q).first()
        return self.get(row.id) if row else None

    def list(self, limit: int = 20) -> list[ScanInfo]:
        """Most recent first."""
        q = sa.select(*(c for c in self.scans.c if c.name not in ("report", "scan_key", "finished_at")))
        q = q.order_by(self.scans.c.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [ScanInfo(id=r.id, recorded_at=r.recorded_at, started_at=r.started_at, tier=r.tier,
                             scopes=json.loads(r.scopes), passed=r.passed, failed=r.failed, errors=r.errors,
                             waived=r.waived, results=r.results) for r in conn.execute(q)]

    def get(self, scan_id: int) -> Report:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(self.scans.c.report).where(self.scans.c.id == int(scan_id))).first()
        if row is None:
            raise StoreError(f"no scan {scan_id} in history store {_redact(self.url)}")
        report = Report.from_dict(json.loads(row.report))
        report.metadata["scan_id"] = int(scan_id)
        return report

    def failing_fingerprints(self, scan_id: int) -> set[str]:
        """Fingerprints failing in a scan, straight from the results table."""
        q = sa.select(self.results.c.fingerprint).where(
            self.results.c.scan_id == int(scan_id), self.results.c.status.in_(FAILING))
        with self.engine.connect() as conn:
            return {r.fingerprint for r in conn.execute(q)}

    def drop(self) -> None:
        """Drop this store's tables (tests use a unique prefix and clean up)."""
        self.metadata.drop_all(self.engine)
        self.engine.dispose()


def _redact(url: str) -> str:
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "<invalid URL>"


@dataclass
class Diff:
    """Failures new in ``new``, fixed since ``old``, and present in both."""

    new: list[Result] = field(default_factory=list)
    fixed: list[Result] = field(default_factory=list)
    unchanged: list[Result] = field(default_factory=list)
    #: old failures the new scan could not assess (its check is an error there): neither fixed nor new
    unassessed: list[Result] = field(default_factory=list)
    now_status: dict[str, str] = field(default_factory=dict)  # fingerprint of a fixed failure -> its status now

    def to_dict(self) -> dict[str, Any]:
        def rows(results: list[Result]) -> list[dict[str, Any]]:
            return [r.to_dict() for r in results]

        fixed = [{**r.to_dict(), "status_now": self.now_status.get(r.fingerprint, "absent")} for r in self.fixed]
        out: dict[str, Any] = {"new": rows(self.new), "fixed": fixed, "unchanged": rows(self.unchanged),
                               "counts": {"new": len(self.new), "fixed": len(self.fixed),
                                          "unchanged": len(self.unchanged)}}
        if self.unassessed:  # only when the new scan had blind spots
            out["unassessed"] = rows(self.unassessed)
            out["counts"]["unassessed"] = len(self.unassessed)
        return out


def diff(old: Report, new: Report) -> Diff:
    old_failing = {r.fingerprint: r for r in old.results if r.status in FAILING}
    new_failing = {r.fingerprint: r for r in new.results if r.status in FAILING}
    status_now = {r.fingerprint: r.status for r in new.results}
    # where the new scan could not look: (provider, scope, check, region) of its error results
    blind = {(r.provider, r.scope, r.check_id, r.region) for r in new.results if r.status == "error"}
    d = Diff()
    for fp, r in new_failing.items():
        (d.unchanged if fp in old_failing else d.new).append(r)
    for fp, r in old_failing.items():
        if fp in new_failing:
            continue
        if fp not in status_now and any((r.provider, scope, r.check_id, region) in blind
                                        for scope in (r.scope, "*") for region in (r.region, "global", "*")):
            d.unassessed.append(r)  # a denied or throttled call is not a fix
            continue
        d.fixed.append(r)
        d.now_status[fp] = status_now.get(fp, "absent")
    for lst in (d.new, d.fixed, d.unchanged, d.unassessed):
        lst.sort(key=lambda r: r.sort_key)
    return d


def fill_baseline(report: Report, previous: Report | None) -> Diff | None:
    """Set ``baseline_state`` on failing results and list fixed failures in ``coverage["absent"]``.

    Failing (``fail``/``waived``) results get ``new`` or ``unchanged``; each
    failure of ``previous`` that no longer fails becomes a result dict with
    ``baseline_state: "absent"`` (plus ``status_now``: ``pass``, ``error``,
    ... or ``absent`` when the resource is gone) in ``coverage["absent"]``.
    ``coverage["baseline"]`` names the previous scan. Without a previous scan
    nothing is set (SARIF then omits ``baselineState``).
    """
    if previous is None:
        return None
    d = diff(previous, report)
    for r in d.new:
        r.baseline_state = "new"
    for r in d.unchanged:
        r.baseline_state = "unchanged"
    absent = []
    for r in d.fixed:
        entry = {**r.to_dict(), "baseline_state": "absent", "status_now": d.now_status[r.fingerprint]}
        entry.pop("waiver", None)
        absent.append(entry)
    report.coverage["absent"] = absent
    report.coverage["baseline"] = {
        "scan_id": previous.metadata.get("scan_id"), "started_at": previous.started_at,
        "new": len(d.new), "unchanged": len(d.unchanged), "absent": len(d.fixed),
    }
    if d.unassessed:
        report.coverage["baseline"]["unassessed"] = len(d.unassessed)
    return d


def track(report: Report, url: str | None = None) -> int:
    """What ``posture scan --store`` does: baseline against the previous scan, then record."""
    store = Store(url)
    try:
        fill_baseline(report, store.previous(report))
        return store.record(report)
    finally:
        store.engine.dispose()
