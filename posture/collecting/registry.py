"""Collectors register themselves where they are written.

A plugin's ``collectors`` package makes one :class:`CollectorRegistry` in its ``__init__``; each
collector module decorates its function::

    from posture_mycloud.collectors import collector

    @collector("buckets", level="project", facts={"mycloud.storage.bucket": "A bucket: public access"})
    def collect(ctx: MyContext) -> None: ...

The registry finds the modules itself (every module of the package, imported on first need), so
adding a collector is adding a file: no table of fact types, no ``"module:function"`` strings, no
import list to keep in step. Collector modules must not import their SDK at module level:
the registry imports them to learn the fact types (``posture plugins`` lists them without any SDK).
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., None])


@dataclass(frozen=True, eq=False)
class CollectorSpec:
    """One collector: what it is called, what it produces, how often it runs, what to call.

    ``level`` says how many work units it gets: the provider's scope level (``account``,
    ``subscription``, ``project``...) means once per scope, the provider's region level
    (``region``) once per region of each scope. ``target`` is the function run with the unit's
    :class:`~posture.collecting.UnitContext`.
    """

    name: str
    fact_types: Mapping[str, str]
    level: str
    target: Callable[[Any], None]


class CollectorRegistry:
    """The collectors of one plugin, found by importing every module of ``package``."""

    def __init__(self, package: str) -> None:
        self.package = package
        self._lock = threading.Lock()  # guards the tables
        self._load_lock = threading.Lock()  # one import pass; separate, so a module imported elsewhere can register
        self._specs: dict[str, CollectorSpec] = {}
        self._owner: dict[str, str] = {}  # fact type -> collector name
        self._loaded = False

    def collector(self, name: str, *, level: str, facts: Mapping[str, str]) -> Callable[[F], F]:
        """Decorator registering the decorated function as collector ``name``.

        ``facts`` maps each fact type it produces to a one-line description (shown by
        ``posture plugins`` and in coverage reports). A fact type has exactly one collector and a
        name is used once, so a clash is an error naming both places, not a silent override.
        """
        if not facts:
            raise ValueError(f"collector {name!r} declares no fact types")

        def register(fn: F) -> F:
            where = f"{fn.__module__}.{fn.__qualname__}"
            with self._lock:
                old = self._specs.get(name)
                if old is not None and old.target is not fn:
                    raise ValueError(f"collector {name!r} is registered twice: "
                                     f"{old.target.__module__}.{old.target.__qualname__} and {where}")
                for ft in facts:
                    if self._owner.get(ft, name) != name:
                        raise ValueError(f"fact type {ft!r} has two collectors: {self._owner[ft]!r} and "
                                         f"{name!r} ({where})")
                self._specs[name] = CollectorSpec(name, MappingProxyType(dict(facts)), level, fn)
                self._owner.update(dict.fromkeys(facts, name))
            return fn

        return register

    def specs(self) -> dict[str, CollectorSpec]:
        """Collector name -> spec, sorted by name (so plans are deterministic)."""
        self._load()
        with self._lock:
            return {n: self._specs[n] for n in sorted(self._specs)}

    def spec(self, name: str) -> CollectorSpec:
        """The spec of collector ``name`` (``KeyError`` naming the known ones)."""
        specs = self.specs()
        if name not in specs:
            raise KeyError(f"{self.package}: no collector {name!r} (known: {', '.join(specs)})")
        return specs[name]

    def fact_types(self) -> dict[str, str]:
        """Fact type -> description, for ``Provider.fact_types``."""
        return {ft: desc for spec in self.specs().values() for ft, desc in spec.fact_types.items()}

    def _load(self) -> None:
        """Import every module of the package once; their decorators fill the registry."""
        with self._load_lock:
            if self._loaded:
                return
            package = importlib.import_module(self.package)
            for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
                importlib.import_module(f"{self.package}.{info.name}")
            self._loaded = True
