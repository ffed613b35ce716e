"""posture plugin entry point for Google Cloud (entry point ``gcp``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from posture.hookspecs import hookimpl

CHECKS_DIR = Path(__file__).parent / "checks"


@hookimpl
def register_providers(register: Any) -> None:
    from posture_gcp.provider import GcpProvider  # no Google SDK import here

    register(GcpProvider())


@hookimpl
def register_checks(register: Any) -> None:
    from posture_gcp.functions import function_checks

    for path in sorted(CHECKS_DIR.glob("*.yaml")):
        register(path=path)
    for check in function_checks():
        register(check)
