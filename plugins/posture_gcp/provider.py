"""The GCP provider object: options, scopes, plan, collect.

Imports no Google SDK at module import time; ``plan``/``collect`` import
what they use.
"""

from __future__ import annotations

import threading
from typing import Any

from posture.collecting import CloudProvider, Discovery, Failure, Target, UnitContext
from posture.facts import CollectionError
from posture.provider import Option, ProviderError, Scope, WorkUnit
from posture_gcp.collectors import PROVIDER, GcpContext, registry
from posture_gcp.settings import ENDPOINT_ENV, UNIVERSE_ENV, GcpSettings


class GcpProvider(CloudProvider):
    """Google Cloud: projects (explicit, or discovered under folders / organizations) x APIs."""

    name = PROVIDER
    title = "Google Cloud"
    collectors = registry
    scope_level = "project"
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
        Option("gcp-max-retries", "Retries of a throttled (429), failed (5xx) or timed-out Google API call",
               default=5, metavar="N"),
        Option("gcp-read-timeout", "Seconds to wait for a Google API response before the call becomes a Timeout "
               "error for the facts it feeds (retried like a 5xx)", envvar="POSTURE_GCP_READ_TIMEOUT",
               metavar="SECONDS"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._credentials: Any = None
        self._adc_project: str | None = None

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
        """Clients for one unit (or the plan), sharing the answers of their scan."""
        from posture_gcp.auth import CountingCredentials
        from posture_gcp.clients import Clients, Shared

        credentials = self._base_credentials()
        return Clients(settings, CountingCredentials(credentials), self.scan_state(scan, Shared))

    def classify(self, exc: BaseException) -> Failure:
        from posture_gcp.errors import classify

        return classify(exc)

    # -------------------------------------------------------------------- plan
    def discover(self, fact_types: set[str], options: dict[str, Any], scan: str) -> Discovery:
        """Projects to scan: explicit, or discovered under folders/organizations."""
        from posture_gcp import scopes
        from posture_gcp.scopes import as_list, parent_name

        settings = GcpSettings.from_options(options)
        clients = self._clients(settings, scan)
        errors: list[CollectionError] = []
        found: dict[str, Scope] = {}
        for project in as_list(options.get("project")):
            found.setdefault(project, Scope(PROVIDER, project, project, "project"))
        parents = [parent_name(f, "folders") for f in as_list(options.get("folder"))]
        parents += [parent_name(o, "organizations") for o in as_list(options.get("organization"))]
        if parents:
            discovery = scopes.Discovery(clients)
            for parent in parents:
                for scope in discovery.under(parent):
                    found.setdefault(scope.id, scope)
            errors.extend(discovery.errors)
        if not found and not parents and self._adc_project:
            found[self._adc_project] = Scope(PROVIDER, self._adc_project, self._adc_project, "project")
        if not found and not parents:
            raise ProviderError("gcp: no project to scan: give --project, --folder or --organization")
        found_scopes = sorted(found.values(), key=lambda s: s.id)
        unit_options = settings.as_options()
        return Discovery(found_scopes, [Target(scope, (), unit_options) for scope in found_scopes], errors)

    # ----------------------------------------------------------------- collect
    def context(self, unit: WorkUnit) -> UnitContext:
        options = dict(unit.options)
        return GcpContext(unit, self.classify,
                          self._clients(GcpSettings.from_options(options), str(options.get("scan", ""))))
