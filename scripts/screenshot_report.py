#!/usr/bin/env python3
"""Render the HTML report in headless Chromium and save a screenshot (docs/report-screenshot.png).

Usage: .venv/bin/python scripts/screenshot_report.py [REPORT.json] [--out docs/report-screenshot.png]
Without a report it renders the test fixture tests/fixtures/reports/aws-acme.json.
Needs Debian's chromium (`apt-get install -y chromium`). Chromium runs with
networking features off and a throw-away profile; the page itself forbids any
network load through its Content-Security-Policy.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
         "--disable-default-apps", "--hide-scrollbars"]


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def run_chromium(args: list[str], timeout: float = 90) -> subprocess.CompletedProcess[str]:
    exe = find_chromium()
    if exe is None:
        raise FileNotFoundError("chromium not found: apt-get install -y chromium")
    with tempfile.TemporaryDirectory(prefix="posture-chromium-") as profile:
        return subprocess.run([exe, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True, text=True,
                              timeout=timeout, check=False)


def screenshot(html_path: Path, png_path: Path, width: int = 1280, height: int = 2000) -> Path:
    res = run_chromium([f"--window-size={width},{height}", f"--screenshot={png_path}", html_path.resolve().as_uri()])
    if not png_path.exists() or png_path.stat().st_size == 0:
        raise RuntimeError(f"chromium wrote no screenshot (exit {res.returncode}): {res.stderr[-500:]}")
    return png_path


def dump_dom(html_path: Path) -> str:
    """The DOM after Chromium parsed (and would have run scripts in) the page."""
    res = run_chromium(["--dump-dom", html_path.resolve().as_uri()])
    if res.returncode != 0 or "<html" not in res.stdout:
        raise RuntimeError(f"chromium could not render {html_path} (exit {res.returncode}): {res.stderr[-500:]}")
    return res.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", nargs="?", default=str(ROOT / "tests/fixtures/reports/aws-acme.json"))
    parser.add_argument("--out", default=str(ROOT / "docs/report-screenshot.png"))
    parser.add_argument("--height", type=int, default=2000)
    args = parser.parse_args()

    from posture.outputs.html import render_report
    from posture.report import load_report

    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "report.html"
        page.write_text(render_report(load_report(args.report)), encoding="utf-8")
        out = screenshot(page, Path(args.out), height=args.height)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
