"""Azure collectors: one module per resource provider, each registering itself with ``@collector``.

A unit is one subscription x one collector (see :mod:`posture.collecting`).
"""

from __future__ import annotations

from posture.collecting import CollectorRegistry

registry = CollectorRegistry(__name__)
collector = registry.collector
