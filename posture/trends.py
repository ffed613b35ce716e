"""Posture over time, per scope: tier attainment and failures by severity across recorded scans.

Reads the history store only through its public API (``Store.headers`` for the trend of every scan,
``Store.get`` for the per-scope failure counts of a scan that covered several scopes), and lays
out the charts' geometry here so the template only draws.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from posture.report import SEVERITY_ORDER

SEVERITIES = list(SEVERITY_ORDER)  # critical ... info
TIER_COLOURS = ["#1565c0", "#6a1b9a", "#00838f", "#ef6c00", "#5d4037", "#ad1457"]
CHART_W, CHART_H, PAD_L, PAD_B, PAD_T = 560, 180, 44, 34, 12


@dataclass
class Point:
    scan_id: int
    started_at: str
    tiers: dict[str, dict[str, Any]] = field(default_factory=dict)  # tier -> {status, pass_rate, partial}
    failures: dict[str, int] = field(default_factory=dict)  # severity -> count

    @property
    def label(self) -> str:
        return self.started_at[:10] or f"scan {self.scan_id}"


@dataclass
class ScopeTrend:
    provider: str
    scope: str
    name: str
    points: list[Point] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.provider}:{self.scope}"


@dataclass(frozen=True)
class History:
    """What ``posture report --history`` draws: the trends, the store they come from (shown without a
    password) and how many scans they span; rendered by an output's ``write_history``."""

    trends: list[ScopeTrend]
    store: str
    scans: int


def _scope_name(header: dict[str, Any], provider: str, scope: str) -> str:
    for s in header.get("scopes", []):
        if s.get("provider") == provider and s.get("id") == scope:
            return str(s.get("name") or scope)
    return scope


def collect_trends(store: Any, limit: int = 100) -> list[ScopeTrend]:
    """One trend per (provider, scope) seen in the last ``limit`` recorded scans, oldest point first."""
    trends: dict[tuple[str, str], ScopeTrend] = {}
    for header in store.headers(limit):
        scan_id = int(header["scan_id"])
        keys = sorted({(a["provider"], a["scope"]) for a in header.get("attainment", [])}
                      | {(s["provider"], s["id"]) for s in header.get("scopes", [])})
        if not keys:
            continue
        if len(keys) == 1:
            per_scope = {keys[0]: dict(header.get("summary", {}).get("failures_by_severity", {}))}
        else:  # the header's summary is for all scopes together: count this scan's failures per scope
            per_scope = defaultdict(lambda: dict.fromkeys(SEVERITIES, 0))
            for r in store.get(scan_id).results:
                if r.status == "fail":
                    per_scope[(r.provider, r.scope)][r.severity] = per_scope[(r.provider, r.scope)].get(
                        r.severity, 0) + 1
        for key in keys:
            trend = trends.setdefault(key, ScopeTrend(key[0], key[1], _scope_name(header, *key)))
            point = Point(scan_id, str(header.get("started_at", "")),
                          failures={s: int(per_scope.get(key, {}).get(s, 0)) for s in SEVERITIES})
            for a in header.get("attainment", []):
                if (a["provider"], a["scope"]) == key:
                    point.tiers[a["tier"]] = {"status": a["status"], "pass_rate": float(a["pass_rate"]),
                                              "partial": bool(a.get("partial"))}
            trend.points.append(point)
    return [trends[k] for k in sorted(trends)]


def _x(i: int, n: int) -> float:
    width = CHART_W - PAD_L - 70
    return PAD_L + 24 + (width / 2 if n == 1 else width * i / (n - 1))


def _label_every(n: int) -> int:
    return max(1, (n + 7) // 8)


def attainment_chart(trend: ScopeTrend) -> dict[str, Any]:
    """Lines of pass rate per tier (0-100 %), markers coloured by attainment status."""
    n = len(trend.points)
    tiers = sorted({t for p in trend.points for t in p.tiers})
    plot_h = CHART_H - PAD_B - PAD_T
    lines = []
    for ti, tier in enumerate(tiers):
        colour = TIER_COLOURS[ti % len(TIER_COLOURS)]
        marks = []
        for i, p in enumerate(trend.points):
            att = p.tiers.get(tier)
            if att is None:
                continue
            y = PAD_T + plot_h * (1 - att["pass_rate"])
            marks.append({"x": round(_x(i, n), 1), "y": round(y, 1), "status": att["status"],
                          "title": f"{tier} {p.label} (scan {p.scan_id}): {att['status'].replace('_', ' ')}, "
                                   f"{att['pass_rate']:.0%} of controls pass" + (" (partial)" if att["partial"] else "")})
        lines.append({"tier": tier, "colour": colour, "marks": marks,
                      "points": " ".join(f"{m['x']},{m['y']}" for m in marks)})
    grid = [{"y": round(PAD_T + plot_h * (1 - v / 100), 1), "label": f"{v}%"} for v in (0, 50, 100)]
    return {"width": CHART_W, "height": CHART_H, "lines": lines, "grid": grid, "x_labels": _x_labels(trend),
            "left": PAD_L, "right": CHART_W - 8}


def failures_chart(trend: ScopeTrend) -> dict[str, Any]:
    """Stacked bars of failures by severity per scan."""
    n = len(trend.points)
    plot_h = CHART_H - PAD_B - PAD_T
    top = max((sum(p.failures.values()) for p in trend.points), default=0) or 1
    bar_w = max(4.0, min(28.0, (CHART_W - PAD_L - 70) / max(n, 1) * 0.6))
    bars = []
    for i, p in enumerate(trend.points):
        y = PAD_T + plot_h
        segments = []
        for sev in reversed(SEVERITIES):  # info at the bottom, critical on top
            count = p.failures.get(sev, 0)
            if not count:
                continue
            h = plot_h * count / top
            y -= h
            segments.append({"severity": sev, "y": round(y, 1), "h": round(h, 1), "count": count})
        bars.append({"x": round(_x(i, n) - bar_w / 2, 1), "w": round(bar_w, 1), "segments": segments,
                     "total": sum(p.failures.values()),
                     "title": f"{p.label} (scan {p.scan_id}): " + ", ".join(
                         f"{s} {p.failures.get(s, 0)}" for s in SEVERITIES)})
    grid = [{"y": round(PAD_T + plot_h * (1 - f), 1), "label": f"{top * f:g}"} for f in (0, 0.5, 1)]
    return {"width": CHART_W, "height": CHART_H, "bars": bars, "grid": grid, "x_labels": _x_labels(trend),
            "left": PAD_L, "right": CHART_W - 8}


def _x_labels(trend: ScopeTrend) -> list[dict[str, Any]]:
    n = len(trend.points)
    every = _label_every(n)
    return [{"x": round(_x(i, n), 1), "y": CHART_H - 12, "text": p.label}
            for i, p in enumerate(trend.points) if i % every == 0 or i == n - 1]
