"""scripts/github-action.sh hands every action input to `posture scan` exactly (a recording stand-in for
the posture command; the real scan of the demo account is in tests/aws/test_github_action.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

RECORDER = """#!/usr/bin/env python3
import json, os, sys
args = sys.argv[1:]
with open(os.environ["RECORD"], "w") as fh:
    json.dump(args, fh)
out = args[args.index("--output-dir") + 1]
os.makedirs(out, exist_ok=True)
open(os.path.join(out, "posture-report.json"), "w").write(json.dumps({"tier": {"id": "t"}, "attainment": [],
    "summary": {"failures_by_severity": {}}}))
open(os.path.join(out, "posture-report.sarif"), "w").write(json.dumps({"runs": [{"automationDetails":
    {"id": "posture/tier-3/gcp-proj/"}}]}))
sys.exit(1)
"""


def test_inputs_reach_posture_scan_verbatim_and_quoted_args_stay_whole(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "posture").write_text(RECORDER)
    (bin_dir / "posture").chmod(0o755)
    record, outputs = tmp_path / "args.json", tmp_path / "out.txt"
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "RECORD": str(record),
           "POSTURE_PYTHON": sys.executable, "GITHUB_OUTPUT": str(outputs), "INPUT_INSTALL": "false",
           "INPUT_PROVIDER": "gcp", "INPUT_TIER": "tier-3", "INPUT_FRAMEWORK": "cis-gcp-foundations-5.0",
           "INPUT_FAIL_ON": "critical", "INPUT_FORMATS": "console,html",
           "INPUT_ARGS": "--organization 123 --waivers 'my waivers.yaml' ; touch /tmp/pwned-$$",
           "INPUT_OUTPUT_DIR": str(tmp_path / "reports")}
    proc = subprocess.run(["bash", str(ROOT / "scripts" / "github-action.sh")], env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    args = json.loads(record.read_text())
    assert args[:6] == ["scan", "--provider", "gcp", "--tier", "tier-3", "--framework"]
    assert args[6] == "cis-gcp-foundations-5.0"
    assert args[args.index("--fail-on") + 1] == "critical"
    assert args[args.index("--format") + 1] == "console,html,json,sarif"
    # shell-quoted extra arguments stay whole and are never executed
    assert args[-7:] == ["--organization", "123", "--waivers", "my waivers.yaml", ";", "touch", "/tmp/pwned-$$"]
    assert not any(p.name.startswith("pwned-") for p in Path("/tmp").iterdir())
    values = dict(line.split("=", 1) for line in outputs.read_text().splitlines())
    assert values["exit-code"] == "1" and values["category"] == "posture/tier-3/gcp-proj/"
    assert values["report-json"].endswith("posture-report.json")
