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
    """Reload plugins from scratch for this test (and again afterwards).

    The scanning commands take their provider options from the plugins loaded when their module is
    first imported, so that module is forgotten too: a test with a restricted plugin set must not
    leave `scan` without --project / --subscription for the tests after it in the same worker.
    """
    from posture import plugins

    plugins.reset()
    _forget_scan_commands()
    yield plugins
    plugins.reset()
    _forget_scan_commands()


def _forget_scan_commands() -> None:
    import sys

    import posture.cli

    sys.modules.pop("posture.cli.scan_cmd", None)
    vars(posture.cli).pop("scan_cmd", None)  # monkeypatch resolves dotted names through attributes
