"""boto3 sessions and clients shared by every unit of a scan.

boto3 sessions are not thread-safe, so clients are created under a lock and
cached per (credential path, region, service). Every client counts the HTTP
requests it sends (botocore ``before-send``, once per attempt) for the unit
running in the current context (:func:`posture.collecting.count_request`).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any

from posture.collecting import count_request

DEFAULT_REGION = "us-east-1"


def _count_request(**_: Any) -> None:
    count_request()
    # returning None lets botocore send the request


def _strip_account_host_label(request: Any, **_: Any) -> None:
    """S3 Control prefixes the host with the account id; an IP/localhost endpoint override can't take that."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(request.url)
    host, _, rest = parts.netloc.partition(".")
    if host.isdigit() and len(host) == 12 and rest:
        request.url = urlunsplit(parts._replace(netloc=rest))


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


class SessionPool:
    """Per-credential-path sessions and a cache of clients."""

    def __init__(self, max_attempts: int = 8, max_pool_connections: int = 32,
                 connect_timeout: float = 10, read_timeout: float = 30) -> None:
        self._lock = threading.RLock()
        self._sessions: dict[CredentialPath, Any] = {}
        self._clients: dict[tuple[CredentialPath, str, str], Any] = {}
        self.max_attempts = max_attempts
        self.max_pool_connections = max_pool_connections
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout

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
        session = self.session(path)
        return session.region_name or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION

    def session(self, path: CredentialPath) -> Any:
        """The boto3 session for ``path``; assuming roles lazily, with refreshing credentials."""
        with self._lock:
            if path in self._sessions:
                return self._sessions[path]
            import boto3

            if not path.roles:
                session = boto3.Session(profile_name=path.profile) if path.profile else boto3.Session()
            else:
                parent = CredentialPath(path.profile, path.roles[:-1], path.external_id)
                session = self._assumed_session(parent, path.roles[-1], path.external_id)
            self._sessions[path] = session
            return session

    def _assumed_session(self, parent: CredentialPath, role_arn: str, external_id: str | None) -> Any:
        import boto3
        import botocore.session
        from botocore.credentials import RefreshableCredentials

        sts = self.client(parent, "sts", self.default_region(parent))
        kwargs: dict[str, Any] = {"RoleArn": role_arn, "RoleSessionName": "posture-scan"}
        if external_id:
            kwargs["ExternalId"] = external_id

        def fetch() -> dict[str, str]:
            creds = sts.assume_role(**kwargs)["Credentials"]
            return {"access_key": creds["AccessKeyId"], "secret_key": creds["SecretAccessKey"],
                    "token": creds["SessionToken"], "expiry_time": creds["Expiration"].isoformat()}

        credentials = RefreshableCredentials.create_from_metadata(
            metadata=fetch(), refresh_using=fetch, method="sts-assume-role")
        core = botocore.session.Session()
        core._credentials = credentials  # the documented way boto3 users attach refreshable credentials
        region = self.default_region(parent)
        return boto3.Session(botocore_session=core, region_name=region)

    def client(self, path: CredentialPath, service: str, region: str) -> Any:
        key = (path, region, service)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = self.session(path).client(service, region_name=region, config=self._config())
                client.meta.events.register("before-send", _count_request)
                if service == "s3control" and _override_is_local():
                    client.meta.events.register("before-sign.s3-control", _strip_account_host_label)
                self._clients[key] = client
            return client
