"""Defender for Cloud identity recommendations: one paged list per subscription, rolled up into one fact."""

from __future__ import annotations

from typing import Any

import pytest
from posture_azure.assessments import identity_attributes
from posture_azure.identity_checks import identity_checks
from posture_azure.provider import AzureProvider

from posture.facts import Fact
from tests.azure.fake_arm import SUB_MAIN, SUB_PARTIAL

IDENTITY = "azure.security.identity_assessments"
OWNER_V2, OWNER_V1 = "6240402e-f77c-46fa-9060-a7ce53997754", "94290b00-4d0c-d7b4-7cea-064a9554e681"
CHECKS = {c.id.rsplit(".", 1)[1]: c for c in identity_checks()}


def collect(options: dict[str, Any], subs: list[str]) -> tuple[dict[str, Fact], int, list[Any]]:
    provider = AzureProvider()
    opts = {**options, "subscription": subs}
    units = provider.plan({IDENTITY}, opts).units
    outcomes = [provider.collect(u) for u in units]
    facts = {f.scope: f for o in outcomes for f in o.facts}
    return facts, sum(o.requests for o in outcomes), [e for o in outcomes for e in o.errors]


def fact(**attributes: Any) -> Fact:
    return Fact("azure", SUB_MAIN, "global", IDENTITY, f"/subscriptions/{SUB_MAIN}", SUB_MAIN, attributes)


def test_one_paged_list_per_subscription_gives_one_fact_each(azure_options: dict[str, Any], arm: Any) -> None:
    facts, requests, errors = collect(azure_options, [SUB_MAIN, SUB_PARTIAL])
    assert errors == []
    assert sorted(facts) == [SUB_MAIN, SUB_PARTIAL]
    calls = arm.requests_to("/providers/Microsoft.Security/assessments")
    assert sorted((r.path.split("/")[2], r.param("$skiptoken") or "") for r in calls) == [
        (SUB_MAIN, ""), (SUB_MAIN, "page2"), (SUB_PARTIAL, "")]
    assert requests == 3


def test_v2_assessments_win_over_deprecated_v1_and_unrelated_assessments_are_ignored(
        azure_options: dict[str, Any], arm: Any) -> None:
    main = collect(azure_options, [SUB_MAIN])[0][SUB_MAIN].attributes
    # page 2 also holds the deprecated V1 owner-MFA assessment, Unhealthy: V2 (Healthy) is authoritative
    assert main["owner_mfa"] == "Healthy" and main["assessment_versions"]["owner_mfa"] == "v2"
    assert main["read_mfa"] == "NotApplicable"
    assert main["unhealthy_counts"] == dict.fromkeys(
        ("owner_mfa", "write_mfa", "read_mfa", "guest_owner", "blocked_owner", "blocked_readwrite"), 0)


def test_partial_subscription_rolls_up_unhealthy_v1_fallback_and_missing(azure_options: dict[str, Any],
                                                                         arm: Any) -> None:
    attrs = collect(azure_options, [SUB_PARTIAL])[0][SUB_PARTIAL].attributes
    assert {k: attrs[k] for k in ("owner_mfa", "write_mfa", "read_mfa", "guest_owner", "blocked_owner",
                                  "blocked_readwrite")} == {
        "owner_mfa": "Unhealthy",  # one Unhealthy, one Healthy assessment: Unhealthy wins
        "write_mfa": "Unhealthy",  # only the deprecated V1 key is published
        "read_mfa": None,  # not reported at all
        "guest_owner": "Unhealthy", "blocked_owner": "Healthy", "blocked_readwrite": "Unhealthy"}
    assert attrs["assessment_versions"]["write_mfa"] == "v1"
    assert attrs["unhealthy_counts"]["owner_mfa"] == 1
    assert attrs["reported"] == ["blocked_owner", "blocked_readwrite", "guest_owner", "owner_mfa", "write_mfa"]


def test_denied_assessments_list_is_an_error_for_the_identity_fact_only(azure_options: dict[str, Any],
                                                                        arm: Any) -> None:
    provider = AzureProvider()
    opts = {**azure_options, "subscription": [SUB_MAIN]}
    [unit] = provider.plan({IDENTITY, "azure.security.contacts"}, opts).units
    arm.reset()
    with arm.override(f"/subscriptions/{SUB_MAIN}/providers/Microsoft.Security/assessments",
                      403, "AuthorizationFailed", "no Microsoft.Security/assessments/read"):
        outcome = provider.collect(unit)
    assert [(e.fact_type, e.code) for e in outcome.errors] == [(IDENTITY, "AuthorizationFailed")]
    assert [c.fact_type for c in outcome.coverage] == ["azure.security.contacts"]
    assert [f.type for f in outcome.facts] == ["azure.security.contacts"]


def test_keys_are_matched_case_insensitively_and_v1_is_used_only_without_v2() -> None:
    assert identity_attributes([(OWNER_V1.upper(), "Unhealthy")])["owner_mfa"] == "Unhealthy"
    assert identity_attributes([(OWNER_V1, "Unhealthy"), (OWNER_V2, "Healthy")])["owner_mfa"] == "Healthy"
    assert identity_attributes([])["owner_mfa"] is None


@pytest.mark.parametrize(("value", "status"), [
    ("Healthy", "pass"), ("NotApplicable", "pass"), ("Unhealthy", "fail"), (None, "fail")])
def test_owner_mfa_passes_only_on_healthy_or_not_applicable(value: str | None, status: str) -> None:
    outcome = CHECKS["owner_mfa"].evaluate(fact(owner_mfa=value, unhealthy_counts={"owner_mfa": 2}), {})
    assert outcome.status == status
    assert outcome.evidence["owner_mfa"] == value


def test_missing_assessment_fails_closed_saying_defender_does_not_report_it() -> None:
    outcome = CHECKS["owner_mfa"].evaluate(fact(owner_mfa=None), {})
    assert outcome.status == "fail"
    assert "Defender for Cloud does not report" in outcome.message
    assert "Defender CSPM" in outcome.message
    unhealthy = CHECKS["owner_mfa"].evaluate(fact(owner_mfa="Unhealthy", unhealthy_counts={"owner_mfa": 2}), {})
    assert unhealthy.message.endswith("not MFA enabled (2 unhealthy)")


def test_blocked_accounts_check_needs_both_blocked_recommendations_healthy() -> None:
    check = CHECKS["no_blocked_accounts"]
    assert check.evaluate(fact(blocked_owner="Healthy", blocked_readwrite="NotApplicable"), {}).status == "pass"
    assert check.evaluate(fact(blocked_owner="Healthy", blocked_readwrite="Unhealthy"), {}).status == "fail"
    assert check.evaluate(fact(blocked_owner="Healthy", blocked_readwrite=None), {}).status == "fail"


def test_identity_checks_map_to_the_catalogue_controls() -> None:
    controls = {suffix: c.controls for suffix, c in CHECKS.items()}
    assert controls == {"owner_mfa": ("IAM-02", "IAM-01"), "write_mfa": ("IAM-01",), "read_mfa": ("IAM-01",),
                        "no_guest_owners": ("PRIV-03",), "no_blocked_accounts": ("INV-02",)}
