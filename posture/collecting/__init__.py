"""The collector toolkit: the machinery every cloud plugin shares, so a plugin keeps only its own cloud.

A cloud plugin is four things, and only these:

1. **scope discovery** -- which accounts / subscriptions / projects (and regions) a scan covers:
   :meth:`CloudProvider.discover` returns a :class:`Discovery`;
2. **clients** -- how its SDK is reached, cached per scan with :meth:`CloudProvider.scan_state`
   and :class:`BoundedCache`, each HTTP attempt reported with :func:`count_request`;
3. **an error classifier** -- ``classify(exc) -> Failure``: the cloud's own error code, a short
   message without secrets, and whether the error means "the feature is not there";
4. **collectors** -- one function per API, registered where it is written with
   ``@collector(name, level=..., facts={...})`` (:class:`CollectorRegistry`), filling a
   :class:`UnitContext` with ``ctx.add`` inside ``with ctx.feeding(fact_type):`` blocks.

The plugin's entry-point module is a :class:`CloudPlugin` (provider, checks folder, function checks).

Everything else -- building scope x collector work units for the requested fact types, counting
requests per unit, turning failures into ``error`` records for exactly the fact types a call
feeds, coverage, bounded fan-out, keeping a collector bug from crashing the scan -- lives here,
once. Adding a fact type therefore touches the collector module, a check YAML file and a test;
no table elsewhere names it.

docs/plugins.md walks through writing a new cloud with this toolkit.
"""

from posture.collecting.caches import BoundedCache
from posture.collecting.context import Failed, Failure, UnitContext
from posture.collecting.counting import RequestCounter, count_request, counting
from posture.collecting.options import positive_seconds
from posture.collecting.plugin import CloudPlugin
from posture.collecting.provider import CloudProvider, Discovery, Target, scope_errors
from posture.collecting.registry import CollectorRegistry, CollectorSpec
from posture.collecting.throttling import acquire_slot, release_slot

__all__ = [
    "BoundedCache",
    "CloudPlugin",
    "CloudProvider",
    "CollectorRegistry",
    "CollectorSpec",
    "Discovery",
    "Failed",
    "Failure",
    "RequestCounter",
    "Target",
    "UnitContext",
    "acquire_slot",
    "count_request",
    "counting",
    "positive_seconds",
    "release_slot",
    "scope_errors",
]
