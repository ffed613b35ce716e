"""Client construction for one work unit: every client shares the unit's counting credentials.

google-cloud-* clients use ``transport="rest"`` (plain HTTP/JSON, so one
endpoint override reaches them all); the APIs whose google-cloud clients are
gRPC-only (IAM admin, Logging config, Cloud SQL Admin, Essential Contacts) use
google-api-python-client discovery clients built from the static discovery
documents shipped with it. httplib2 is not thread-safe, so discovery clients
are built once per thread.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from posture.collecting import acquire_slot, release_slot
from posture_gcp.errors import is_retryable
from posture_gcp.settings import CONNECT_TIMEOUT, GcpSettings

if TYPE_CHECKING:
    from posture_gcp.auth import CountingCredentials

def bound_timeout(session: Any, connect: float, read: float, service: str) -> Any:
    """Make every request of a requests session wait at most ``read`` seconds for an answer, in a
    slot of the shared (project, service) limit.

    The google-cloud clients pass their own per-call timeouts (storage: 60 s on every call); one
    place overrides them all, so ``--gcp-read-timeout`` means the same for every API. api-core's
    retries call it once per attempt, so each attempt takes its own slot (:func:`gated_request`).
    """
    original = session.request

    def request(*args: Any, **kwargs: Any) -> Any:
        kwargs["timeout"] = (connect, read)
        return original(*args, **kwargs)

    session.request = gated_request(request, service)
    return session


#: whether this thread's request already holds a slot (google-auth resends a request after a 401
#: refresh through the same ``request``; a second slot of the same key could wait on itself)
_in_slot = threading.local()


def gated_request(send: Any, service: str) -> Any:
    """``send`` (one HTTP attempt) holding a slot of the (project, ``service``) limit shared by workers
    until its answer arrives (:mod:`posture.collecting.throttling`; a no-op in a local scan). Region
    ``global``: Google's API quotas are per project and service."""
    def request(*args: Any, **kwargs: Any) -> Any:
        if getattr(_in_slot, "held", False):
            return send(*args, **kwargs)
        _in_slot.held = True
        try:
            acquire_slot(service, "global")  # a failed acquire still leaves an entry for the release to pop
            return send(*args, **kwargs)
        finally:
            _in_slot.held = False
            release_slot()

    return request


#: large answers (a project's inventory or metadata) kept per scan: units run project after project,
#: so these cover the projects in flight; an older one is asked again if a unit still needs it
LARGE_ANSWERS = 64


class Shared:
    """Answers shared by the units of one scan (e.g. one organization's findings for all its projects).

    ``once(key, fn)`` runs ``fn`` a single time per key, even when units ask concurrently; a failure is
    remembered and re-raised to every asker. Lives in the provider for one scan; a unit collected
    elsewhere (no shared state) simply makes its own call. Small answers (parents, ancestors' settings)
    are kept for the scan; ``large`` ones only for the :data:`LARGE_ANSWERS` most recently asked keys,
    so memory follows the projects in flight, not the number of projects.
    """

    def __init__(self, large_answers: int | None = None) -> None:
        self._lock = threading.Lock()
        self._slots: dict[Any, tuple[threading.Lock, list[Any]]] = {}
        self._large: OrderedDict[Any, tuple[threading.Lock, list[Any]]] = OrderedDict()
        self.large_answers = max(1, LARGE_ANSWERS if large_answers is None else large_answers)

    def _slot(self, key: Any, large: bool) -> tuple[threading.Lock, list[Any]]:
        with self._lock:
            if not large:
                return self._slots.setdefault(key, (threading.Lock(), []))
            slot = self._large.get(key)
            if slot is None:
                slot = self._large[key] = (threading.Lock(), [])
                while len(self._large) > self.large_answers:
                    self._large.popitem(last=False)  # an asker holding it still gets its answer
            self._large.move_to_end(key)
            return slot

    def once(self, key: Any, fn: Any, *, large: bool = False) -> Any:
        lock, box = self._slot(key, large)
        with lock:
            if not box:
                try:
                    box.append((True, fn()))
                except Exception as exc:  # remembered: every project of the organization reports it
                    box.append((False, exc))
        ok, value = box[0]
        if not ok:
            raise value
        return value

    def seed(self, key: Any, value: Any) -> None:
        """Give ``key`` an answer already learnt elsewhere (e.g. during planning), unless it has one."""
        with self._lock:
            self._slots.setdefault(key, (threading.Lock(), [(True, value)]))

    @property
    def large_kept(self) -> int:
        """Large answers currently kept."""
        with self._lock:
            return len(self._large)


class Clients:
    def __init__(self, settings: GcpSettings, credentials: CountingCredentials, shared: Shared | None = None) -> None:
        self.settings = settings
        self.credentials = credentials
        self.shared = shared or Shared()
        self._local = threading.local()
        self._lock = threading.Lock()
        self._cache: dict[str, Any] = {}

    def _cached(self, key: str, factory: Any) -> Any:
        with self._lock:
            if key not in self._cache:
                self._cache[key] = factory()
            return self._cache[key]

    def retry(self) -> Any:
        """An api-core Retry for 429/5xx, limited to ``max_retries`` attempts per call (or listing)."""
        from google.api_core.retry import Retry

        budget = {"left": self.settings.max_retries}
        lock = threading.Lock()

        def predicate(exc: BaseException) -> bool:
            if not is_retryable(exc):
                return False
            with lock:
                budget["left"] -= 1
                return budget["left"] >= 0

        return Retry(predicate=predicate, initial=1.0, maximum=30.0, multiplier=2.0, timeout=300.0)

    def _bounded(self, client: Any, service: str) -> Any:
        """A google-cloud REST client whose requests wait at most the read timeout, each in a slot."""
        session = getattr(getattr(client, "_transport", None), "_session", None)
        if session is not None:
            bound_timeout(session, CONNECT_TIMEOUT, self.settings.read_timeout, service)
        return client

    # ------------------------------------------------------- google-cloud-*
    def compute(self, kind: str) -> Any:
        """A compute_v1 client: ``InstancesClient``, ``FirewallsClient``..."""
        from google.cloud import compute_v1

        def make() -> Any:
            cls = getattr(compute_v1, kind)
            return self._bounded(cls(credentials=self.credentials, transport="rest",
                                     client_options=self.settings.client_options("compute")), "compute")

        return self._cached(f"compute.{kind}", make)

    def kms(self) -> Any:
        from google.cloud import kms_v1

        return self._cached("kms", lambda: self._bounded(kms_v1.KeyManagementServiceClient(
            credentials=self.credentials, transport="rest", client_options=self.settings.client_options("cloudkms")),
            "cloudkms"))

    def projects(self) -> Any:
        from google.cloud import resourcemanager_v3

        return self._cached("rm.projects", lambda: self._bounded(resourcemanager_v3.ProjectsClient(
            credentials=self.credentials, transport="rest",
            client_options=self.settings.client_options("cloudresourcemanager")), "cloudresourcemanager"))

    def folders(self) -> Any:
        from google.cloud import resourcemanager_v3

        return self._cached("rm.folders", lambda: self._bounded(resourcemanager_v3.FoldersClient(
            credentials=self.credentials, transport="rest",
            client_options=self.settings.client_options("cloudresourcemanager")), "cloudresourcemanager"))

    def organizations(self) -> Any:
        from google.cloud import resourcemanager_v3

        return self._cached("rm.organizations", lambda: self._bounded(resourcemanager_v3.OrganizationsClient(
            credentials=self.credentials, transport="rest",
            client_options=self.settings.client_options("cloudresourcemanager")), "cloudresourcemanager"))

    def storage(self, project: str) -> Any:
        # google-cloud-storage >= 3.x fetches each bucket's metadata in a background thread
        # (an extra, uncounted-in-time GET per bucket) for tracing; turn that off.
        os.environ.setdefault("DISABLE_GCS_PYTHON_CLIENT_OTEL_BUCKET_METADATA", "true")
        from google.cloud import storage

        def make() -> Any:
            client = storage.Client(project=project, credentials=self.credentials,
                                    client_options=self.settings.client_options("storage"))
            bound_timeout(client._http, CONNECT_TIMEOUT, self.settings.read_timeout, "storage")  # noqa: SLF001
            return client

        return self._cached(f"storage.{project}", make)

    # ------------------------------------------------------------ discovery
    def discovery(self, api: str, version: str) -> Any:
        """A discovery client for this thread (httplib2.Http is not thread-safe)."""
        key = f"{api}.{version}"
        services = getattr(self._local, "services", None)
        if services is None:
            services = self._local.services = {}
        if key not in services:
            import google_auth_httplib2
            import httplib2
            from googleapiclient.discovery import build

            http = google_auth_httplib2.AuthorizedHttp(self.credentials, http=httplib2.Http(
                timeout=self.settings.read_timeout, ca_certs=self.settings.ca_bundle))
            http.request = gated_request(http.request, api)  # googleapiclient calls it once per attempt
            services[key] = build(api, version, http=http, static_discovery=True, cache_discovery=False,
                                  client_options=self._discovery_options(api, version))
        return services[key]

    def execute(self, request: Any) -> dict[str, Any]:
        """Run a discovery request with googleapiclient's retries (429, 5xx, rate-limit 403)."""
        return request.execute(num_retries=self.settings.max_retries)

    def _discovery_options(self, api: str, version: str) -> dict[str, str] | None:
        opts = self.settings.client_options(api)
        if "api_endpoint" in opts:
            # The override replaces rootUrl+servicePath; most APIs' method paths carry the version ("v1/...")
            # and an empty servicePath, but some (BigQuery "bigquery/v2/", Cloud Storage "storage/v1/") keep it
            # in servicePath, which must then follow the endpoint.
            opts["api_endpoint"] = opts["api_endpoint"].rstrip("/") + "/" + _service_path(api, version)
        return opts or None


def _service_path(api: str, version: str) -> str:
    """The ``servicePath`` of the static discovery document shipped with google-api-python-client."""
    import json

    from googleapiclient.discovery_cache import get_static_doc

    doc = get_static_doc(api, version)
    return str(json.loads(doc).get("servicePath") or "") if doc else ""
