"""A streamed evaluation (posture.streaming) writes what the in-memory one writes, byte for byte: results in
the same order, attainment, summary, JSON and SARIF (its cap included), with waivers, collection errors,
fact types never collected, check selections and fact files in any order."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from posture import engine, result_spool
from posture.facts import FactFileError, read_fact_file
from posture.outputs import csv_output, json_output, sarif
from posture.outputs.streamed import originals_needed, write_streamed
from posture.pipeline import Pipeline
from posture.plugins import registry
from posture.result_spool import ResultSpool
from posture.selection import NO_SELECTION, Selection
from posture.streaming import evaluate_file
from posture.tiers import load_tier
from posture.waivers import apply_waivers, load_waivers

ROOT = Path(__file__).parents[2]
DEMO_FACTS = ROOT / "benchmarks" / "data" / "aws-demo.facts.jsonl"
sys.path.insert(0, str(ROOT / "benchmarks"))
import evaluate_scale  # noqa: E402


def plugin_problems() -> list[dict[str, str]]:
    return Pipeline(registry()).plugin_problems()


def in_memory(path: Path, tier_id: str, selection: Selection = NO_SELECTION, waivers: Path | None = None):
    facts = read_fact_file(path)
    report = engine.evaluate(facts, load_tier(tier_id), registry().checks, providers=facts.metadata["providers"],
                             plugin_problems=plugin_problems(), selection=selection)
    if waivers is not None:
        apply_waivers(report, load_waivers(waivers))
    return report


def streamed(path: Path, tier_id: str, out: Path, formats=("json", "sarif"), selection: Selection = NO_SELECTION,
             waivers: Path | None = None, workers: int = 1):
    out.mkdir(exist_ok=True)
    paths = {"json": out / "report.json", "sarif": out / "report.sarif"}
    with ResultSpool() as spool:
        report = evaluate_file(path, load_tier(tier_id), registry().checks, spool, providers=["aws"],
                               selection=selection, waivers=load_waivers(waivers) if waivers else None,
                               plugin_problems=plugin_problems(), originals=originals_needed(formats),
                               workers=workers)
        everything = write_streamed(report, spool, formats, paths)
    return report, everything, paths


def assert_same(mem, report, paths) -> None:
    assert paths["json"].read_bytes() == json_output.dumps(mem).encode()
    assert paths["sarif"].read_bytes() == sarif.dumps(mem).encode()
    assert report.summary == mem.summary


@pytest.mark.parametrize("tier_id", ["tier-1", "tier-2", "tier-3"])
def test_the_demo_facts_stream_to_the_same_json_and_sarif(tmp_path: Path, tier_id: str) -> None:
    mem = in_memory(DEMO_FACTS, tier_id)
    report, _, paths = streamed(DEMO_FACTS, tier_id, tmp_path)
    assert_same(mem, report, paths)
    assert {a.status for a in report.attainment} >= {"not_attained"}


@pytest.fixture(scope="module")
def org_file(tmp_path_factory) -> Path:
    """Several accounts of demo facts, as the benchmark makes them (scope and coverage records between)."""
    path = tmp_path_factory.mktemp("org") / "facts.jsonl"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(evaluate_scale, "COPIES_PER_ACCOUNT", 2)
        evaluate_scale.make_fact_file(600, path)  # 8 copies of the demo account in 4 accounts
    return path


def test_an_organisation_streams_to_the_same_report_in_one_sequential_pass(tmp_path: Path, org_file: Path,
                                                                           monkeypatch) -> None:
    merged = []
    monkeypatch.setattr(result_spool.heapq, "merge", lambda *a, **k: merged.append(1) or __import__(
        "heapq").merge(*a, **k))
    mem = in_memory(org_file, "tier-3")
    report, _, paths = streamed(org_file, "tier-3", tmp_path)
    assert_same(mem, report, paths)
    assert len(report.scopes) > 1 and not merged  # in scope order: the runs follow one another


def test_facts_in_any_order_and_runs_cut_within_a_scope_are_merged_into_report_order(
        tmp_path: Path, org_file: Path, monkeypatch) -> None:
    lines = org_file.read_text().splitlines()
    body = lines[1:-1]
    random.Random(7).shuffle(body)
    shuffled = tmp_path / "shuffled.jsonl"
    shuffled.write_text("\n".join([lines[0], *body, lines[-1]]) + "\n")
    monkeypatch.setattr(result_spool, "MAX_BUFFERED", 50)
    mem = in_memory(org_file, "tier-3")
    report, _, paths = streamed(shuffled, "tier-3", tmp_path / "out")
    assert_same(mem, report, paths)


def test_the_sarif_cap_keeps_the_same_most_severe_results(tmp_path: Path, org_file: Path, monkeypatch) -> None:
    monkeypatch.setenv("POSTURE_SARIF_MAX_RESULTS", "40")
    mem = in_memory(org_file, "tier-3")
    report, _, paths = streamed(org_file, "tier-3", tmp_path)
    assert_same(mem, report, paths)
    log = json.loads(paths["sarif"].read_text())
    assert len(log["runs"][0]["results"]) == 40
    assert {r["properties"]["severity"] for r in log["runs"][0]["results"]} <= {"critical", "high"}


def test_waivers_are_applied_as_results_are_made(tmp_path: Path) -> None:
    failures = [r for r in in_memory(DEMO_FACTS, "tier-3").results if r.status == "fail"]
    first, second = failures[0], failures[len(failures) // 2]
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(f"""\
waivers:
  - id: EXACT
    check: {first.check_id}
    resource: "{first.resource_id}"
    owner: o
    justification: accepted for the test of streamed waivers
    expires: 2999-01-01
  - id: GLOB
    control: {second.controls[0]}
    resource: "{second.resource_id[:-3]}*"
    owner: o
    justification: accepted for the test of streamed waivers
    expires: 2999-01-01
  - id: OLD
    check: {second.check_id}
    resource: "*"
    owner: o
    justification: was accepted for the test of streamed waivers
    expires: 2001-01-01
  - id: NEVER
    check: {first.check_id}
    resource: nothing-like-it
    owner: o
    justification: never used by the test of streamed waivers
    expires: 2999-01-01
""")
    mem = in_memory(DEMO_FACTS, "tier-3", waivers=waivers)
    report, _, paths = streamed(DEMO_FACTS, "tier-3", tmp_path / "out", waivers=waivers)
    assert_same(mem, report, paths)
    assert report.summary["by_status"]["waived"] >= 2
    assert report.coverage["waivers"]["unused"] == ["NEVER"]


def test_collection_errors_and_fact_types_never_collected_give_the_same_results(tmp_path: Path) -> None:
    lines = DEMO_FACTS.read_text().splitlines()
    records = [json.loads(line) for line in lines]
    kept = [r for r in records if r.get("type") != "aws.sqs.queue" and r.get("fact_type") != "aws.sqs.queue"
            and r.get("fact_type") != "aws.s3.bucket"]  # sqs: never collected; s3: an error instead of facts
    kept.insert(-1, {"kind": "error", "provider": "aws", "scope": "123456789012", "region": "global",
                     "fact_type": "aws.s3.bucket", "code": "AccessDenied", "message": "denied"})
    counts = {k: sum(r["kind"] == k for r in kept) for k in ("scope", "collected", "fact", "error")}
    kept[-1] = {"kind": "footer", "records": counts}
    path = tmp_path / "partial.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in kept))
    mem = in_memory(path, "tier-3")
    report, _, paths = streamed(path, "tier-3", tmp_path / "out")
    assert_same(mem, report, paths)
    codes = {e["code"] for e in report.coverage["errors"]}
    assert codes == {"AccessDenied", engine.NOT_COLLECTED}
    assert not report.summary["complete"]


def test_a_check_selection_streams_to_the_same_partial_report(tmp_path: Path) -> None:
    selection = Selection.from_options(services=["s3", "iam"], severities=["high", "critical"])
    mem = in_memory(DEMO_FACTS, "tier-3", selection=selection)
    report, _, paths = streamed(DEMO_FACTS, "tier-3", tmp_path, selection=selection)
    assert_same(mem, report, paths)
    assert report.selection and all(a.partial for a in report.attainment)


def test_outputs_that_need_every_result_read_them_back_as_made(tmp_path: Path, org_file: Path) -> None:
    mem = in_memory(org_file, "tier-2")
    report, whole, paths = streamed(org_file, "tier-2", tmp_path, formats=("json", "sarif", "csv"))
    assert [json.dumps(r.to_dict()) for r in whole.results] == [json.dumps(r.to_dict()) for r in mem.results]
    assert csv_output.render_string(whole) == csv_output.render_string(mem)


def test_a_damaged_fact_file_is_refused_after_the_stream(tmp_path: Path) -> None:
    cut = tmp_path / "cut.jsonl"
    cut.write_text("".join(DEMO_FACTS.read_text().splitlines(keepends=True)[:-1]))
    with pytest.raises(FactFileError, match="footer"):
        streamed(cut, "tier-3", tmp_path / "out")


def test_posture_evaluate_streams_and_publishes_nothing_from_a_damaged_file(tmp_path: Path) -> None:
    from posture.cli import cli

    out = tmp_path / "out"
    r = CliRunner().invoke(cli, ["evaluate", str(DEMO_FACTS), "--tier", "tier-3", "--format", "json,sarif,csv",
                                 "-o", str(out), "--no-store", "--fail-on", "high"])
    assert r.exit_code == 1, r.output
    mem = in_memory(DEMO_FACTS, "tier-3")
    assert (out / "posture-report.json").read_bytes() == json_output.dumps(mem).encode()
    assert (out / "posture-report.csv").read_text(encoding="utf-8") == csv_output.render_string(mem)

    cut = tmp_path / "cut.jsonl"
    cut.write_text("".join(DEMO_FACTS.read_text().splitlines(keepends=True)[:-1]))
    r = CliRunner().invoke(cli, ["evaluate", str(cut), "--tier", "tier-3", "--format", "json,sarif",
                                 "-o", str(tmp_path / "cut-out"), "--no-store"])
    assert r.exit_code == 2 and "footer" in r.output
    assert not list((tmp_path / "cut-out").glob("posture-report*"))


@pytest.mark.parametrize("workers", [2, 3])
def test_parts_of_the_file_evaluated_by_worker_processes_give_the_same_report(
        tmp_path: Path, org_file: Path, workers: int, monkeypatch) -> None:
    merged = []
    monkeypatch.setattr(result_spool.heapq, "merge", lambda *a, **k: merged.append(1) or __import__(
        "heapq").merge(*a, **k))
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text("""\
waivers:
  - id: ALL-S3
    check: aws.s3.bucket.versioning
    resource: "*"
    owner: o
    justification: accepted for the test of waivers in worker processes
    expires: 2999-01-01
""")
    mem = in_memory(org_file, "tier-3", waivers=waivers)
    report, _, paths = streamed(org_file, "tier-3", tmp_path / "out", waivers=waivers, workers=workers)
    assert_same(mem, report, paths)
    assert report.coverage["waivers"]["applied"] > 4 and not merged  # parts cut where scopes begin


def test_a_file_cut_into_parts_is_split_where_scopes_begin(org_file: Path) -> None:
    from posture.facts import split_file

    parts = split_file(org_file, 3)
    lines = org_file.read_bytes().splitlines(keepends=True)
    assert len(parts) == 3 and parts[0].start == 0 and parts[-1].end == org_file.stat().st_size
    offset = 0
    starts = {}
    for number, line in enumerate(lines, start=1):
        starts[offset] = (number, json.loads(line))
        offset += len(line)
    for before, part in zip(parts, parts[1:], strict=False):
        assert before.end == part.start and part.start in starts
        number, record = starts[part.start]
        assert part.first_line == number and record["kind"] == "fact"
        previous = next(json.loads(x) for x in reversed(lines[:number - 1]) if json.loads(x)["kind"] == "fact")
        assert previous["scope"] != record["scope"]


def test_a_damaged_file_evaluated_in_parts_is_refused_naming_its_line(tmp_path: Path, org_file: Path) -> None:
    lines = org_file.read_text().splitlines(keepends=True)
    bad = len(lines) * 3 // 4
    lines[bad] = lines[bad][:40] + "\n"
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_text("".join(lines))
    with pytest.raises(FactFileError, match=rf":{bad + 1}: not valid JSON"):
        streamed(damaged, "tier-3", tmp_path / "out", workers=3)
    joined = tmp_path / "joined.jsonl"
    joined.write_text(org_file.read_text() * 2)
    with pytest.raises(FactFileError, match=rf":{len(lines) + 1}: a 'header' line after the footer"):
        streamed(joined, "tier-3", tmp_path / "out2", workers=2)


def test_the_console_lists_the_same_first_failures_from_a_heap(tmp_path: Path, org_file: Path) -> None:
    import io

    from rich.console import Console

    from posture.outputs import console

    def shown(report) -> str:
        out = io.StringIO()
        console.write(report, None, Console(file=out, width=250, color_system=None))
        return out.getvalue()

    mem = in_memory(org_file, "tier-3")
    report, rows, _ = streamed(org_file, "tier-3", tmp_path, formats=("json", "sarif", "console"))
    assert len(rows.results) == console.MAX_FAILURE_ROWS < mem.summary["by_status"]["fail"]
    assert shown(rows) == shown(mem)
