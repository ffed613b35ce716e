"""Entry point ``azure``: registers the provider and its checks (no SDK import here)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from posture.hookspecs import hookimpl

CHECKS_DIR = Path(__file__).parent / "checks"


@hookimpl
def register_providers(register: Any) -> None:
    from posture_azure.provider import AzureProvider

    register(AzureProvider())


@hookimpl
def register_checks(register: Any) -> None:
    for path in sorted(CHECKS_DIR.glob("*.yaml")):
        register(path=path)
    from posture_azure.functions import function_checks

    for check in function_checks():
        register(check)
