from __future__ import annotations

import pytest

from tests.core import fake_provider

COLLECTED_AT = "2026-01-01T00:00:00Z"


def default_world() -> dict:
    return {
        "111111111111": {
            "fake.iam.user": [
                ("user/alice", "alice", {"console_access": True, "mfa_enabled": True}),
                ("user/bob", "bob", {"console_access": True, "mfa_enabled": False}),
                ("user/robot", "robot", {"console_access": False, "mfa_enabled": False}),
            ],
            "fake.storage.bucket": [
                ("bucket/public-site", "public-site", {"public": True}),
                ("bucket/private", "private", {"public": False}),
            ],
            # 200 days old at collection time: within tier-1's 365 days, beyond tier-2's 90
            "fake.iam.key": [("key/AKIAOLD", "old-key", {"created": "2025-06-15T00:00:00Z"})],
            "fake.logging.group": [("lg/app", "app", {"retention_days": 30})],
        },
        "222222222222": {
            "fake.iam.user": "AccessDenied",
            "fake.storage.bucket": [("bucket/other", "other", {"public": False})],
            "fake.iam.key": [],
            "fake.logging.group": [("lg/audit", "audit", {"retention_days": 0})],
        },
    }


@pytest.fixture
def fake_cloud(fresh_plugins, monkeypatch: pytest.MonkeyPatch):
    """The fake provider registered as an in-process plugin, with a known world."""
    monkeypatch.setenv("POSTURE_PLUGINS", "json,sarif,console")
    fresh_plugins.reset()
    fresh_plugins.register_plugin(fake_provider, "fake")
    monkeypatch.setattr(fake_provider, "WORLD", default_world())
    fake_provider.PROVIDER.collected.clear()
    monkeypatch.setattr("posture.collect._now", lambda: COLLECTED_AT)
    return fake_provider
