"""posture plugin entry point for AWS (registered as ``aws`` in the ``posture`` group)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from posture.hookspecs import hookimpl


@hookimpl
def register_providers(register: Callable[[Any], None]) -> None:
    from posture_aws.provider import AwsProvider

    register(AwsProvider())


@hookimpl
def register_checks(register: Callable[..., None]) -> None:
    for path in sorted((Path(__file__).parent / "checks").glob("*.yaml")):
        register(path=path)
    from posture_aws.function_checks import FUNCTION_CHECKS

    for check in FUNCTION_CHECKS:
        register(check)
