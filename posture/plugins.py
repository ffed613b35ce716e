"""The plugin manager: loads the ``posture`` entry-point group once, lazily.

``POSTURE_PLUGINS`` pins which plugins load (comma-separated entry-point
names, e.g. ``POSTURE_PLUGINS=aws,json,sarif``), for reproducible CI and
isolated tests; unset means every installed plugin. A plugin that fails to
import or whose hook raises is reported by name and skipped; the others carry
on.
"""

from __future__ import annotations

import importlib.metadata
import os
import threading
from dataclasses import dataclass, field
from typing import Any

import pluggy

from posture import hookspecs

ENTRY_POINT_GROUP = "posture"
PLUGINS_ENV = "POSTURE_PLUGINS"


@dataclass
class PluginProblem:
    """A plugin that could not be loaded or whose hook failed."""

    plugin: str
    stage: str
    error: str


@dataclass
class PluginRegistry:
    """Everything the loaded plugins registered."""

    providers: dict[str, Any] = field(default_factory=dict)
    checks: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    problems: list[PluginProblem] = field(default_factory=list)
    loaded: list[str] = field(default_factory=list)
    origins: dict[str, str] = field(default_factory=dict)


_lock = threading.Lock()
_pm: pluggy.PluginManager | None = None
_problems: list[PluginProblem] = []
_registry: dict[str, Any] = {}


def _allowed_names() -> set[str] | None:
    raw = os.environ.get(PLUGINS_ENV)
    if raw is None:
        return None
    return {name.strip() for name in raw.split(",") if name.strip()}


def get_plugin_manager() -> pluggy.PluginManager:
    """Load the entry points of group ``posture`` once and return the manager."""
    global _pm
    with _lock:
        if _pm is not None:
            return _pm
        pm = pluggy.PluginManager("posture")
        pm.add_hookspecs(hookspecs)
        allowed = _allowed_names()
        for ep in sorted(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            if allowed is not None and ep.name not in allowed:
                continue
            if pm.has_plugin(ep.name):
                continue
            try:
                module = ep.load()
                pm.register(module, name=ep.name)
            except Exception as exc:  # a broken plugin must never stop the others
                _problems.append(PluginProblem(ep.name, "load", f"{type(exc).__name__}: {exc}"))
        _pm = pm
        return pm


def reset() -> None:
    """Forget loaded plugins (tests use this after changing ``POSTURE_PLUGINS``)."""
    global _pm
    with _lock:
        _pm = None
        _problems.clear()
        _registry.clear()


def register_plugin(module: Any, name: str) -> None:
    """Register an in-process plugin (tests, embedding applications)."""
    get_plugin_manager().register(module, name=name)
    _registry.clear()


def _call_each(hook_name: str, register: Any, stage_arg: str = "register") -> None:
    """Call a hook plugin by plugin so one failing implementation is isolated."""
    pm = get_plugin_manager()
    hook = getattr(pm.hook, hook_name)
    for impl in hook.get_hookimpls():
        plugin_name = pm.get_name(impl.plugin) or repr(impl.plugin)
        try:
            impl.function(**{stage_arg: register(plugin_name)})
        except Exception as exc:
            _problems.append(PluginProblem(plugin_name, hook_name, f"{type(exc).__name__}: {exc}"))


def _collect(hook_name: str, key_attr: str) -> tuple[dict[str, Any], dict[str, str]]:
    items: dict[str, Any] = {}
    origins: dict[str, str] = {}

    def make_register(plugin_name: str):
        def register(*objs: Any) -> None:
            for obj in objs:
                _add(obj, plugin_name)

        return register

    def _add(obj: Any, plugin_name: str) -> None:
        key = getattr(obj, key_attr)
        if key in items and origins[key] != plugin_name:
            _problems.append(
                PluginProblem(plugin_name, hook_name, f"{key_attr} {key!r} already registered by {origins[key]}")
            )
            return
        items[key] = obj
        origins[key] = plugin_name

    _call_each(hook_name, make_register)
    return items, origins


def registry() -> PluginRegistry:
    """Return (and cache) everything the plugins registered."""
    get_plugin_manager()
    with _lock:
        cached = _registry.get("registry")
    if cached is not None:
        return cached
    providers, p_orig = _collect("register_providers", "name")
    checks, c_orig = _collect("register_checks", "id")
    outputs, o_orig = _collect("register_outputs", "name")
    pm = get_plugin_manager()
    reg = PluginRegistry(
        providers=providers,
        checks=checks,
        outputs=outputs,
        problems=list(_problems),
        loaded=sorted(name for name, _ in pm.list_name_plugin()),
        origins={**p_orig, **c_orig, **o_orig},
    )
    with _lock:
        _registry["registry"] = reg
    return reg


def add_commands(cli: Any) -> None:
    """Let plugins add CLI commands (``register_commands``)."""

    def make(plugin_name: str) -> Any:
        return cli

    _call_each("register_commands", make, stage_arg="cli")


def problems() -> list[PluginProblem]:
    return list(_problems)
