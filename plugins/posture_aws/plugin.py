"""posture plugin entry point for AWS (registered as ``aws`` in the ``posture`` group); imports no SDK."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from posture.collecting import CloudPlugin
from posture.hookspecs import hookimpl
from posture_aws.function_checks import FUNCTION_CHECKS
from posture_aws.provider import AwsProvider

plugin = CloudPlugin(AwsProvider, Path(__file__).parent / "checks", lambda: FUNCTION_CHECKS)
register_providers, register_checks = plugin.register_providers, plugin.register_checks


@hookimpl
def register_commands(cli: Any) -> None:
    """``posture demo``: the command module imports click and the core only; moto loads when it runs."""
    from posture_aws.demo import demo

    cli.add_command(demo)
