"""Suite-wide safety: nothing leaves 127.0.0.1.

pytest-socket (``--allow-hosts`` in pyproject's addopts) refuses connections to
any other host; the environment below makes sure no credential chain even
tries a cloud metadata service or a real account.
"""

from __future__ import annotations

import os
import tempfile

import pytest

_SAFE_ENV = {
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "NO_GCE_CHECK": "true",
    "GCE_METADATA_HOST": "127.0.0.1:9",
    "GCE_METADATA_IP": "127.0.0.1:9",
}
_UNSET = ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID",
          "GOOGLE_APPLICATION_CREDENTIALS", "POSTURE_PLUGINS", "POSTURE_TIER")
os.environ.update(_SAFE_ENV)
# `posture scan` records history by default: keep the suite's scans out of the user's home.
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="posture-tests-")
os.environ.pop("POSTURE_STORE", None)
for _name in _UNSET:
    os.environ.pop(_name, None)


@pytest.fixture
def fresh_plugins(monkeypatch: pytest.MonkeyPatch):
    """Reload plugins from scratch for this test (and again afterwards)."""
    from posture import plugins

    plugins.reset()
    yield plugins
    plugins.reset()
