"""The history view: per scope, tier attainment and failures by severity across recorded scans."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from posture.outputs.templating import render
from posture.trends import ScopeTrend, attainment_chart, failures_chart


def render_history(trends: list[ScopeTrend], store_label: str, scans: int, generated_at: str | None = None) -> str:
    charts: list[dict[str, Any]] = [{"attainment": attainment_chart(t), "failures": failures_chart(t)}
                                    for t in trends]
    return render("history.html.j2", title="posture history", trends=trends, charts=charts, store=store_label,
                  scans=scans, generated_at=generated_at or datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))
