"""Identity checks over Defender for Cloud's identity recommendations (one fact per subscription).

Functions, not conditions, because a missing assessment fails closed with its
own message: the requirement was not shown to be met, and the fix is to turn
the recommendations on, not to change an identity.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from posture.checks import Check, Outcome, function_check
from posture.facts import Fact
from posture_azure.assessments import HEALTHY, NOT_APPLICABLE, UNHEALTHY

FACT_TYPE = "azure.security.identity_assessments"
NOT_REPORTED = ("Defender for Cloud does not report the '{what}' recommendation for subscription {scope}; enable "
                "Defender CSPM (or the free foundational CSPM identity recommendations) so it can be assessed")
ENABLE = ("If the recommendation is missing, Defender for Cloud is not assessing it: enable foundational CSPM "
          "(free) or the Defender CSPM plan on the subscription (`az security pricing create -n "
          "CloudPosture --tier Standard`) and allow up to 24 hours for the identity recommendations to appear.")


def verdict(fact: Fact, attrs: tuple[str, ...], what: str, failing: str) -> Outcome:
    """Pass when every attribute is Healthy or NotApplicable; fail on Unhealthy or on a missing assessment."""
    values = {a: fact.attributes.get(a) for a in attrs}
    counts = fact.attributes.get("unhealthy_counts") or {}
    evidence: dict[str, Any] = {**values, "unhealthy_counts": {a: counts.get(a, 0) for a in attrs}}
    missing = [a for a, v in values.items() if v is None]
    unhealthy = [a for a, v in values.items() if v == UNHEALTHY]
    if unhealthy:
        n = sum(int(counts.get(a, 0)) for a in unhealthy)
        detail = f" ({n} unhealthy)" if n else ""
        return Outcome("fail", failing.format(scope=fact.scope) + detail, evidence)
    if missing:
        return Outcome("fail", NOT_REPORTED.format(what=what, scope=fact.scope), evidence)
    if all(v in (HEALTHY, NOT_APPLICABLE) for v in values.values()):
        return Outcome("pass", f"Subscription {fact.scope}: {what} is healthy", evidence)
    return Outcome("fail", f"Subscription {fact.scope}: unknown assessment status for {what}: {values}", evidence)


def assessment_check(attrs: tuple[str, ...], what: str, failing: str) -> Callable[[Fact, Mapping[str, Any]], Outcome]:
    def check(fact: Fact, params: Mapping[str, Any]) -> Outcome:
        return verdict(fact, attrs, what, failing)

    return check


#: check id suffix -> (controls, attributes, recommendation name, fail message, title, remediation)
SPECS: dict[str, tuple[tuple[str, ...], tuple[str, ...], str, str, str, str]] = {
    "owner_mfa": (
        ("IAM-02", "IAM-01"), ("owner_mfa",),
        "Accounts with owner permissions on Azure resources should be MFA enabled",
        "Subscription {scope} has accounts with owner permissions that are not MFA enabled",
        "Accounts with owner permissions are MFA enabled (Defender for Cloud)",
        "Require MFA for every account holding Owner: a Conditional Access policy requiring MFA for Azure "
        "management (or security defaults on Entra ID Free); the recommendation lists the accounts."),
    "write_mfa": (
        ("IAM-01",), ("write_mfa",),
        "Accounts with write permissions on Azure resources should be MFA enabled",
        "Subscription {scope} has accounts with write permissions that are not MFA enabled",
        "Accounts with write permissions are MFA enabled (Defender for Cloud)",
        "Require MFA (Conditional Access for Azure management, or security defaults) for every account "
        "with write permissions; the recommendation lists the accounts."),
    "read_mfa": (
        ("IAM-01",), ("read_mfa",),
        "Accounts with read permissions on Azure resources should be MFA enabled",
        "Subscription {scope} has accounts with read permissions that are not MFA enabled",
        "Accounts with read permissions are MFA enabled (Defender for Cloud)",
        "Require MFA (Conditional Access for Azure management, or security defaults) for every account "
        "with read permissions; the recommendation lists the accounts."),
    "no_guest_owners": (
        ("PRIV-03",), ("guest_owner",),
        "Guest accounts with owner permissions on Azure resources should be removed",
        "Subscription {scope} grants owner permissions to guest accounts",
        "No guest account holds owner permissions (Defender for Cloud)",
        "Remove the Owner role assignments of the guest (userType Guest) accounts the recommendation lists: "
        "`az role assignment delete --assignee OBJECT_ID --role Owner --scope /subscriptions/SUB`."),
    "no_blocked_accounts": (
        ("INV-02",), ("blocked_owner", "blocked_readwrite"),
        "Blocked accounts with owner / read and write permissions on Azure resources should be removed",
        "Subscription {scope} still grants permissions to accounts blocked from signing in",
        "Accounts blocked from signing in hold no permissions (Defender for Cloud)",
        "Remove the role assignments of the blocked (sign-in disabled) accounts the recommendations list, "
        "then delete the accounts if they are no longer needed: `az role assignment delete --assignee "
        "OBJECT_ID --scope /subscriptions/SUB`."),
}


def identity_checks() -> list[Check]:
    return [
        function_check(
            f"{FACT_TYPE}.{suffix}", assessment_check(attrs, what, failing), fact_type=FACT_TYPE, title=title,
            controls=controls, remediation=f"{fix}\n\n{ENABLE}", source=__file__,
            description=f"Reads the Defender for Cloud recommendation '{what}'; a missing assessment fails.",
            references=("https://learn.microsoft.com/azure/defender-for-cloud/recommendations-reference-identity-access",))
        for suffix, (controls, attrs, what, failing, title, fix) in SPECS.items()
    ]
