"""The GCP provider object: options, scopes, plan, collect.

Imports no Google SDK at module import time; ``scopes``/``plan``/``collect``
import what they use.
"""

from __future__ import annotations

import threading
from typing import Any

from posture.facts import GLOBAL_REGION, CollectionError
from posture.provider import Option, ProviderError, Scope, UnitOutcome, WorkUnit
from posture_gcp.facttypes import COLLECTOR_FACT_TYPES, FACT_TYPES
from posture_gcp.settings import ENDPOINT_ENV, UNIVERSE_ENV, GcpSettings

PROVIDER = "gcp"


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
        self._planning: Any = None
        self._plan_errors: list[CollectionError] = []
        self._shared: Any = None

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

    def _clients(self, settings: GcpSettings) -> Any:
        from posture_gcp.auth import CountingCredentials
        from posture_gcp.clients import Clients, Shared

        with self._lock:
            if self._shared is None:
                self._shared = Shared()
            shared = self._shared
        return Clients(settings, CountingCredentials(self._base_credentials()), shared)

    # ------------------------------------------------------------------ scopes
    def scopes(self, options: dict[str, Any]) -> list[Scope]:
        from posture_gcp.scopes import Discovery, as_list, parent_name

        settings = GcpSettings.from_options(options)
        with self._lock:
            self._shared = None  # a new scan: nothing shared from the previous one
        clients = self._clients(settings)
        self._planning = clients.credentials
        self._plan_errors = []
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
            self._plan_errors.extend(discovery.errors)
        if not found and not parents and self._adc_project:
            found[self._adc_project] = Scope(PROVIDER, self._adc_project, self._adc_project, "project")
        if not found and not parents:
            raise ProviderError("gcp: no project to scan: give --project, --folder or --organization")
        return sorted(found.values(), key=lambda s: s.id)

    def planning_requests(self) -> int:
        return self._planning.requests if self._planning is not None else 0

    def plan_errors(self) -> list[CollectionError]:
        return list(self._plan_errors)

    # -------------------------------------------------------------------- plan
    def plan(self, scopes: list[Scope], fact_types: set[str], options: dict[str, Any]) -> list[WorkUnit]:
        settings = GcpSettings.from_options(options)
        units = []
        for scope in scopes:
            for collector, types in COLLECTOR_FACT_TYPES.items():
                wanted = tuple(sorted(ft for ft in types if ft in fact_types))
                if wanted:
                    units.append(WorkUnit(PROVIDER, scope.id, GLOBAL_REGION, collector, wanted,
                                          settings.as_options()))
        return units

    # ----------------------------------------------------------------- collect
    def collect(self, unit: WorkUnit) -> UnitOutcome:
        from posture_gcp.collectors import UnitContext, registry

        spec = registry()[unit.collector]
        ctx = UnitContext(unit, self._clients(GcpSettings.from_options(dict(unit.options))))
        try:
            spec.run(ctx)
        except Exception as exc:  # a collector bug: report it for this unit's fact types, keep the count
            ctx.errors.extend(CollectionError(PROVIDER, unit.scope, unit.region, ft, type(exc).__name__, str(exc))
                              for ft in unit.fact_types)
        return ctx.outcome()
