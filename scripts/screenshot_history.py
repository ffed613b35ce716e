#!/usr/bin/env python3
"""Render the history view (`posture report --history`) in headless Chromium: docs/history-screenshot.png.

Usage: .venv/bin/python scripts/screenshot_history.py [--out docs/history-screenshot.png]
It records six weekly scans of two example AWS accounts (built like the test fixtures: failures
fixed and new ones appearing) in a throw-away SQLite history store, renders the page with the
real command, and screenshots it. Needs Debian's chromium (`apt-get install -y chromium`).
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "reports"))

from posture_report_factory import make_report, result  # noqa: E402

A, B = "111111111111", "222222222222"
SCOPES = [{"provider": "aws", "id": A, "name": "acme-prod", "kind": "account", "parent": "o-acme12345"},
          {"provider": "aws", "id": B, "name": "acme-dev", "kind": "account", "parent": "o-acme12345"}]


def week(n: int) -> list:
    """The results of scan ``n`` (0..5): failures are fixed over the weeks, one regression in week 4."""
    def st(fail_until: int, fail_from: int = 99) -> str:
        return "fail" if n < fail_until or n >= fail_from else "pass"

    rs = [
        result("aws.iam.user.console_mfa", "pass", "aws", A, f"arn:aws:iam::{A}:user/alice", "alice", "IAM-01"),
        result("aws.iam.user.console_mfa", st(5), "aws", A, f"arn:aws:iam::{A}:user/carol", "carol", "IAM-01"),
        result("aws.iam.user.console_mfa", "fail" if n == 4 else "pass", "aws", B, f"arn:aws:iam::{B}:user/bob",
               "bob", "IAM-01"),
        result("aws.s3.bucket.public_access", st(2), "aws", A, "arn:aws:s3:::acme-payroll-exports",
               "acme-payroll-exports", "DP-01", region="eu-west-1"),
        result("aws.s3.bucket.public_access", st(1), "aws", B, "arn:aws:s3:::acme-dev-scratch", "acme-dev-scratch",
               "DP-01", region="eu-west-1"),
        result("aws.ec2.security_group.admin_ports", st(3), "aws", B, f"arn:aws:ec2:eu-west-1:{B}:security-group/sg-0d",
               "acme-dev-ssh-open", "NET-01", region="eu-west-1"),
        result("aws.ec2.security_group.admin_ports", "pass", "aws", A, f"arn:aws:ec2:eu-west-1:{A}:security-group/sg-0a",
               "acme-web-sg", "NET-01", region="eu-west-1"),
        result("aws.cloudtrail.trail.multi_region", "pass", "aws", A, f"arn:aws:cloudtrail:eu-west-1:{A}:trail/org",
               "acme-org-trail", "LOG-01", region="eu-west-1"),
        result("aws.iam.access_key.age", "fail", "aws", A, f"arn:aws:iam::{A}:user/alice/key/AKIAOLD",
               "alice key AKIAOLD", "IAM-05"),
        result("aws.kms.key.rotation", "fail" if n < 3 else "pass", "aws", B, f"arn:aws:kms:eu-west-1:{B}:key/k1",
               "dev-key", "KEY-01", region="eu-west-1"),
    ]
    if n < 3:
        rs.append(result("aws.cloudtrail.trail.multi_region", "error", "aws", B, f"aws/{B}/eu-west-1/trail",
                         f"aws.cloudtrail.trail in {B}/eu-west-1", "LOG-01", region="eu-west-1",
                         message="Could not assess: AccessDenied", error_code="AccessDenied"))
    else:
        rs.append(result("aws.cloudtrail.trail.multi_region", "pass", "aws", B,
                         f"arn:aws:cloudtrail:eu-west-1:{B}:trail/dev", "acme-dev-trail", "LOG-01",
                         region="eu-west-1"))
    return rs


def record_weeks(store_url: str, weeks: int = 6) -> None:
    from posture.history import Store

    store = Store(store_url)
    for n in range(weeks):
        started = f"2025-03-{3 + 7 * n:02d}T10:00:00+00:00" if 3 + 7 * n <= 31 else \
            f"2025-04-{3 + 7 * n - 31:02d}T10:00:00+00:00"
        store.record(make_report("aws", SCOPES, week(n), organisation="Acme Corp", started_at=started))


def _chromium_helpers():
    spec = importlib.util.spec_from_file_location("screenshot_report", ROOT / "scripts" / "screenshot_report.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "history-screenshot.png"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="posture-history-") as tmp:
        store = str(Path(tmp) / "history.sqlite")
        record_weeks(store)
        html = Path(tmp) / "history.html"
        subprocess.run([sys.executable, "-c", "from posture.cli import main; main()", "report", "--history",
                        "--store", store, "--html", str(html)], check=True)
        _chromium_helpers().screenshot(html, Path(args.out), width=1400, height=1250)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
