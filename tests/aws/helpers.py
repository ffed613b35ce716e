"""Helpers shared by the AWS tests."""

from __future__ import annotations

from typing import Any

from posture_aws.provider import AwsProvider

from posture.collect import collect
from posture.facts import Fact, FactSet


def scan_options(aws_mock: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"region": aws_mock["region"], "aws_max_attempts": 2, **extra}


def collect_all(options: dict[str, Any], fact_types: set[str] | None = None) -> FactSet:
    provider = AwsProvider()
    return collect([provider], fact_types or set(provider.fact_types), options, concurrency=8)


def find_fact(facts: FactSet, fact_type: str, ident: str) -> Fact:
    """The one fact of ``fact_type`` named ``ident`` or whose ARN ends with ``/ident``."""
    found = [f for f in facts.facts if f.type == fact_type
             and (f.name == ident or f.id.endswith("/" + ident) or f.id.endswith(":" + ident))]
    assert len(found) == 1, f"{fact_type} {ident}: found {[f.name for f in found]}"
    return found[0]
