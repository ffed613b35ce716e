"""Regenerate the demo golden files. Run ONLY when a change of output is intended and reviewed.

    .venv/bin/python tests/core/golden/make_golden.py

It collects every fact type from the seeded demo account (``posture demo``'s mock) into
``demo-facts.jsonl``, evaluates it against tier-3 into ``demo-report.json`` / ``demo-report.sarif``,
and summarises a live ``posture demo --tier tier-3`` run (ids are random per moto run, so the summary
counts results per check and status) into ``demo-live-summary.json``. The first versions were made
from main before the issue-11 redesign; ``tests/core/test_golden.py`` keeps later code equal to them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]


def posture(*args: str, env: dict[str, str] | None = None) -> None:
    subprocess.run([str(Path(sys.executable).parent / "posture"), *args], check=True, cwd=ROOT,
                   env={**os.environ, "AWS_EC2_METADATA_DISABLED": "true", **(env or {})})


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from tests.core.test_golden import live_summary

    with tempfile.TemporaryDirectory() as tmp:
        posture("demo", "--tier", "tier-3", "--format", "json,sarif", "-o", tmp)
        summary = live_summary(json.loads(Path(tmp, "posture-report.json").read_text()),
                               json.loads(Path(tmp, "posture-report.sarif").read_text()))
    (HERE / "demo-live-summary.json").write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n")
    collect_demo_facts(HERE / "demo-facts.jsonl")
    with tempfile.TemporaryDirectory() as tmp:
        posture("evaluate", str(HERE / "demo-facts.jsonl"), "--tier", "tier-3", "--format", "json,sarif",
                "-o", tmp, "--no-store")
        for suffix in ("json", "sarif"):
            (HERE / f"demo-report.{suffix}").write_bytes(Path(tmp, f"posture-report.{suffix}").read_bytes())


def collect_demo_facts(path: Path) -> None:
    from posture.facts import write_fact_file
    from posture.netguard import loopback_only

    try:
        from posture_aws.testing import mock_account  # after the redesign
    except ImportError:
        from posture_aws.testing.mock import mock_account  # before it
    with loopback_only(), mock_account() as mock:
        try:  # after the redesign: one pipeline over the registry it is given
            from posture.pipeline import Pipeline
            from posture.plugins import registry

            pipeline = Pipeline(registry())
            facts = pipeline.collect(pipeline.plan("tier-3", ["aws"]), {"region": mock["region"]})
        except ImportError:  # before it
            from posture.scan import collect_facts, plan_scan

            facts = collect_facts(plan_scan("tier-3", ["aws"]), {"region": mock["region"]})
        write_fact_file(path, facts)


if __name__ == "__main__":
    main()
