"""MyCloud collectors: each module registers its functions with ``@collector``."""

from posture.collecting import CollectorRegistry

registry = CollectorRegistry(__name__)
collector = registry.collector
