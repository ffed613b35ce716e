"""Documents people write (tiers, catalogue, checks, waivers) and files posture reads back (fact
files, reports): every problem is one located line, exit 2, never a traceback, and hostile input
(deep nesting, alias bombs, huge values) is refused before it can crash or stall a scan."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from posture.checks import CheckFileError, load_check_file
from posture.cli import cli
from posture.documents import MAX_DEPTH, DocumentError, read_document
from posture.tiers import TierError, load_tier

ROOT = Path(__file__).resolve().parents[2]
REPORT = ROOT / "tests" / "fixtures" / "reports" / "aws-acme.json"
DEEP = 100_000
#: "billion laughs": under 400 bytes that expand to 9**9 strings (today's PyYAML version printed 4.3 MB)
LAUGHS = "id: laughs\ntitle: x\nextends: tier-1\ndescription: [\n  &a [" + ",".join(["lol"] * 9) + "],\n" + "".join(
    f"  &{level} [" + ",".join([f"*{prev}"] * 9) + "],\n" for prev, level in zip("abcdefgh", "bcdefghi", strict=True)
) + "]\n"


def posture(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    assert "Traceback" not in result.output and not isinstance(result.exception, RecursionError), result.output
    return result.exit_code, result.output


def one_located_line(output: str, path: Path) -> str:
    lines = output.strip().splitlines()
    assert len(lines) == 1, output[:2000]
    assert lines[0].startswith(f"posture: error: {path}:"), lines[0][:300]
    assert len(lines[0]) < 600
    return lines[0]


# ------------------------------------------------------------------------------ deep nesting
def test_deeply_nested_json_in_a_fact_file_is_exit_2_with_its_line(tmp_path: Path) -> None:
    facts = tmp_path / "facts.jsonl"
    header = json.dumps({"kind": "header", "schema": "posture.facts/v1"})
    facts.write_text(header + "\n" + '{"kind": "fact", "attributes": ' + "[" * DEEP + "]" * DEEP + "}\n")
    code, output = posture("evaluate", str(facts), "--format", "json", "-o", str(tmp_path / "out"))
    assert code == 2
    assert f"{facts}:2: nested deeper than {MAX_DEPTH} levels" in one_located_line(output, facts)


def test_deeply_nested_json_in_a_report_is_exit_2_with_its_line(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    report.write_text('{"schema": "posture.report/v1",\n "metadata": ' + "[" * DEEP + "]" * DEEP + "}\n")
    code, output = posture("report", str(report), "--json", str(tmp_path / "o.json"))
    assert code == 2
    assert f"{report}:2: nested deeper than {MAX_DEPTH} levels" in one_located_line(output, report)


@pytest.mark.parametrize(("name", "text", "line"), [
    ("flow.yaml", "id: deep\ntitle: x\nextends: tier-1\ndescription: " + "[" * DEEP + "]" * DEEP + "\n", 4),
    ("flow.json", '{"id": "deep",\n"title": "x",\n"controls": ' + "{\"a\": " * DEEP + "1" + "}" * DEEP + "}", 3),
    ("block.yaml", "id: deep\ntitle: x\nextends: tier-1\ndescription:\n" + "- " * DEEP + "x\n", 5),
    ("indented.yaml", "id: deep\ntitle: x\nextends: tier-1\ndescription:\n"
     + "".join(" " * i + "- \n" for i in range(2 * MAX_DEPTH)), 5),
])
def test_deeply_nested_tier_file_is_exit_2_with_its_line(tmp_path: Path, name: str, text: str, line: int) -> None:
    tier = tmp_path / name
    tier.write_text(text)
    code, output = posture("tiers", "validate", str(tier))
    assert code == 2
    error = one_located_line(output, tier)
    assert f"nested deeper than {MAX_DEPTH} levels" in error
    assert error.startswith(f"posture: error: {tier}:{line}: ") or name == "indented.yaml", error


def test_deeply_nested_waiver_file_is_exit_2_with_its_line(tmp_path: Path) -> None:
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text("waivers:\n  - " + "{a: " * DEEP + "1" + "}" * DEEP + "\n")
    code, output = posture("report", str(REPORT), "--waivers", str(waivers), "--json", str(tmp_path / "o.json"))
    assert code == 2
    assert f"{waivers}:2: at $: nested deeper than {MAX_DEPTH} levels" in one_located_line(output, waivers)


# ------------------------------------------------------------------------------ alias bombs
def test_billion_laughs_tier_is_refused_with_a_short_located_error(tmp_path: Path) -> None:
    tier = tmp_path / "laughs.yaml"
    tier.write_text(LAUGHS)
    assert len(LAUGHS.encode()) < 400
    code, output = posture("tiers", "validate", str(tier))
    assert code == 2
    assert "YAML aliases expand to more than" in one_located_line(output, tier)


def test_an_alias_that_contains_itself_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "loop.yaml"
    path.write_text("id: loop\ntitle: &a [x, *a]\n")
    with pytest.raises(DocumentError, match="alias refers to a value that contains it"):
        read_document(path)


def test_anchors_and_merge_keys_of_a_normal_size_still_work(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text("base: &b {x: 1, y: [1, 2]}\nthis: {<<: *b, z: 3}\nthat: *b\n")
    assert read_document(path).data == {"base": {"x": 1, "y": [1, 2]}, "this": {"x": 1, "y": [1, 2], "z": 3},
                                        "that": {"x": 1, "y": [1, 2]}}


# ------------------------------------------------------------------------------- error size
def test_a_huge_wrong_value_gives_an_error_of_a_few_lines(tmp_path: Path) -> None:
    tier = tmp_path / "huge.yaml"
    tier.write_text("id: huge\ntitle: [" + ", ".join(["'" + "x" * 1000 + "'"] * 2000) + "]\nextends: tier-1\n")
    code, output = posture("tiers", "validate", str(tier))
    assert code == 2
    assert "at $.title: wrong type: expected string, got array" in one_located_line(output, tier)


def test_an_oversized_document_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("x: " + "a" * 6_000_000 + "\n")
    with pytest.raises(DocumentError, match=r"big.yaml: at \$: file is \d+ bytes; documents are limited"):
        read_document(path)


# ---------------------------------------------------------------------------- duplicate keys
@pytest.mark.parametrize(("name", "text"), [
    ("dup.yaml", "id: dup\ntitle: x\nextends: tier-1\ntitle: y\n"),
    ("dup.json", '{"id": "dup",\n "title": "x",\n "extends": "tier-1",\n "title": "y"}\n'),
])
def test_a_duplicate_key_is_refused_naming_both_lines(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(TierError) as info:
        load_tier(path)
    assert (info.value.line, info.value.json_path) == (4, "$.title")
    assert "duplicate key 'title' on line 4 (first on line 2)" in str(info.value)


# ------------------------------------------------------------------- located schema errors
def test_json_tier_errors_carry_the_line_of_the_json_path(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text('{\n  "id": "t",\n  "title": "T",\n  "extends": "tier-1",\n  "controls": {\n'
                    '    "IAM-05": {"parameters": {"max_access_key_age_days": "ninety"}}\n  }\n}\n')
    with pytest.raises(TierError) as info:
        load_tier(path)
    assert info.value.line == 6
    assert info.value.json_path == "$.controls['IAM-05'].parameters.max_access_key_age_days"


def check_file(tmp_path: Path, tail: str) -> Path:
    """A one-check file; ``tail`` (from line 8) holds the condition and what else the test needs."""
    path = tmp_path / "checks.yaml"
    path.write_text("provider: demo\nchecks:\n  - id: demo.thing.ok\n    title: Thing is ok\n"
                    "    fact_type: demo.thing\n    controls: [IAM-01]\n    remediation: Make the thing ok.\n" + tail)
    return path


def test_check_file_errors_name_file_line_and_path(tmp_path: Path) -> None:
    path = check_file(tmp_path, "    condition:\n      all:\n        - {key: a, op: nearly, value: 1}\n")
    with pytest.raises(CheckFileError) as info:
        load_check_file(path)
    assert (info.value.line, info.value.json_path) == (10, "$.checks[0].condition.all[0].op")
    assert "unknown operator 'nearly'" in info.value.problem


def test_check_file_schema_errors_are_located(tmp_path: Path) -> None:
    path = check_file(tmp_path, "    condition: {key: a, value: 1}\n    severity: dire\n")
    with pytest.raises(CheckFileError) as info:
        load_check_file(path)
    assert str(info.value) == (f"{path}:9: at $.checks[0].severity: 'dire' is not one of "
                               "'critical', 'high', 'medium', 'low', 'info'")


def test_yaml_reads_as_before(tmp_path: Path) -> None:
    """YAML 1.1 as PyYAML read it: yes/on are booleans, y/n letters; dates stay text for the schema."""
    path = tmp_path / "v.yaml"
    path.write_text("a: yes\nb: on\nc: y\nd: n\ne: 2025-01-31\nf: 0o17\n1: one\n")
    assert read_document(path).data == {"a": True, "b": True, "c": "y", "d": "n", "e": "2025-01-31",
                                        "f": "0o17", 1: "one"}


def test_shipped_tiers_and_checks_parse_with_the_fast_yaml_parser() -> None:
    """libyaml refuses some plain scalars the pure parser takes (``[https://x]`` in a flow list);
    those still load, several times slower, on every scan. Quote such values in shipped files."""
    from ruamel.yaml.error import YAMLError

    from posture.documents import _yaml

    slow = []
    for path in sorted([*ROOT.glob("tiers/**/*.yaml"), *ROOT.glob("plugins/*/checks/*.yaml")]):
        try:
            _yaml(pure=False).compose(path.read_text(encoding="utf-8"))
        except YAMLError as exc:
            slow.append(f"{path.relative_to(ROOT)}: {str(exc).splitlines()[-1].strip()}")
    assert not slow, "quote these values:\n" + "\n".join(slow)


def test_a_large_waiver_file_without_aliases_loads_and_an_alias_bomb_in_it_is_still_refused(tmp_path) -> None:
    """Size is not expansion: 40k waivers (over 5 MB, 280k values) load; aliases that multiply do not."""
    from posture.waivers import WaiverError, load_waivers

    lines = ["waivers:"]
    for i in range(40_000):
        lines += [f"  - id: W-{i}", "    check: aws.s3.bucket.policy_not_public",
                  f'    resource: "arn:aws:s3:::bucket-number-{i}-with-a-long-enough-name-to-be-realistic"',
                  "    owner: platform-team", "    justification: accepted for the quarterly review",
                  "    expires: 2999-01-01"]
    big = tmp_path / "big.yaml"
    big.write_text("\n".join(lines) + "\n")
    assert big.stat().st_size > 5_000_000
    assert len(load_waivers(big)) == 40_000
    bomb = tmp_path / "bomb.yaml"
    levels = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 7)]
    bomb.write_text("\n".join(levels) + "\nwaivers: []\n")
    with pytest.raises(WaiverError, match="billion laughs"):
        load_waivers(bomb)
