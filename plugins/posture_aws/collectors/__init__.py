"""AWS collectors: one module per service, each function registering itself with ``@collector``.

``level="account"`` runs once per account (clients in its home region, facts in ``global``);
``level="region"`` once per enabled region (see :mod:`posture.collecting`).
"""

from __future__ import annotations

from posture.collecting import CollectorRegistry

registry = CollectorRegistry(__name__)
collector = registry.collector
