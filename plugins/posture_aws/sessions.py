"""botocore clients shared by every account and every unit of a scan.

One client per (profile, region, service) serves every account of the scan: botocore's signer
asks for credentials at each signing, so a client signs with the credentials of the account whose
call it is making (:class:`AccountClient`). Building an account's ~32 clients cost about 0.3 s of
CPU and ~16 MiB, which at organisation scale was half the scan's CPU and most of its memory.
Every client counts the HTTP requests it sends (botocore ``before-send``, once per attempt) for the
unit running in the current context (:func:`posture.collecting.count_request`).
"""

from __future__ import annotations

import contextvars
import functools
import os
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import SimpleNamespace
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


#: the credential path whose call is being made (set around each call by :class:`AccountClient`)
_CALLING: contextvars.ContextVar[CredentialPath | None] = contextvars.ContextVar("posture_aws_calling", default=None)


def _calling() -> CredentialPath:
    path = _CALLING.get()
    if path is None:  # a client used outside AccountClient: never sign with some other account's keys
        raise RuntimeError("posture_aws: an AWS call was made without an account (use SessionPool.client)")
    return path


def _as(path: CredentialPath, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    token = _CALLING.set(path)
    try:
        return fn(*args, **kwargs)
    finally:
        _CALLING.reset(token)


class AccountClient:
    """A shared botocore client calling as one account: every operation and every page runs with
    ``path`` as the calling account, so it is signed with that account's credentials and its retries
    and rate limiting are that account's. Everything else (``meta``, ``exceptions``,
    ``can_paginate``) is the shared client's."""

    __slots__ = ("_client", "_path")

    def __init__(self, client: Any, path: CredentialPath) -> None:
        self._client = client
        self._path = path

    @property
    def shared(self) -> Any:
        """The botocore client every account shares."""
        return self._client

    def get_paginator(self, operation: str) -> _AccountHelper:
        return _AccountHelper(self._client.get_paginator(operation), self._path)

    def get_waiter(self, name: str) -> _AccountHelper:
        return _AccountHelper(self._client.get_waiter(name), self._path)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if name in self._client.meta.method_to_api_mapping:
            return functools.partial(_as, self._path, attr)
        return attr


class _AccountHelper:
    """A paginator or waiter of a shared client, whose calls run as one account."""

    __slots__ = ("_helper", "_path")

    def __init__(self, helper: Any, path: CredentialPath) -> None:
        self._helper = helper
        self._path = path

    def paginate(self, **kwargs: Any) -> _AccountPages:
        return _AccountPages(self._helper.paginate(**kwargs), self._path)

    def wait(self, **kwargs: Any) -> None:
        _as(self._path, self._helper.wait, **kwargs)


class _AccountPages:
    """A page iterator whose every page is fetched as the account (not only the first)."""

    __slots__ = ("_pages", "_path")

    def __init__(self, pages: Any, path: CredentialPath) -> None:
        self._pages = pages
        self._path = path

    def __iter__(self) -> Iterator[Any]:
        pages = _as(self._path, iter, self._pages)
        while True:
            try:
                page = _as(self._path, next, pages)
            except StopIteration:
                return
            yield page

    def build_full_result(self) -> Any:
        return _as(self._path, self._pages.build_full_result)


class _CallingAccountCredentials:
    """The credentials of every shared client: those of the account whose call is being signed.

    botocore's signer asks its credentials for a frozen copy at every signing, so one client can sign
    for any number of accounts; which one is the calling account's (:data:`_CALLING`).
    """

    method = "posture-calling-account"

    def __init__(self, pool: SessionPool) -> None:
        self._pool = pool

    def _current(self) -> Any:
        return self._pool.credentials(_calling())

    def get_frozen_credentials(self) -> Any:
        creds = self._current()
        return None if creds is None else creds.get_frozen_credentials()

    def get_deferred_property(self, name: str) -> Callable[[], Any]:
        return lambda: getattr(self._current(), name, None)


class _AccountRetries:
    """botocore's standard retries and adaptive rate limiting, kept per (account, region, service).

    botocore keeps them per client; a client is shared by every account here, and one throttled
    account must neither use up another's retry quota nor slow its requests. The handlers are
    botocore's own, made by its own ``register_retry_handler`` functions, one set per account, and
    dropped once the account has no unit running.
    """

    def __init__(self, service_id: Any, max_attempts: int) -> None:
        self._service_id = service_id
        self._max_attempts = max_attempts
        self._lock = threading.Lock()
        self._handlers: dict[CredentialPath, dict[str, list[Callable[..., Any]]]] = {}

    def _made(self) -> dict[str, list[Callable[..., Any]]]:
        from botocore.retries import adaptive, standard

        handlers: dict[str, list[Callable[..., Any]]] = {}

        def register(event: str, handler: Callable[..., Any], unique_id: str | None = None) -> None:
            handlers.setdefault(event.split(".")[0], []).append(handler)

        capture = SimpleNamespace(meta=SimpleNamespace(service_model=SimpleNamespace(service_id=self._service_id),
                                                       events=SimpleNamespace(register=register)))
        standard.register_retry_handler(capture, self._max_attempts)
        adaptive.register_retry_handler(capture)
        handlers.pop("request-created", None)  # the max-attempts header seeder: the shared client has it
        return handlers

    def _for(self, event: str) -> list[Callable[..., Any]]:
        path = _calling()
        handlers = self._handlers.get(path)
        if handlers is None:
            with self._lock:
                handlers = self._handlers.setdefault(path, self._made())
        return handlers.get(event, [])

    def handler(self, event: str) -> Callable[..., Any]:
        def dispatch(**kwargs: Any) -> Any:
            answer = None
            for handler in self._for(event):
                result = handler(**kwargs)
                answer = result if answer is None else answer
            return answer
        return dispatch

    def forget(self, path: CredentialPath) -> None:
        with self._lock:
            self._handlers.pop(path, None)

    def install(self, client: Any) -> None:
        """Replace the client's own retry handler (``standard`` mode) with per-account ones."""
        name = self._service_id.hyphenize()
        events = client.meta.events
        events.unregister(f"needs-retry.{name}", unique_id=f"retry-config-{name}")
        events.register(f"needs-retry.{name}", self.handler("needs-retry"), unique_id=f"retry-config-{name}")
        events.register(f"after-call.{name}", self.handler("after-call"))
        events.register("before-send", self.handler("before-send"))


class SessionPool:
    """One botocore session per profile, one client per (profile, region, service), credentials per account.

    Every account reached from a profile (the profile's own and each role assumed from it) calls
    through the same clients, so a scan builds each client once, whatever the size of the
    organisation; all sessions share one loader reading service models lean
    (:mod:`posture_aws.lean_models`). An account's credentials are obtained on its first call (one
    ``sts:AssumeRole``, refreshed before expiry) and kept for the scan: a few KB each, and an account
    asked for again never costs a second AssumeRole. Retry quotas and adaptive rate limits stay per
    account (:class:`_AccountRetries`), kept while a unit of the account runs (:meth:`holding`).
    """

    def __init__(self, max_attempts: int = 8, max_pool_connections: int = 32,
                 connect_timeout: float = 10, read_timeout: float = 30) -> None:
        self._lock = threading.RLock()
        self._sessions: dict[str | None, Any] = {}
        self._own_credentials: dict[str | None, Any] = {}
        self._clients: dict[tuple[str | None, str, str], Any] = {}
        self._retries: list[_AccountRetries] = []
        self._credentials: dict[CredentialPath, Any] = {}
        self._assuming: dict[CredentialPath, threading.Lock] = {}
        self._running: Counter[CredentialPath] = Counter()
        self._loader: Any = None
        self.max_attempts = max_attempts
        self.max_pool_connections = max_pool_connections
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout

    def _config(self) -> Any:
        from botocore.config import Config

        return Config(
            # "standard" here; the adaptive rate limiting is added per account by _AccountRetries
            retries={"mode": "standard", "total_max_attempts": self.max_attempts},
            max_pool_connections=self.max_pool_connections,
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            user_agent_extra="posture",
        )

    def default_region(self, path: CredentialPath) -> str:
        """The region of ``path``'s profile (an assumed role keeps its profile's), without assuming any role."""
        region = self.session(path).get_config_variable("region")
        return region or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION

    def session(self, path: CredentialPath) -> Any:
        """The botocore session of ``path``'s profile, shared by every account reached from it."""
        with self._lock:
            session = self._sessions.get(path.profile)
            if session is not None:
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
            self._own_credentials[path.profile] = session.get_credentials()
            session._credentials = _CallingAccountCredentials(self)  # what its clients sign with
            self._sessions[path.profile] = session
            return session

    def credentials(self, path: CredentialPath) -> Any:
        """``path``'s credentials: the profile's own, or its role's (assumed once, refreshed before expiry).

        Roles are assumed under a lock of their own, so one slow AssumeRole holds back only the units
        of its account.
        """
        if path in self._credentials:
            return self._credentials[path]
        if not path.roles:
            self.session(path)
            return self._own_credentials[path.profile]
        with self._lock:
            lock = self._assuming.setdefault(path, threading.Lock())
        with lock:
            if path not in self._credentials:
                parent = CredentialPath(path.profile, path.roles[:-1], path.external_id)
                self._credentials[path] = self._assumed_credentials(parent, path.roles[-1], path.external_id)
                with self._lock:
                    del self._assuming[path]  # later askers find the credentials; waiters hold the lock object
        return self._credentials[path]

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

        return RefreshableCredentials.create_from_metadata(
            metadata=fetch(), refresh_using=fetch, method="sts-assume-role")

    @property
    def accounts_assumed(self) -> int:
        """Accounts whose role has been assumed in this scan."""
        return len(self._credentials)

    @property
    def clients_made(self) -> int:
        with self._lock:
            return len(self._clients)

    @contextmanager
    def holding(self, path: CredentialPath) -> Iterator[None]:
        """The block runs a unit of ``path``'s account; once none runs, its retry state is dropped."""
        with self._lock:
            self._running[path] += 1
        try:
            yield
        finally:
            with self._lock:
                self._running[path] -= 1
                idle = not self._running[path]
                if idle:
                    del self._running[path]
                    retries = list(self._retries)
            if idle:
                for each in retries:
                    each.forget(path)

    def client(self, path: CredentialPath, service: str, region: str) -> AccountClient:
        """The (profile, region, service) client, calling as ``path``'s account."""
        key = (path.profile, region, service)
        client = self._clients.get(key)
        if client is None:
            with self._lock:
                client = self._clients.get(key)
                if client is None:
                    client = self._clients[key] = self._make_client(path, service, region)
        return AccountClient(client, path)

    def _make_client(self, path: CredentialPath, service: str, region: str) -> Any:
        client = self.session(path).create_client(service, region_name=region, config=self._config())
        retries = _AccountRetries(client.meta.service_model.service_id, self.max_attempts)
        retries.install(client)
        self._retries.append(retries)
        client.meta.events.register("before-send", _count_request)
        take, give = _slot_handlers(service, region)
        client.meta.events.register("before-send", take)
        client.meta.events.register("response-received", give)
        if service == "s3control" and _override_is_local():
            client.meta.events.register("before-sign.s3-control", _strip_account_host_label)
        return client
