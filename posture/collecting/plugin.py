"""The entry-point module of a cloud plugin, in three lines.

Every cloud plugin registers one provider, the YAML check files of its ``checks`` folder and its
function checks; writing those hooks out per plugin is the same eighteen lines three times.
``CloudPlugin`` writes them once::

    plugin = CloudPlugin(GcpProvider, Path(__file__).parent / "checks", function_checks)
    register_providers, register_checks = plugin.register_providers, plugin.register_checks

pluggy finds the two module attributes (bound methods keep their ``hookimpl`` mark). A plugin
that contributes more (a command) adds its own ``@hookimpl`` functions beside them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from posture.hookspecs import hookimpl


class CloudPlugin:
    """Hook implementations registering ``provider()``, ``checks_dir/*.yaml`` and ``function_checks()``.

    ``provider`` is the provider class (or any factory), called once per process when the core
    first needs the providers; ``function_checks`` returns Python-evaluated checks (may be
    omitted). Nothing here imports an SDK.
    """

    def __init__(self, provider: Callable[[], Any], checks_dir: Path,
                 function_checks: Callable[[], Iterable[Any]] | None = None) -> None:
        self.provider = provider
        self.checks_dir = checks_dir
        self.function_checks = function_checks

    @hookimpl
    def register_providers(self, register: Callable[[Any], None]) -> None:
        register(self.provider())

    @hookimpl
    def register_checks(self, register: Callable[..., None]) -> None:
        from posture.checks import load_check_file

        for path in sorted(self.checks_dir.glob("*.yaml")):
            register(*load_check_file(path))
        register(*(self.function_checks() if self.function_checks else ()))
