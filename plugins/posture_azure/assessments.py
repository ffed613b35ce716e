"""Defender for Cloud identity recommendations: assessment keys and their roll-up into one fact.

Entra ID users, their MFA registration and sign-in state live in Microsoft
Graph, not ARM; Defender for Cloud evaluates them and publishes the verdict as
ARM assessments (``Microsoft.Security/assessments``), which one paged list per
subscription returns. Keys are from the Defender for Cloud release notes
("identity recommendations V2"); the deprecated V1 keys are read only when no
V2 assessment of the same recommendation is present.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

HEALTHY, UNHEALTHY, NOT_APPLICABLE = "Healthy", "Unhealthy", "NotApplicable"

#: fact attribute -> (V2 keys, deprecated V1 keys)
IDENTITY_ASSESSMENTS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    # Accounts with owner permissions on Azure resources should be MFA enabled
    "owner_mfa": (frozenset({"6240402e-f77c-46fa-9060-a7ce53997754"}),
                  frozenset({"94290b00-4d0c-d7b4-7cea-064a9554e681"})),
    # Accounts with write permissions on Azure resources should be MFA enabled
    "write_mfa": (frozenset({"c0cb17b2-0607-48a7-b0e0-903ed22de39b"}),
                  frozenset({"57e98606-6b1e-6193-0e3d-fe621387c16b"})),
    # Accounts with read permissions on Azure resources should be MFA enabled
    "read_mfa": (frozenset({"dabc9bc4-b8a8-45bd-9a5a-43000df8aa1c"}),
                 frozenset({"151e82c5-5341-a74b-1eb0-bc38d2c84bb5"})),
    # Guest accounts with owner permissions on Azure resources should be removed (V1: external owner)
    "guest_owner": (frozenset({"20606e75-05c4-48c0-9d97-add6daa2109a"}),
                    frozenset({"c3b6ae71-f1f0-31b4-e6c1-d5951285d03d"})),
    # Blocked accounts with owner permissions on Azure resources should be removed (V1: deprecated owner)
    "blocked_owner": (frozenset({"050ac097-3dda-4d24-ab6d-82568e7a50cf"}),
                      frozenset({"e52064aa-6853-e252-a11e-dffc675689c2"})),
    # Blocked accounts with read and write permissions ... should be removed (V1: deprecated accounts)
    "blocked_readwrite": (frozenset({"1ff0b4c9-ed56-4de6-be9c-d7ab39645926"}),
                          frozenset({"00c6d40b-e990-6acf-d4f3-471e747a27c4"})),
}
ALL_KEYS = frozenset(k for v2, v1 in IDENTITY_ASSESSMENTS.values() for k in v2 | v1)


def roll_up(codes: list[str]) -> str | None:
    """Several assessed resources (per account in V2) -> one verdict: any Unhealthy wins."""
    for verdict in (UNHEALTHY, HEALTHY, NOT_APPLICABLE):
        if verdict in codes:
            return verdict
    return None


def identity_attributes(assessments: Iterable[tuple[str, str | None]]) -> dict[str, Any]:
    """``(assessment key, status code)`` pairs -> the attributes of ``azure.security.identity_assessments``.

    An attribute is ``None`` when Defender for Cloud publishes no assessment
    for it (identity recommendations not enabled or not yet evaluated).
    """
    by_key: dict[str, list[str]] = {}
    for key, code in assessments:
        if key.lower() in ALL_KEYS:
            by_key.setdefault(key.lower(), []).append(str(code or ""))
    attrs: dict[str, Any] = {}
    counts: dict[str, int] = {}
    versions: dict[str, str | None] = {}
    for attr, (v2, v1) in IDENTITY_ASSESSMENTS.items():
        v2_codes = [c for k in sorted(v2) for c in by_key.get(k, [])]
        v1_codes = [c for k in sorted(v1) for c in by_key.get(k, [])]
        codes, version = (v2_codes, "v2") if v2_codes else (v1_codes, "v1") if v1_codes else ([], None)
        attrs[attr] = roll_up(codes)
        counts[attr] = codes.count(UNHEALTHY)
        versions[attr] = version
    attrs["unhealthy_counts"] = counts
    attrs["assessment_versions"] = versions
    attrs["reported"] = sorted(a for a, v in versions.items() if v)
    return attrs
