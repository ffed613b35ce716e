"""Entry point ``mycloud``: the provider and its checks."""

from pathlib import Path

from posture.collecting import CloudPlugin
from tests.plugins.mycloud.provider import MyCloudProvider

plugin = CloudPlugin(MyCloudProvider, Path(__file__).parent / "checks")
register_providers, register_checks = plugin.register_providers, plugin.register_checks
