"""The demo's JSON and SARIF keep their meaning across refactors (issue 11's golden test).

The golden files were made from main before the redesign (``golden/make_golden.py``). A saved fact
file of the seeded demo account is evaluated offline, which is deterministic, so every golden result,
check, control and SARIF rule must come back unchanged: same check ids, statuses, messages,
evidence and fingerprints. Checks added since are allowed (other work adds them); a golden entry
that changes or disappears fails. The live demo is compared by counts per check and status, because
moto makes up new resource ids on every run.

When a change of output is intended (a check fixed on purpose), regenerate with
``make_golden.py`` and say so in the commit.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from posture.cli import cli

GOLDEN = Path(__file__).resolve().parent / "golden"
REGENERATE = "if the change is intended, run tests/core/golden/make_golden.py and say so in the commit"


def live_summary(report: dict[str, Any], sarif: dict[str, Any]) -> dict[str, Any]:
    """What a live demo run must keep, free of the ids moto makes up per run."""
    run = sarif["runs"][0]
    return {
        "schema": report["schema"],
        "report_keys": sorted(report),
        "results_by_check_and_status": {
            f"{check}|{status}": n for (check, status), n in
            sorted(Counter((r["check_id"], r["status"]) for r in report["results"]).items())},
        "fact_types": sorted(report["coverage"]["fact_types"]),
        "sarif_rules": sorted(rule["id"] for rule in run["tool"]["driver"]["rules"]),
        "sarif_fingerprint_keys": sorted({k for r in run["results"] for k in r.get("partialFingerprints", {})}),
        "sarif_automation_id": run["automationDetails"]["id"],
    }


def evaluate_golden_facts(tmp_path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    result = CliRunner().invoke(cli, ["evaluate", str(GOLDEN / "demo-facts.jsonl"), "--tier", "tier-3",
                                      "--format", "json,sarif", "-o", str(tmp_path), "--no-store"])
    assert result.exit_code == 0, result.output
    return (json.loads((tmp_path / "posture-report.json").read_text()),
            json.loads((tmp_path / "posture-report.sarif").read_text()))


def by_key(entries: list[dict[str, Any]], *keys: str) -> dict[tuple[Any, ...], dict[str, Any]]:
    out = {tuple(json.dumps(e.get(k), sort_keys=True) for k in keys): e for e in entries}
    assert len(out) == len(entries), f"{keys} do not identify the entries"
    return out


# Prose (titles, remediation, framework references) is edited freely; what a check *is* is not.
PROSE = {"title", "description", "remediation", "references", "help", "shortDescription", "fullDescription"}


def without_prose(entries: dict[Any, dict[str, Any]]) -> dict[Any, dict[str, Any]]:
    return {k: {f: v for f, v in e.items() if f not in PROSE} for k, e in entries.items()}


def assert_golden_entries_kept(label: str, golden: dict[Any, Any], now: dict[Any, Any]) -> None:
    missing = sorted(str(k) for k in golden if k not in now)
    assert not missing, f"{label}: {len(missing)} golden entries gone, e.g. {missing[:3]}; {REGENERATE}"
    # A field added since (another helper's new report field) is allowed; a golden field must keep its value.
    changed = [k for k in golden if {f: now[k].get(f) for f in golden[k]} != golden[k]]
    assert not changed, (f"{label}: {len(changed)} golden entries changed, e.g. {changed[0]}:\n"
                         f"was {golden[changed[0]]}\nnow {now[changed[0]]}\n{REGENERATE}")


def test_demo_facts_evaluate_to_the_golden_json_report(tmp_path: Path) -> None:
    golden = json.loads((GOLDEN / "demo-report.json").read_text())
    report, _ = evaluate_golden_facts(tmp_path)
    assert sorted(report) == sorted(golden)
    for key in ("schema", "tier", "scopes", "started_at", "finished_at", "requests"):
        assert report[key] == golden[key], key
    assert_golden_entries_kept("results", by_key(golden["results"], "check_id", "fingerprint"),
                               by_key(report["results"], "check_id", "fingerprint"))
    for section in ("checks", "controls"):
        assert_golden_entries_kept(section, without_prose(golden[section]), without_prose(report[section]))
    assert set(golden["coverage"]["fact_types"]) <= set(report["coverage"]["fact_types"])


def test_demo_facts_evaluate_to_the_golden_sarif(tmp_path: Path) -> None:
    golden = json.loads((GOLDEN / "demo-report.sarif").read_text())["runs"][0]
    _, sarif = evaluate_golden_facts(tmp_path)
    run = sarif["runs"][0]
    assert run["automationDetails"] == golden["automationDetails"]
    rules = run["tool"]["driver"]["rules"]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    # ruleIndex moves when a check is added before it; everything else about a golden result stays.
    def results(r: dict[str, Any]) -> dict[Any, Any]:
        return by_key([{k: v for k, v in res.items() if k != "ruleIndex"} for res in r["results"]],
                      "ruleId", "partialFingerprints", "locations")
    assert_golden_entries_kept("sarif results", results(golden), results(run))
    assert_golden_entries_kept("sarif rules", without_prose(by_key(golden["tool"]["driver"]["rules"], "id")),
                               without_prose(by_key(rules, "id")))
