"""An SDK's model classes are readied before its client is shared by fan-out threads (see sdk_models)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: in a fresh process (the lazy field set-up happens once per process): build the storage client the way a
#: collector does, then report which of the blob service's model classes are still unprepared
PROBE = """
from azure.mgmt.storage import StorageManagementClient, models
from azure.mgmt.storage._utils.model_base import Model
from posture.collecting import BoundedCache
from posture_azure import session
from posture_azure.settings import AzureSettings

settings = AzureSettings("public", "https://127.0.0.1:9", "login.microsoftonline.com", "https://127.0.0.1:9", False,
                         None, "tests.azure.fake_arm:StaticCredential", 0, 0.01)
session.client(settings, StorageManagementClient, "sub", BoundedCache(4))
wanted = [models.BlobServiceProperties, models.BlobServicePropertiesProperties, models.DeleteRetentionPolicy]
print(sorted(c.__qualname__ for c in wanted if f"{c.__module__}.{c.__qualname__}" not in Model._calculated))
"""


def test_a_storage_client_comes_with_its_blob_service_models_ready_for_concurrent_deserialization() -> None:
    """Unprepared, two threads deserializing BlobServiceProperties at once can leave one with its
    properties as a plain dict: a compliant account's soft delete and versioning read as off."""
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stderr


def test_an_sdk_package_is_readied_once_per_process() -> None:
    from azure.mgmt.storage import StorageManagementClient
    from posture_azure import sdk_models

    assert sdk_models.sdk_package(StorageManagementClient) == "azure.mgmt.storage"
    sdk_models.prime(StorageManagementClient)
    assert "azure.mgmt.storage" in sdk_models._primed
