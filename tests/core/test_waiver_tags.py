"""Waivers by tag/label (`tags: {env: sandbox}`) beside resource globs, matched on what facts carry."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from posture.cli import cli
from posture.report import Report
from posture.tags import fact_tags
from posture.waivers import Waiver, WaiverError, apply_waivers, load_waivers

sys.path.insert(0, str(Path(__file__).parents[1] / "fixtures" / "reports"))
from posture_report_factory import aws_org  # noqa: E402

FAR = date(2099, 1, 1)


def tag_waiver(**tags: str) -> Waiver:
    return Waiver(id="SANDBOX", resource="*", owner="platform", justification="sandbox accounts are disposable",
                  expires=FAR, control="DP-01", tags=tuple(sorted(tags.items())))


def test_fact_tags_one_shape_for_every_cloud() -> None:
    assert fact_tags({"tag_keys": ["env", "owner"]}) == {"env": None, "owner": None}  # AWS: keys only
    assert fact_tags({"tags": {"env": "sandbox"}}) == {"env": "sandbox"}  # Azure
    assert fact_tags({"labels": {"env": "prod"}, "label_keys": ["env"]}) == {"env": "prod"}  # GCP
    assert fact_tags({"name": "x"}) == {}


def _failing_dp01(report: Report):
    return next(r for r in report.results if r.status == "fail" and "DP-01" in r.controls)


def test_tag_waiver_matches_values_facts_carry_and_not_other_resources() -> None:
    report = aws_org()
    target = _failing_dp01(report)
    report.resource_tags = {(target.provider, target.scope, target.resource_id): {"env": "sandbox-42"}}
    apply_waivers(report, [tag_waiver(env="sandbox*")])
    assert target.status == "waived" and target.waiver["id"] == "SANDBOX"
    others = [r for r in report.results if "DP-01" in r.controls and r is not target]
    assert all(r.status != "waived" for r in others)


def test_a_key_without_a_known_value_matches_only_the_glob_star() -> None:
    report = aws_org()
    target = _failing_dp01(report)
    report.resource_tags = {(target.provider, target.scope, target.resource_id): {"env": None}}  # AWS tag_keys
    apply_waivers(report, [tag_waiver(env="sandbox")])
    assert target.status == "fail"
    apply_waivers(report, [tag_waiver(env="*")])
    assert target.status == "waived"


def test_saved_report_keeps_tag_waiver_decisions_while_the_waiver_stands(tmp_path: Path) -> None:
    report = aws_org()
    target = _failing_dp01(report)
    report.resource_tags = {(target.provider, target.scope, target.resource_id): {"env": "zz-sbx-7"}}
    apply_waivers(report, [tag_waiver(env="zz-sbx-*")])
    data = report.to_dict()
    assert "zz-sbx-7" not in json.dumps(data)  # tag values never written to the report
    saved = Report.from_dict(data)
    assert saved.resource_tags is None
    apply_waivers(saved, [tag_waiver(env="zz-sbx-*")])
    again = next(r for r in saved.results if r.fingerprint == target.fingerprint)
    assert again.status == "waived"
    expired = Waiver(**{**tag_waiver(env="zz-sbx-*").__dict__, "expires": date(2000, 1, 1)})
    apply_waivers(saved, [expired])
    assert next(r for r in saved.results if r.fingerprint == target.fingerprint).status == "fail"


def test_waiver_file_accepts_tags_instead_of_a_resource_glob_and_refuses_neither(tmp_path: Path) -> None:
    good = tmp_path / "w.yaml"
    good.write_text("waivers:\n  - id: SBX-1\n    control: DP-01\n    tags: {env: sandbox}\n    owner: platform\n"
                    "    justification: sandbox accounts are disposable\n    expires: 2099-01-01\n")
    (w,) = load_waivers(good)
    assert w.tags == (("env", "sandbox"),) and w.resource == "*" and w.to_dict()["tags"] == {"env": "sandbox"}
    bad = tmp_path / "bad.yaml"
    bad.write_text("waivers:\n  - id: SBX-2\n    control: DP-01\n    owner: platform\n"
                   "    justification: sandbox accounts are disposable\n    expires: 2099-01-01\n")
    with pytest.raises(WaiverError, match=r"bad.yaml:2: at \$.waivers\[0\]: give 'resource'"):
        load_waivers(bad)


def test_scan_waives_by_the_labels_the_facts_carry(fake_cloud, tmp_path: Path) -> None:
    world = fake_cloud.WORLD["111111111111"]
    world["fake.storage.bucket"] = [("bucket/public-site", "public-site", {"public": True, "labels": {"env": "sandbox"}}),
                                    ("bucket/public-prod", "public-prod", {"public": True, "labels": {"env": "prod"}})]
    waivers = tmp_path / "w.yaml"
    waivers.write_text("waivers:\n  - id: SBX-1\n    control: DP-01\n    tags: {env: sandbox}\n    owner: platform\n"
                       "    justification: sandbox accounts are disposable\n    expires: 2099-01-01\n")
    res = CliRunner().invoke(cli, ["scan", "-p", "fake", "--format", "json", "-o", str(tmp_path), "--no-store",
                                   "--waivers", str(waivers)])
    assert res.exit_code == 0, res.output
    results = {r["resource_name"]: r for r in json.loads((tmp_path / "posture-report.json").read_text())["results"]
               if r["resource_type"] == "fake.storage.bucket" and r["scope"] == "111111111111"}
    assert results["public-site"]["status"] == "waived" and results["public-prod"]["status"] == "fail"
