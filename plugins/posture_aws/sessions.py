"""boto3 sessions and clients shared by every unit of a scan.

boto3 sessions are not thread-safe, so clients are created under a lock and
cached per (credential path, region, service). Every client counts the HTTP
requests it sends (botocore ``before-send``, once per attempt) for the unit
running in the current context (:func:`posture.collecting.count_request`).
"""

from __future__ import annotations

import os
import threading
from collections import Counter, OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from posture.collecting import acquire_slot, count_request, release_slot

DEFAULT_REGION = "us-east-1"


def _count_request(**_: Any) -> None:
    count_request()
    # returning None lets botocore send the request


def _slot_handlers(service: str, region: str) -> tuple[Any, Any]:
    """botocore handlers taking a slot of the shared (account, region, service) limit for each attempt
    (``posture.collecting.throttling``; no-ops in a local scan)."""
    def take(**_: Any) -> None:
        acquire_slot(service, region)

    def give(**_: Any) -> None:
        release_slot()

    return take, give


def _strip_account_host_label(request: Any, **_: Any) -> None:
    """S3 Control prefixes the host with the account id; an IP/localhost endpoint override can't take that."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(request.url)
    host, _, rest = parts.netloc.partition(".")
    if host.isdigit() and len(host) == 12 and rest:
        request.url = urlunsplit(parts._replace(netloc=rest))


def parse_timestamp(value: Any) -> Any:
    """botocore's timestamp parser, without dateutil for ISO-8601 text (``2024-05-01T12:00:00Z``).

    Why: dateutil's general parser was about a tenth of an organisation scan's CPU (every listing
    carries creation dates). ``datetime.fromisoformat`` reads the same text to the same instant, as
    aware (UTC) or naive as dateutil would; anything else (epochs, RFC 822 dates) goes to botocore's own.
    """
    if isinstance(value, str) and len(value) >= 10 and value[4] == "-":
        from datetime import datetime

        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    from botocore.utils import parse_timestamp as botocore_parse_timestamp

    return botocore_parse_timestamp(value)


def _override_is_local() -> bool:
    url = os.environ.get("AWS_ENDPOINT_URL_S3_CONTROL") or os.environ.get("AWS_ENDPOINT_URL") or ""
    return any(h in url for h in ("://127.", "://localhost", "://[::1]"))


@dataclass(frozen=True)
class CredentialPath:
    """How to obtain credentials: a profile, then zero or more roles assumed in turn."""

    profile: str | None = None
    roles: tuple[str, ...] = ()
    external_id: str | None = None

    def then(self, role_arn: str) -> CredentialPath:
        return CredentialPath(self.profile, (*self.roles, role_arn), self.external_id)


#: idle member accounts (no unit of theirs running) whose sessions and clients stay cached
CACHED_ACCOUNTS = 4


class SessionPool:
    """Per-credential-path botocore sessions and a cache of clients, bounded in memory.

    Every session shares one botocore loader, so each service model is read and parsed once per scan
    rather than once per account (a fresh session per assumed role costs about 60 MB once its clients
    are made), and reads them lean (:mod:`posture_aws.lean_models`). An account's clients still cost
    ~16 MiB (each client holds its own service model,
    event hooks and endpoint rules), so sessions reached through an assumed role are kept only while
    a unit of theirs runs (:meth:`holding`) and for the ``cached_accounts`` most recently idle
    accounts; the others, and their clients, are released. Units run account after account, so an
    idle account is normally done, and memory follows the accounts in flight (at most the
    concurrency) rather than the size of the organisation. A unit still holding a released client
    keeps using it; an account asked for again simply assumes its role again.
    """

    def __init__(self, max_attempts: int = 8, max_pool_connections: int = 32,
                 connect_timeout: float = 10, read_timeout: float = 30,
                 cached_accounts: int = CACHED_ACCOUNTS) -> None:
        self._lock = threading.RLock()
        self._sessions: OrderedDict[CredentialPath, Any] = OrderedDict()
        self._clients: dict[CredentialPath, dict[tuple[str, str], Any]] = {}
        self._running: Counter[CredentialPath] = Counter()
        self._loader: Any = None
        self.max_attempts = max_attempts
        self.max_pool_connections = max_pool_connections
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.cached_accounts = max(1, cached_accounts)

    def _config(self) -> Any:
        from botocore.config import Config

        return Config(
            retries={"mode": "adaptive", "total_max_attempts": self.max_attempts},
            max_pool_connections=self.max_pool_connections,
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            user_agent_extra="posture",
        )

    def default_region(self, path: CredentialPath) -> str:
        """The region of ``path``'s profile (an assumed role keeps its parent's), without assuming any role."""
        if path.roles:
            return self.default_region(CredentialPath(path.profile, (), path.external_id))
        region = self.session(path).get_config_variable("region")
        return region or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION

    def session(self, path: CredentialPath) -> Any:
        """The botocore session for ``path``; assuming roles lazily, with refreshing credentials."""
        with self._lock:
            session = self._sessions.get(path)
            if session is not None:
                self._sessions.move_to_end(path)
                return session
            import botocore.session

            session = botocore.session.Session(profile=path.profile)
            session.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=parse_timestamp)
            if self._loader is None:
                from posture_aws.lean_models import LeanJSONFileLoader

                self._loader = session.get_component("data_loader")
                self._loader.file_loader = LeanJSONFileLoader()
            else:
                session.register_component("data_loader", self._loader)
            if path.roles:
                parent = CredentialPath(path.profile, path.roles[:-1], path.external_id)
                session._credentials = self._assumed_credentials(parent, path.roles[-1], path.external_id)
                session.set_config_variable("region", self.default_region(parent))
            self._sessions[path] = session
            self._release_oldest()
            return session

    def _assumed_credentials(self, parent: CredentialPath, role_arn: str, external_id: str | None) -> Any:
        from botocore.credentials import RefreshableCredentials

        sts = self.client(parent, "sts", self.default_region(parent))
        kwargs: dict[str, Any] = {"RoleArn": role_arn, "RoleSessionName": "posture-scan"}
        if external_id:
            kwargs["ExternalId"] = external_id

        def fetch() -> dict[str, str]:
            creds = sts.assume_role(**kwargs)["Credentials"]
            return {"access_key": creds["AccessKeyId"], "secret_key": creds["SecretAccessKey"],
                    "token": creds["SessionToken"], "expiry_time": creds["Expiration"].isoformat()}

        # attached as the session's credentials: the documented way to give botocore refreshable credentials
        return RefreshableCredentials.create_from_metadata(
            metadata=fetch(), refresh_using=fetch, method="sts-assume-role")

    @contextmanager
    def holding(self, path: CredentialPath) -> Iterator[None]:
        """Keep ``path``'s session and clients while the block (one unit of its account) runs."""
        with self._lock:
            self._running[path] += 1
        try:
            yield
        finally:
            with self._lock:
                self._running[path] -= 1
                if not self._running[path]:
                    del self._running[path]
                    if path in self._sessions:
                        self._sessions.move_to_end(path)  # the most recently idle
                self._release_oldest()

    @property
    def accounts_cached(self) -> int:
        """Assumed-role sessions currently kept (running and idle)."""
        with self._lock:
            return sum(1 for path in self._sessions if path.roles)

    def _release_oldest(self) -> None:
        """Forget the least recently used idle assumed-role sessions and clients beyond ``cached_accounts``."""
        idle = [p for p in self._sessions if p.roles and not self._running[p]]
        for path in idle[:max(0, len(idle) - self.cached_accounts)]:
            del self._sessions[path]
            self._clients.pop(path, None)

    def client(self, path: CredentialPath, service: str, region: str) -> Any:
        with self._lock:
            session = self.session(path)  # also marks the account as recently used
            clients = self._clients.setdefault(path, {})
            client = clients.get((region, service))
            if client is None:
                client = session.create_client(service, region_name=region, config=self._config())
                client.meta.events.register("before-send", _count_request)
                take, give = _slot_handlers(service, region)
                client.meta.events.register("before-send", take)
                client.meta.events.register("response-received", give)
                if service == "s3control" and _override_is_local():
                    client.meta.events.register("before-sign.s3-control", _strip_account_host_label)
                clients[(region, service)] = client
            return client
