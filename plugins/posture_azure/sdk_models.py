"""Ready an SDK's model classes before its client is shared by threads.

The TypeSpec-generated Azure SDKs (``azure.mgmt.<x>._utils.model_base``) work out each model class's
fields lazily, the first time the class is instantiated, and that first time is not thread-safe:
two threads deserializing the same class for the first time (a fan-out over storage accounts) can
leave one of them with a nested model as a plain dict, whose attributes then read as unset (a
compliant account's blob soft delete and versioning seen as off). Doing that first instantiation
once per process and SDK package, under a lock, before any client of the package is used, closes
the window.
"""

from __future__ import annotations

import importlib
import inspect
import threading
from typing import Any

_lock = threading.Lock()
_primed: set[str] = set()


def sdk_package(factory: Any) -> str:
    """``azure.mgmt.storage`` for ``azure.mgmt.storage._client.StorageManagementClient``."""
    return str(factory.__module__).split("._", 1)[0]


def prime(factory: Any) -> None:
    """Work out the fields of every model class of ``factory``'s SDK package (once per process)."""
    package = sdk_package(factory)
    with _lock:
        if package in _primed:
            return
        _primed.add(package)
        try:
            base = importlib.import_module(f"{package}._utils.model_base").Model
            models = importlib.import_module(f"{package}.models")
        except ImportError:  # an SDK of the older (msrest) generation: nothing lazy to ready
            return
        for _, cls in inspect.getmembers(models, inspect.isclass):
            if issubclass(cls, base) and cls is not base:
                cls.__new__(cls)
