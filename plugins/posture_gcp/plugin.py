"""posture plugin entry point for Google Cloud (entry point ``gcp``); imports no Google SDK."""

from __future__ import annotations

from pathlib import Path

from posture.collecting import CloudPlugin
from posture_gcp.functions import function_checks
from posture_gcp.provider import GcpProvider

plugin = CloudPlugin(GcpProvider, Path(__file__).parent / "checks", function_checks)
register_providers, register_checks = plugin.register_providers, plugin.register_checks
