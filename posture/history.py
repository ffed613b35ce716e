"""Scan history: every scan recorded, the previous one found, drift computed.

``Store(url)`` keeps, per scan, the report's header (tier, scopes, summary,
attainment, coverage: everything but the results), one row per failing,
waived or error result keyed by fingerprint (provider, scope, check id,
resource id), and the fingerprints and statuses of every other result packed
17 bytes each into one column. A million results cost a few hundred thousand
rows at most, never a copy of the whole report (which outgrew SQLite's string
limit near a million facts). SQLite by default, or any SQLAlchemy URL
(``postgresql+psycopg://...``); the schema is created and upgraded by Alembic
migrations (``posture/migrations``) under a lock, so several processes may
open a new store at the same moment.

A scan is recorded in two steps: :meth:`Store.begin` reserves its id (state
``pending``, invisible to ``history``, ``diff`` and baselines) before the
outputs are written, :meth:`Store.commit` records it once they are, and
:meth:`Store.abandon` drops it when they could not be.

``fill_baseline`` marks failing results ``new`` or ``unchanged`` against the
previous scan of the same scopes and tier and lists the failures fixed since
in ``report.coverage["absent"]``: the shape SARIF's ``baselineState`` needs.
What the new scan did not cover (a region or fact type it did not collect, a
check it could not assess) is "not assessed now", never fixed.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import os
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from posture.report import Report, Result

STORE_ENV = "POSTURE_STORE"
#: statuses that appear as SARIF results (waived = suppressed): what "failing" means for drift
FAILING = ("fail", "waived")
#: statuses kept as one row each; every other status is packed into ``scans.statuses``
KEPT = ("fail", "waived", "error")
_STATUS_CODES = {"pass": b"p", "not_applicable": b"n", "excluded": b"x"}
_CODE_STATUSES = {v[0]: k for k, v in _STATUS_CODES.items()}
_RECORD = 17  # 16 bytes of fingerprint + 1 byte of status


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
    """Identifies "the same scan": same provider+scope set and same tier.

    What else the scan covered (regions, fact types) is part of its identity
    too, but as ``coverage["collected"]``: a scan of fewer regions still has
    the last full scan as its baseline, and the regions it left out are "not
    assessed now" rather than fixed.
    """
    ident = json.dumps({"tier": report.tier.get("id", ""), "scopes": scope_keys(report)}, sort_keys=True)
    return hashlib.sha256(ident.encode()).hexdigest()


# ------------------------------------------------------------ compact rows
def split_report(data: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]], list[tuple[str, str]]]:
    """A report dict -> (header without results, kept result dicts, (fingerprint, status) of the rest)."""
    header = {k: v for k, v in data.items() if k != "results"}
    kept, others = [], []
    for r in data.get("results", []):
        if r["status"] in KEPT:
            kept.append(r)
        else:
            others.append((r.get("fingerprint") or Result.from_dict(r).fingerprint, r["status"]))
    return header, kept, others


def pack_statuses(pairs: Iterable[tuple[str, str]]) -> bytes:
    """(fingerprint, status) pairs -> sorted 17-byte records, compressed (searched by bisection)."""
    records = sorted(bytes.fromhex(fp[:32]) + _STATUS_CODES.get(status, b"p") for fp, status in pairs)
    return zlib.compress(b"".join(records), 1)


class PackedStatuses:
    """Status lookup by fingerprint over :func:`pack_statuses` output, without building a set."""

    def __init__(self, blob: bytes | None) -> None:
        self._data = zlib.decompress(blob) if blob else b""
        self._n = len(self._data) // _RECORD

    def __len__(self) -> int:
        return self._n

    def get(self, fingerprint: str) -> str | None:
        key = bytes.fromhex(fingerprint[:32])
        i = bisect.bisect_left(range(self._n), key, key=lambda j: self._data[j * _RECORD:j * _RECORD + 16])
        if i < self._n and self._data[i * _RECORD:i * _RECORD + 16] == key:
            return _CODE_STATUSES.get(self._data[i * _RECORD + 16], "pass")
        return None


def result_row(scan_id: int, r: dict[str, Any]) -> dict[str, Any]:
    """One kept result as a row of ``scan_results``."""
    fp = r.get("fingerprint") or Result.from_dict(r).fingerprint
    return {"scan_id": scan_id, "fingerprint": fp, "check_id": r["check_id"], "resource_id": r["resource_id"],
            "provider": r["provider"], "scope": r["scope"], "region": r.get("region", ""), "status": r["status"],
            "severity": r["severity"], "result": json.dumps(r, sort_keys=True, separators=(",", ":"))}


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


def _tables(prefix: str) -> tuple[sa.MetaData, sa.Table, sa.Table]:
    """The layout the newest migration leaves (queries only: migrations own the DDL)."""
    md = sa.MetaData()
    scans = sa.Table(
        f"{prefix}scans", md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("scan_key", sa.String(64), nullable=False),
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
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("header", sa.Text),
        sa.Column("statuses", sa.LargeBinary),
    )
    results = sa.Table(
        f"{prefix}scan_results", md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("scan_id", sa.Integer, sa.ForeignKey(scans.c.id, ondelete="CASCADE"), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("check_id", sa.String(300), nullable=False),
        sa.Column("resource_id", sa.Text, nullable=False),
        sa.Column("provider", sa.String(50), nullable=False),
        sa.Column("scope", sa.String(300), nullable=False),
        sa.Column("region", sa.String(100), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("result", sa.Text),
    )
    return md, scans, results


HEAD_REVISION = "0002"


class Store:
    """Scan history in a SQL database (SQLAlchemy Core; tables ``<prefix>scans`` and ``<prefix>scan_results``)."""

    def __init__(self, url: str | None = None, *, table_prefix: str = "posture_", create: bool = True) -> None:
        """Open (``create=True``: and create if needed) the store; read-only commands pass ``create=False``
        so that looking at history never leaves an empty database or directory behind. An existing store
        of an older layout is upgraded in place."""
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
        self.prefix = table_prefix
        try:
            # SQLite: wait for a concurrent writer (another scan recording) instead of failing at once
            connect_args = {"timeout": 60} if self.url.startswith("sqlite") else {}
            self.engine = sa.create_engine(self.url, connect_args=connect_args)
        except (sa.exc.ArgumentError, ImportError) as exc:
            raise StoreError(f"cannot open history store {_redact(self.url)}: {exc}") from None
        self.metadata, self.scans, self.results = _tables(table_prefix)
        try:
            if not create and not sa.inspect(self.engine).has_table(self.scans.name):
                raise StoreMissing(f"no scans recorded yet in history store {_redact(self.url)}")
            self._migrate()
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"cannot open history store {_redact(self.url)}: {exc.__class__.__name__}: "
                             f"{str(exc.orig if hasattr(exc, 'orig') else exc).strip()}") from None

    # ------------------------------------------------------------ schema
    def _revision(self, conn: sa.Connection) -> str | None:
        version = f"{self.prefix}alembic_version"
        if not sa.inspect(conn).has_table(version):
            return None
        return conn.execute(sa.text(f'SELECT version_num FROM "{version}"')).scalar()

    def _migrate(self) -> None:
        """Bring the schema to the newest revision, one process at a time.

        Two scans starting together on a new store used to race in CREATE
        TABLE ("already exists"). PostgreSQL serialises on a transaction-level
        advisory lock; SQLite on ``BEGIN EXCLUSIVE``. The loser then finds the
        schema current and does nothing.
        """
        with self.engine.connect() as conn:
            if self._revision(conn) == HEAD_REVISION:
                return
        if self.engine.dialect.name == "sqlite":
            engine = self.engine.execution_options(isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                conn.exec_driver_sql("BEGIN EXCLUSIVE")
                try:
                    self._upgrade(conn)
                except BaseException:
                    conn.exec_driver_sql("ROLLBACK")
                    raise
                conn.exec_driver_sql("COMMIT")
            return
        with self.engine.begin() as conn:
            if self.engine.dialect.name == "postgresql":
                lock = int.from_bytes(hashlib.sha256(f"posture:{self.prefix}".encode()).digest()[:8], "big",
                                      signed=True)
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock})
            self._upgrade(conn)

    def _upgrade(self, conn: sa.Connection) -> None:
        if self._revision(conn) == HEAD_REVISION:
            return
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
        cfg.attributes["connection"] = conn
        cfg.attributes["table_prefix"] = self.prefix
        command.upgrade(cfg, "head")

    # ------------------------------------------------------------ writing
    def begin(self, report: Report) -> int:
        """Reserve a scan id (state ``pending``) so the outputs can name it; invisible until :meth:`commit`."""
        with self.engine.begin() as conn:
            scan_id = conn.execute(self.scans.insert().values(
                scan_key=scan_key(report), tier=report.tier.get("id", ""), scopes=json.dumps(scope_keys(report)),
                started_at=report.started_at or "", finished_at=report.finished_at or "",
                recorded_at="", passed=0, failed=0, errors=0, waived=0, results=0, state="pending",
            )).inserted_primary_key[0]
        report.metadata["scan_id"] = int(scan_id)
        return int(scan_id)

    def commit(self, scan_id: int, report: Report) -> int:
        """Record ``report`` under a reserved id: header, kept rows, packed statuses; state ``recorded``."""
        by = report.summary["by_status"]
        header = {k: v for k, v in report.to_dict(results=False).items()}
        kept_rows, others = [], []
        for r in report.results:
            if r.status in KEPT:
                kept_rows.append(result_row(scan_id, r.to_dict()))
            else:
                others.append((r.fingerprint, r.status))
        with self.engine.begin() as conn:
            conn.execute(self.results.delete().where(self.results.c.scan_id == scan_id))
            for i in range(0, len(kept_rows), 5000):
                conn.execute(self.results.insert(), kept_rows[i:i + 5000])
            conn.execute(self.scans.update().where(self.scans.c.id == scan_id).values(
                scan_key=scan_key(report), tier=report.tier.get("id", ""), scopes=json.dumps(scope_keys(report)),
                started_at=report.started_at or "", finished_at=report.finished_at or "",
                recorded_at=datetime.now(UTC).isoformat(timespec="seconds"),
                passed=by["pass"], failed=by["fail"], errors=by["error"], waived=by["waived"],
                results=len(report.results), state="recorded",
                header=json.dumps(header, sort_keys=True, separators=(",", ":")),
                statuses=pack_statuses(others),
            ))
        report.metadata["scan_id"] = int(scan_id)
        return int(scan_id)

    def abandon(self, scan_id: int) -> None:
        """Drop a reserved scan whose outputs could not be written."""
        with self.engine.begin() as conn:
            conn.execute(self.results.delete().where(self.results.c.scan_id == scan_id))
            conn.execute(self.scans.delete().where(self.scans.c.id == scan_id, self.scans.c.state == "pending"))

    def record(self, report: Report) -> int:
        """Record ``report`` in one step (what tests and importers use); returns the scan id."""
        return self.commit(self.begin(report), report)

    # ------------------------------------------------------------ reading
    def previous(self, report: Report) -> Report | None:
        """The latest recorded scan of the same scopes and tier that started before ``report``."""
        q = sa.select(self.scans.c.id).where(self.scans.c.scan_key == scan_key(report),
                                              self.scans.c.state == "recorded")
        if report.started_at:
            q = q.where(self.scans.c.started_at < report.started_at)
        q = q.order_by(self.scans.c.started_at.desc(), self.scans.c.id.desc()).limit(1)
        with self.engine.connect() as conn:
            row = conn.execute(q).first()
        return self.get(row.id) if row else None

    def list(self, limit: int = 20) -> list[ScanInfo]:
        """Most recent first."""
        c = self.scans.c
        q = sa.select(c.id, c.recorded_at, c.started_at, c.tier, c.scopes, c.passed, c.failed, c.errors,
                      c.waived, c.results).where(c.state == "recorded").order_by(c.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [ScanInfo(id=r.id, recorded_at=r.recorded_at, started_at=r.started_at, tier=r.tier,
                             scopes=json.loads(r.scopes), passed=r.passed, failed=r.failed, errors=r.errors,
                             waived=r.waived, results=r.results) for r in conn.execute(q)]

    def headers(self, limit: int = 200) -> list[dict[str, Any]]:
        """Recorded scans' headers (summary, attainment, tier, scopes), oldest first: for trend views."""
        c = self.scans.c
        q = sa.select(c.id, c.header).where(c.state == "recorded").order_by(c.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            rows = conn.execute(q).fetchall()
        return [{**json.loads(r.header), "scan_id": r.id} for r in reversed(rows)]

    def get(self, scan_id: int) -> Report:
        """A recorded scan as a report of its failing, waived and error results (passes are only counted).

        ``statuses(scan_id)`` answers the status of any other result.
        """
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(self.scans.c.header).where(
                self.scans.c.id == int(scan_id), self.scans.c.state == "recorded")).first()
            if row is None:
                raise StoreError(f"no scan {scan_id} in history store {_redact(self.url)}")
            kept = conn.execute(sa.select(self.results.c.result).where(
                self.results.c.scan_id == int(scan_id)).order_by(self.results.c.id)).fetchall()
        data = json.loads(row.header)
        data["results"] = [json.loads(r.result) for r in kept]
        report = Report.from_dict(data)
        report.metadata["scan_id"] = int(scan_id)
        return report

    def statuses(self, scan_id: int) -> PackedStatuses:
        """The packed statuses of a scan's passing, not-applicable and excluded results."""
        with self.engine.connect() as conn:
            blob = conn.execute(sa.select(self.scans.c.statuses).where(self.scans.c.id == int(scan_id))).scalar()
        return PackedStatuses(blob)

    def failing_fingerprints(self, scan_id: int) -> set[str]:
        """Fingerprints failing in a scan, straight from the results table."""
        q = sa.select(self.results.c.fingerprint).where(
            self.results.c.scan_id == int(scan_id), self.results.c.status.in_(FAILING))
        with self.engine.connect() as conn:
            return {r.fingerprint for r in conn.execute(q)}

    def drop(self) -> None:
        """Drop this store's tables (tests use a unique prefix and clean up)."""
        self.metadata.drop_all(self.engine)
        with self.engine.begin() as conn:
            conn.execute(sa.text(f'DROP TABLE IF EXISTS "{self.prefix}alembic_version"'))
        self.engine.dispose()


def _redact(url: str) -> str:
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "<invalid URL>"


# ------------------------------------------------------------ drift
def covered(report: Report) -> dict[str, dict[str, set[str]]] | None:
    """``provider:scope`` -> region -> fact types the scan collected; None for reports that do not say."""
    collected = report.coverage.get("collected")
    if collected is None:
        return None
    return {scope: {region: set(types) for region, types in regions.items()} for scope, regions in collected.items()}


def differences(old: Report, new: Report) -> list[str]:
    """What makes two scans not comparable as "the same scan" (tier, scopes), in words."""
    out = []
    if old.tier.get("id") != new.tier.get("id"):
        out.append(f"tier {old.tier.get('id')!r} vs {new.tier.get('id')!r}")
    a, b = set(scope_keys(old)), set(scope_keys(new))
    if a != b:
        parts = []
        if a - b:
            parts.append("only in the old scan: " + ", ".join(sorted(a - b)))
        if b - a:
            parts.append("only in the new scan: " + ", ".join(sorted(b - a)))
        out.append("scopes differ (" + "; ".join(parts) + ")")
    return out


def coverage_gaps(old: Report, new: Report) -> list[str]:
    """Regions and fact types the old scan collected and the new one did not (reported, not refused)."""
    before, after = covered(old), covered(new)
    if before is None or after is None:
        return []
    gaps = []
    for scope, regions in sorted(before.items()):
        for region, types in sorted(regions.items()):
            missing = types - after.get(scope, {}).get(region, set())
            if missing:
                gaps.append(f"{scope} {region}: {len(missing)} fact type(s) not collected now")
    return gaps


@dataclass
class Diff:
    """Failures new in ``new``, fixed since ``old``, and present in both."""

    new: list[Result] = field(default_factory=list)
    fixed: list[Result] = field(default_factory=list)
    unchanged: list[Result] = field(default_factory=list)
    #: old failures the new scan did not assess (its check is an error there, or it did not collect that
    #: region / fact type / scope): neither fixed nor new
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


def diff(old: Report, new: Report, status_of: Callable[[str], str | None] | None = None) -> Diff:
    """Drift from ``old`` to ``new``.

    ``status_of`` answers the status of a fingerprint that ``new.results``
    does not hold (a stored scan keeps only its failing and error results).
    """
    old_failing = {r.fingerprint: r for r in old.results if r.status in FAILING}
    new_failing = {r.fingerprint: r for r in new.results if r.status in FAILING}
    status_now = {r.fingerprint: r.status for r in new.results}
    # where the new scan could not look: (provider, scope, check, region) of its error results ...
    blind = {(r.provider, r.scope, r.check_id, r.region) for r in new.results if r.status == "error"}
    # ... and what it did not collect at all
    seen, scanned = covered(new), set(scope_keys(new))
    d = Diff()
    for fp, r in new_failing.items():
        (d.unchanged if fp in old_failing else d.new).append(r)
    for fp, r in old_failing.items():
        if fp in new_failing:
            continue
        now = status_now.get(fp) or (status_of(fp) if status_of else None)
        if now is None and _not_looked_at(r, blind, seen, scanned):
            d.unassessed.append(r)  # a denied call, a region or scope left out: not a fix
            continue
        d.fixed.append(r)
        d.now_status[fp] = now or "absent"
    for lst in (d.new, d.fixed, d.unchanged, d.unassessed):
        lst.sort(key=lambda r: r.sort_key)
    return d


def _not_looked_at(r: Result, blind: set[tuple[str, str, str, str]], seen: dict[str, dict[str, set[str]]] | None,
                   scanned: set[str]) -> bool:
    if any((r.provider, scope, r.check_id, region) in blind
           for scope in (r.scope, "*") for region in (r.region, "global", "*")):
        return True
    key = f"{r.provider}:{r.scope}"
    if key not in scanned:
        return True
    if seen is None:
        return False
    return r.resource_type not in seen.get(key, {}).get(r.region, set())


def fill_baseline(report: Report, previous: Report | None,
                  status_of: Callable[[str], str | None] | None = None) -> Diff | None:
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
    d = diff(previous, report, status_of)
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
    """Baseline against the previous scan, then record (outputs written in between by ``posture scan``)."""
    store = Store(url)
    try:
        fill_baseline(report, store.previous(report))
        return store.record(report)
    finally:
        store.engine.dispose()
