"""Collector registry: collector name -> (fact types it produces, module with ``collect(ctx)``)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from posture_azure.facttypes import COLLECTOR_FACT_TYPES


def fact_type_collectors() -> dict[str, str]:
    """fact type -> collector name."""
    return {ft: name for name, fts in COLLECTOR_FACT_TYPES.items() for ft in fts}


def collector(name: str) -> Callable[[Any], None]:
    return importlib.import_module(f"posture_azure.collectors.{name}").collect
