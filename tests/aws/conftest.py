"""Shared AWS fixtures: one seeded moto server per test session (per xdist worker)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from posture_aws.testing.mock import mock_account

from posture.facts import FactSet
from tests.aws.helpers import collect_all, scan_options


@pytest.fixture(scope="session")
def aws_mock() -> Iterator[dict[str, Any]]:
    with mock_account(hardened_account=True) as opts:
        yield opts


@pytest.fixture(scope="session")
def mixed_facts(aws_mock: dict[str, Any]) -> FactSet:
    return collect_all(scan_options(aws_mock))


@pytest.fixture(scope="session")
def hardened_facts(aws_mock: dict[str, Any]) -> FactSet:
    return collect_all(scan_options(aws_mock, role_arn=aws_mock["hardened_role_arn"]))
