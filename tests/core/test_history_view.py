"""`posture report --history`: tier attainment and failures by severity over time per scope, as a
self-contained page (inline SVG, no network assets), checked in headless Chromium."""

from __future__ import annotations

import html
import importlib.util
import re
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from posture.cli import cli
from posture.history import Store
from posture.trends import collect_trends

ROOT = Path(__file__).resolve().parents[2]


def _module(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


weeks = _module("screenshot_history")
chromium_tools = _module("screenshot_report")
chromium = pytest.mark.skipif(chromium_tools.find_chromium() is None,
                              reason="chromium is not installed (apt-get install -y chromium)")


@pytest.fixture
def store(tmp_path: Path) -> str:
    url = str(tmp_path / "history.sqlite")
    weeks.record_weeks(url)
    return url


def render(store: str, out: Path) -> str:
    res = CliRunner().invoke(cli, ["report", "--history", "--store", store, "--html", str(out)])
    assert res.exit_code == 0, res.output
    return out.read_text()


def test_trends_follow_the_recorded_scans_per_scope(store: str) -> None:
    trends = {t.scope: t for t in collect_trends(Store(store, create=False))}
    assert set(trends) == {weeks.A, weeks.B}
    prod, dev = trends[weeks.A], trends[weeks.B]
    assert [p.label for p in prod.points] == ["2025-03-03", "2025-03-10", "2025-03-17", "2025-03-24",
                                              "2025-03-31", "2025-04-07"]
    # failures counted per scope (the scans covered both accounts), by severity
    assert [p.failures["critical"] for p in prod.points] == [1, 1, 0, 0, 0, 0]
    assert [p.failures["critical"] for p in dev.points] == [1, 0, 0, 0, 0, 0]
    assert [p.failures["high"] for p in dev.points] == [1, 1, 1, 0, 1, 0]  # the week-4 MFA regression
    assert dev.points[0].tiers["tier-1"]["status"] == "not_attained"
    assert dev.points[-1].tiers["tier-1"]["status"] == "attained" and dev.points[-1].tiers["tier-1"]["pass_rate"] == 1


def test_history_page_is_self_contained_with_inline_svg_per_scope(store: str, tmp_path: Path) -> None:
    page = render(store, tmp_path / "history.html")
    assert "Content-Security-Policy" in page and "default-src 'none'" in html.unescape(page)
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page), "no network asset"
    assert "<script" not in page.lower()
    assert page.count('id="scope-') == 2
    assert page.count("<polyline") == 4  # tier-1 and tier-2 lines for each of the two scopes
    assert len(re.findall(r"<circle ", page)) == 2 * 2 * 6
    assert "Failures by severity over time" in page and "acme-prod" in page and "acme-dev" in page


def test_names_from_the_store_are_escaped(tmp_path: Path) -> None:
    url = str(tmp_path / "h.sqlite")
    sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "reports"))
    from posture_report_factory import make_report, result

    scopes = [{"provider": "aws", "id": "333333333333", "name": "<img src=x onerror=alert(1)>", "kind": "account",
               "parent": ""}]
    rs = [result("aws.s3.bucket.public_access", "fail", "aws", "333333333333", "arn:aws:s3:::b", "b", "DP-01")]
    Store(url).record(make_report("aws", scopes, rs))
    page = render(url, tmp_path / "h.html")
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_an_empty_or_missing_store_is_a_clear_message(tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, ["report", "--history", "--store", str(tmp_path / "none.sqlite"),
                                   "--html", str(tmp_path / "h.html")])
    assert res.exit_code == 2 and "posture: error:" in res.output and "Traceback" not in res.output
    res = CliRunner().invoke(cli, ["report", "--history", str(tmp_path / "r.json")])
    assert res.exit_code == 2 and "--history draws the history store" in res.output


@chromium
def test_history_view_renders_in_headless_chromium(store: str, tmp_path: Path) -> None:
    html = tmp_path / "history.html"
    render(store, html)
    dom = chromium_tools.dump_dom(html)
    assert dom.count("<svg") >= 4 and dom.count("<polyline") == 4
    png = chromium_tools.screenshot(html, tmp_path / "history.png", width=1400, height=1250)
    assert png.stat().st_size > 20_000  # a drawn page, not a blank one
