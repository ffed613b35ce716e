"""Waivers: schema validation with locations, matching, expiry and attainment."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parents[1] / "fixtures" / "reports"))
from posture_report_factory import aws_org  # noqa: E402

from posture.waivers import WaiverError, apply_waivers, load_waivers  # noqa: E402

GOOD = """\
version: 1
waivers:
  - id: RISK-101
    check: aws.s3.bucket.public_access
    resource: "arn:aws:s3:::acme-payroll-*"
    owner: data-platform@acme.example
    justification: Public export consumed by the payroll provider until migration.
    expires: 2025-06-30
  - id: RISK-102
    control: NET-01
    resource: "*"
    scope: "2222*"
    owner: netops@acme.example
    justification: Dev account bastion, replaced by SSM in Q2.
    expires: 2025-01-31
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "waivers.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def status_of(report, resource_id: str) -> str:
    return next(r.status for r in report.results if r.resource_id == resource_id)


def test_load_waivers_reads_every_field(tmp_path: Path) -> None:
    waivers = load_waivers(write(tmp_path, GOOD))
    assert [w.id for w in waivers] == ["RISK-101", "RISK-102"]
    assert waivers[0].check == "aws.s3.bucket.public_access" and waivers[0].control == ""
    assert waivers[1].control == "NET-01" and waivers[1].scope == "2222*"
    assert waivers[0].expires == date(2025, 6, 30)


def test_unexpired_waiver_turns_matching_failure_into_waived_with_justification(tmp_path: Path) -> None:
    report = aws_org()
    apply_waivers(report, load_waivers(write(tmp_path, GOOD)), today=date(2025, 3, 1))
    bucket = next(r for r in report.results if r.resource_id == "arn:aws:s3:::acme-payroll-exports")
    assert bucket.status == "waived"
    assert bucket.justification.startswith("Public export consumed")
    assert bucket.waiver == {"id": "RISK-101", "owner": "data-platform@acme.example",
                             "justification": bucket.justification, "expires": "2025-06-30"}
    assert bucket.to_dict()["waiver"]["id"] == "RISK-101"
    # The other failures stay failures; passes are never touched.
    assert status_of(report, "arn:aws:iam::111111111111:user/alice") == "pass"
    assert status_of(report, "arn:aws:iam::111111111111:user/alice/key/AKIAACMEOLDKEY") == "fail"


def test_expired_waiver_stops_applying_and_is_listed_in_coverage(tmp_path: Path) -> None:
    report = aws_org()
    sg = "arn:aws:ec2:eu-west-1:222222222222:security-group/sg-0dead"
    apply_waivers(report, load_waivers(write(tmp_path, GOOD)), today=date(2025, 2, 1))
    assert status_of(report, sg) == "fail"
    expired = report.coverage["expired_waivers"]
    assert [w["id"] for w in expired] == ["RISK-102"]
    assert expired[0]["expires"] == "2025-01-31" and expired[0]["matching_failures"] == 1


def test_waiver_applies_on_its_expiry_day_inclusive(tmp_path: Path) -> None:
    report = aws_org()
    apply_waivers(report, load_waivers(write(tmp_path, GOOD)), today=date(2025, 1, 31))
    assert status_of(report, "arn:aws:ec2:eu-west-1:222222222222:security-group/sg-0dead") == "waived"
    assert report.coverage["expired_waivers"] == []


def test_resource_glob_and_scope_glob_must_both_match(tmp_path: Path) -> None:
    report = aws_org()
    text = GOOD.replace('scope: "2222*"', 'scope: "1111*"')
    apply_waivers(report, load_waivers(write(tmp_path, text)), today=date(2025, 1, 1))
    assert status_of(report, "arn:aws:ec2:eu-west-1:222222222222:security-group/sg-0dead") == "fail"
    assert report.coverage["waivers"]["unused"] == ["RISK-102"]


def test_waivers_refresh_tier_attainment(tmp_path: Path) -> None:
    report = aws_org()
    text = GOOD.replace("expires: 2025-01-31", "expires: 2026-01-31")
    before = {(a.tier, a.scope): a.status for a in report.attainment}
    assert before[("tier-1", "222222222222")] == "not_attained"
    apply_waivers(report, load_waivers(write(tmp_path, text)), today=date(2025, 3, 1))
    after = {(a.tier, a.scope): a for a in report.attainment}
    # Dev account: its only failure (NET-01) is waived; the CloudTrail error keeps it incomplete.
    assert after[("tier-1", "222222222222")].status == "incomplete"
    net = next(c for c in after[("tier-1", "222222222222")].controls if c.control == "NET-01")
    assert (net.status, net.passed, net.failed) == ("pass", 1, 0)
    # Prod still fails IAM-01.
    assert after[("tier-1", "111111111111")].status == "not_attained"


def test_applying_twice_is_idempotent(tmp_path: Path) -> None:
    report = aws_org()
    waivers = load_waivers(write(tmp_path, GOOD))
    apply_waivers(report, waivers, today=date(2025, 3, 1))
    first = report.to_dict()
    apply_waivers(report, waivers, today=date(2025, 3, 1))
    assert report.to_dict() == first


@pytest.mark.parametrize(("text", "where", "line"), [
    (GOOD.replace("    owner: netops@acme.example\n", ""), "$.waivers[1]", 9),
    (GOOD.replace("expires: 2025-01-31", "expires: next year"), "$.waivers[1].expires", 15),
    (GOOD.replace("expires: 2025-06-30", "expires: 2025-02-30"), "$.waivers[0].expires", 8),
    (GOOD.replace("    control: NET-01\n", "    control: NET-01\n    check: x\n"), "$.waivers[1]", 9),
    (GOOD.replace("    resource: \"*\"\n", "    resource: \"*\"\n    resources: x\n"), "$.waivers[1].resources", 12),
    (GOOD.replace("id: RISK-102", "id: RISK-101"), "$.waivers[1].id", 9),
])
def test_invalid_waiver_file_error_names_file_json_path_and_line(tmp_path: Path, text: str, where: str,
                                                                 line: int) -> None:
    path = write(tmp_path, text)
    with pytest.raises(WaiverError) as info:
        load_waivers(path)
    message = str(info.value)
    assert message.startswith(f"{path}:{line}: at {where}: ")


def test_broken_yaml_error_names_line(tmp_path: Path) -> None:
    path = write(tmp_path, "waivers:\n  - id: [unclosed\n")
    with pytest.raises(WaiverError, match=r"waivers.yaml:\d+: at \$: invalid YAML at line \d+"):
        load_waivers(path)


def test_missing_waiver_file_is_a_waiver_error(tmp_path: Path) -> None:
    with pytest.raises(WaiverError, match="absent.yaml: at \\$: no such file"):
        load_waivers(tmp_path / "absent.yaml")


def test_report_command_applies_waivers_and_rejects_invalid_file_with_exit_2(tmp_path: Path) -> None:
    from posture.cli import cli

    src = Path(__file__).parents[1] / "fixtures" / "reports" / "aws-acme.json"
    bad = write(tmp_path, GOOD.replace("expires: 2025-01-31", "expires: soon"))
    res = CliRunner().invoke(cli, ["report", str(src), "--waivers", str(bad), "--json", str(tmp_path / "o.json")])
    assert res.exit_code == 2
    assert "waivers.yaml:15: at $.waivers[1].expires: 'soon' is not a date (YYYY-MM-DD)" in res.output
    assert "Traceback" not in res.output


def test_report_command_applies_a_valid_waiver_file(tmp_path: Path) -> None:
    import json

    from posture.cli import cli

    src = Path(__file__).parents[1] / "fixtures" / "reports" / "aws-acme.json"
    good = write(tmp_path, GOOD.replace("2025-06-30", "2999-12-31"))
    out = tmp_path / "waived.json"
    res = CliRunner().invoke(cli, ["report", str(src), "--waivers", str(good), "--json", str(out)])
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text())
    waived = [r for r in data["results"] if r["status"] == "waived"]
    assert [r["waiver"]["id"] for r in waived] == ["RISK-101"]
    assert [w["id"] for w in data["coverage"]["expired_waivers"]] == ["RISK-102"]


def test_documented_waiver_example_is_valid(tmp_path: Path) -> None:
    doc = (Path(__file__).parents[2] / "docs" / "reporting.md").read_text()
    block = doc.split("# waivers.yaml", 1)[1].split("\n", 1)[1].split("```", 1)[0]
    from posture.plugins import registry

    # the documented check exists: an unknown one is refused (see the test below)
    (waiver,) = load_waivers(write(tmp_path, block), known_checks=registry().checks)
    assert (waiver.id, waiver.check, waiver.scope, waiver.expires) == (
        "RISK-101", "aws.s3.bucket.policy_not_public", "111111111111", date(2025, 6, 30))


def _org_excluding_dp01(tmp_path: Path) -> Path:
    path = tmp_path / "org.yaml"
    path.write_text("id: org-x\ntitle: Org\nextends: tier-1\nexclude:\n  - control: DP-01\n"
                    "    justification: the public website bucket\n", encoding="utf-8")
    return path


def _public_bucket_report(tier_path: Path):
    from posture.checks import load_check_file
    from posture.engine import evaluate
    from posture.facts import Fact, FactSet
    from posture.tiers import load_tier

    checks = {c.id: c for c in load_check_file(Path(__file__).parent / "fake_checks.yaml")}
    facts = FactSet(metadata={"started_at": "2026-01-01T00:00:00Z", "finished_at": "2026-01-01T00:00:00Z"})
    facts.scopes = [{"provider": "fake", "id": "111", "name": "111", "kind": "account", "parent": ""}]
    facts.facts.append(Fact("fake", "111", "global", "fake.storage.bucket", "bucket/pub", "pub", {"public": True}))
    return evaluate(facts, load_tier(tier_path), checks, providers=["fake"])


def _dp01(report, tier: str) -> str:
    [att] = [a for a in report.attainment if a.tier == tier]
    return next(c.status for c in att.controls if c.control == "DP-01")


def test_waivers_leave_an_ancestor_tiers_failures_alone_when_the_selected_tier_excludes_the_control(
        tmp_path: Path) -> None:
    report = _public_bucket_report(_org_excluding_dp01(tmp_path))
    assert _dp01(report, "tier-1") == "fail"
    apply_waivers(report, [])
    assert _dp01(report, "tier-1") == "fail"
    assert next(a for a in report.attainment if a.tier == "tier-1").status == "not_attained"


def test_a_waiver_removed_on_re_render_brings_the_failure_back(tmp_path: Path) -> None:
    report = _public_bucket_report(Path(__file__).parents[2] / "tiers" / "tier-1.yaml")
    waiver = write(tmp_path, """
waivers:
  - id: W-1
    check: fake.storage.bucket.not_public
    resource: "bucket/pub"
    owner: web-team
    justification: the public website
    expires: 2099-01-01
""")
    apply_waivers(report, load_waivers(waiver))
    assert status_of(report, "bucket/pub") == "waived" and _dp01(report, "tier-1") == "pass"
    apply_waivers(report, [])
    assert status_of(report, "bucket/pub") == "fail" and _dp01(report, "tier-1") == "fail"
    [result] = [r for r in report.results if r.resource_id == "bucket/pub"]
    assert (result.waiver, result.justification) == (None, "")


UNKNOWN_CHECK = """\
version: 1
waivers:
  - id: RISK-7
    check: aws.s3.bucket.public_acess_block
    resource: "*"
    owner: a@b.example
    justification: typo in the check id
    expires: 2999-01-01
"""


def test_a_waiver_naming_an_unknown_check_is_exit_2_with_a_did_you_mean(tmp_path: Path) -> None:
    from posture.cli import cli

    src = Path(__file__).parents[1] / "fixtures" / "reports" / "aws-acme.json"
    res = CliRunner().invoke(cli, ["report", str(src), "--waivers", str(write(tmp_path, UNKNOWN_CHECK)),
                                   "--json", str(tmp_path / "out.json")])
    assert res.exit_code == 2, res.output
    assert "waivers.yaml:4: at $.waivers[0].check: unknown check 'aws.s3.bucket.public_acess_block'" in res.output
    assert "did you mean aws.s3.bucket.public_access_block" in res.output
    assert not (tmp_path / "out.json").exists()


def test_the_console_lists_expired_and_unused_waivers(tmp_path: Path) -> None:
    from rich.console import Console

    from posture.outputs.console import write as console_write

    report = aws_org()
    apply_waivers(report, load_waivers(write(tmp_path, GOOD)), today=date(2025, 3, 1))
    con = Console(record=True, width=200)
    console_write(report, None, con)
    text = con.export_text()
    assert "Waiver RISK-102 expired on 2025-01-31" in text
    report = aws_org()
    apply_waivers(report, load_waivers(write(tmp_path, GOOD.replace("2025-01-31", "2999-01-01")
                                                   .replace('scope: "2222*"', 'scope: "9999*"'))),
                  today=date(2025, 3, 1))
    con = Console(record=True, width=200)
    console_write(report, None, con)
    assert "Unused waiver(s) (matched no failure): RISK-102" in con.export_text()


@pytest.mark.parametrize(("old", "new", "problem"), [
    ("    control: NET-01\n", "    control: NET-01\n    check: x\n", "give exactly one of 'check' or 'control'"),
    ("    control: NET-01\n", "", "give exactly one of 'check' or 'control'"),
    ('    resource: "*"\n', "", "give 'resource' (a glob on the resource id), 'tags' (tag/label key: value glob), "
                              "or both"),
])
def test_either_or_rules_are_explained(tmp_path: Path, old: str, new: str, problem: str) -> None:
    path = write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(WaiverError) as info:
        load_waivers(path)
    assert str(info.value) == f"{path}:9: at $.waivers[1]: {problem}"


def _many_waivers(n: int) -> list[str]:
    lines = ["waivers:"]
    for i in range(n):
        lines += [f"  - id: W-{i}", "    check: aws.s3.bucket.policy_not_public", f'    resource: "arn:aws:s3:::b-{i}"',
                  "    owner: platform-team", "    justification: accepted for the quarterly review",
                  "    expires: 2999-01-01"]
    return lines


@pytest.mark.parametrize(("tail", "error"), [
    (["    owner: someone-else"], "{path}:6002: at $.waivers[999].owner: duplicate key 'owner' on line 6002 "
                                   "(first on line 5999)"),
    (["    scope: [a]"], "{path}:6002: at $.waivers[999].scope: wrong type: expected string, got array ['a']"),
    (["    extra: 1"], "{path}:6002: at $.waivers[999].extra: unknown field 'extra' (allowed: check, control, "
                        "expires, id, justification, owner, provider, resource, scope, tags)"),
    (["  - &w {id: X, check: c, resource: r, owner: o, justification: long enough, expires: 2999-01-01}",
      "  - *w"], "{path}:6002: at $.waivers[1001].id: duplicate waiver id 'X'"),
])
def test_a_large_waiver_file_with_one_bad_waiver_names_its_line(tmp_path: Path, tail: list[str], error: str) -> None:
    """Large files are read by the fast path; a problem anywhere in them still gets its line."""
    path = write(tmp_path, "\n".join(_many_waivers(1000) + tail) + "\n")
    with pytest.raises(WaiverError) as info:
        load_waivers(path)
    assert str(info.value) == error.format(path=path)


def test_a_glob_matcher_decides_as_fnmatchcase_does() -> None:
    import random
    from fnmatch import fnmatchcase

    from posture.waiver_index import glob_matcher

    rng = random.Random(19)
    alphabet = ["a", "b", ":", "/", ".", "+", "(", "\\", "\n", "é", "*", "?", "[ab]", "[!a]", "]", "[", "^", "$"]
    texts = ["", "a", "ab", "a\nb", "arn:aws:s3:::b", "a.b+(c)", "*", "?", "[ab]", "é/é", "\\", "]", "a]"]
    for _ in range(3000):
        pattern = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 5)))
        text = rng.choice(texts) if rng.random() < 0.3 else "".join(
            rng.choice(["a", "b", ":", "\n", ".", "(", "é", "*", "]", "["]) for _ in range(rng.randint(0, 6)))
        for candidate in (text, pattern, pattern.rstrip("*"), pattern + text):
            assert bool(glob_matcher(pattern)(candidate)) == fnmatchcase(candidate, pattern), (pattern, candidate)


def test_a_json_waiver_file_loads_and_its_errors_are_located(tmp_path: Path) -> None:
    import json

    from posture.plain_yaml import load_plain

    data = load_plain(GOOD, 100)
    path = tmp_path / "waivers.json"
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    assert load_waivers(path) == load_waivers(write(tmp_path, GOOD))
    data["waivers"][1]["expires"] = "soon"
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    with pytest.raises(WaiverError) as info:
        load_waivers(path)
    assert str(info.value) == f"{path}:19: at $.waivers[1].expires: 'soon' is not a date (YYYY-MM-DD)"
