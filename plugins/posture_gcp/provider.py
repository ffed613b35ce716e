"""The GCP provider object: options, scopes, plan, collect.

Imports no Google SDK at module import time; ``plan``/``collect`` import
what they use.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from typing import Any

from posture.facts import GLOBAL_REGION, CollectionError
from posture.provider import Option, Plan, ProviderError, Scope, UnitOutcome, WorkUnit
from posture_gcp.facttypes import COLLECTOR_FACT_TYPES, FACT_TYPES
from posture_gcp.settings import ENDPOINT_ENV, UNIVERSE_ENV, GcpSettings

PROVIDER = "gcp"
CACHED_SCANS = 8


class GcpProvider:
    name = PROVIDER
    title = "Google Cloud"
    fact_types = dict(FACT_TYPES)
    options = [
        Option("project", "GCP project id to scan (repeatable)", multiple=True, metavar="PROJECT_ID"),
        Option("folder", "Scan every active project under this folder, recursively (repeatable)", multiple=True,
               metavar="FOLDER_ID"),
        Option("organization", "Scan every active project of this organization (repeatable)", multiple=True,
               metavar="ORG_ID"),
        Option("gcp-api-endpoint", "One base URL for every Google API (proxy, emulator), or a template with "
               "{service}", envvar=ENDPOINT_ENV, metavar="URL"),
        Option("gcp-universe-domain", "Universe domain for sovereign clouds (default googleapis.com)",
               envvar=UNIVERSE_ENV, metavar="DOMAIN"),
        Option("gcp-max-retries", "Retries of a throttled (429) or failed (5xx) Google API call", default=5,
               metavar="N"),
    ]

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._credentials: Any = None
        self._adc_project: str | None = None
        #: HTTP sessions and clients shared by the units of the most recent scans (a cache only)
        self._shared: OrderedDict[str, Any] = OrderedDict()

    # ------------------------------------------------------------ credentials
    def _base_credentials(self) -> Any:
        with self._lock:
            if self._credentials is None:
                import google.auth.exceptions

                from posture_gcp.auth import application_default

                try:
                    self._credentials, self._adc_project = application_default()
                except google.auth.exceptions.DefaultCredentialsError as exc:
                    raise ProviderError(f"gcp: no Application Default Credentials: {exc}") from None
            return self._credentials

    def _clients(self, settings: GcpSettings, scan: str) -> Any:
        """Clients for one scan: each scan shares its own sessions, with a fresh request count per caller."""
        from posture_gcp.auth import CountingCredentials
        from posture_gcp.clients import Clients, Shared

        credentials = self._base_credentials()
        with self._lock:
            shared = self._shared.get(scan)
            if shared is None:
                shared = self._shared[scan] = Shared()
                while len(self._shared) > CACHED_SCANS:
                    self._shared.popitem(last=False)
        return Clients(settings, CountingCredentials(credentials), shared)

    # -------------------------------------------------------------------- plan
    def plan(self, fact_types: set[str], options: dict[str, Any]) -> Plan:
        """Projects to scan (explicit, or discovered under folders/organizations), then one unit per
        (project, collector) producing ``fact_types``."""
        from posture_gcp.scopes import Discovery, as_list, parent_name

        settings = GcpSettings.from_options(options)
        scan = uuid.uuid4().hex
        clients = self._clients(settings, scan)
        errors: list[CollectionError] = []
        found: dict[str, Scope] = {}
        for project in as_list(options.get("project")):
            found.setdefault(project, Scope(PROVIDER, project, project, "project"))
        parents = [parent_name(f, "folders") for f in as_list(options.get("folder"))]
        parents += [parent_name(o, "organizations") for o in as_list(options.get("organization"))]
        if parents:
            discovery = Discovery(clients)
            for parent in parents:
                for scope in discovery.under(parent):
                    found.setdefault(scope.id, scope)
            errors.extend(discovery.errors)
        if not found and not parents and self._adc_project:
            found[self._adc_project] = Scope(PROVIDER, self._adc_project, self._adc_project, "project")
        if not found and not parents:
            raise ProviderError("gcp: no project to scan: give --project, --folder or --organization")
        scopes = sorted(found.values(), key=lambda s: s.id)
        unit_options = (("scan", scan), *settings.as_options())
        units = []
        for scope in scopes:
            for collector, types in COLLECTOR_FACT_TYPES.items():
                wanted = tuple(sorted(ft for ft in types if ft in fact_types))
                if wanted:
                    units.append(WorkUnit(PROVIDER, scope.id, GLOBAL_REGION, collector, wanted, unit_options))
        return Plan(scopes, units, errors, clients.credentials.requests)

    # ----------------------------------------------------------------- collect
    def collect(self, unit: WorkUnit) -> UnitOutcome:
        from posture_gcp.collectors import UnitContext, registry

        spec = registry()[unit.collector]
        options = dict(unit.options)
        ctx = UnitContext(unit, self._clients(GcpSettings.from_options(options), str(options.get("scan", ""))))
        try:
            spec.run(ctx)
        except Exception as exc:  # a collector bug: report it for this unit's fact types, keep the count
            ctx.errors.extend(CollectionError(PROVIDER, unit.scope, unit.region, ft, type(exc).__name__, str(exc))
                              for ft in unit.fact_types)
        return ctx.outcome()
