"""Entry point ``azure``: registers the provider and its checks (no SDK import here)."""

from __future__ import annotations

from pathlib import Path

from posture.collecting import CloudPlugin
from posture_azure.functions import function_checks
from posture_azure.provider import AzureProvider

CHECKS_DIR = Path(__file__).parent / "checks"
plugin = CloudPlugin(AzureProvider, CHECKS_DIR, function_checks)
register_providers, register_checks = plugin.register_providers, plugin.register_checks
