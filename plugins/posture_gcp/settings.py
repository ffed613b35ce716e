"""GCP provider settings parsed from CLI options / environment (picklable)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from posture.collecting import positive_seconds

ENDPOINT_ENV = "POSTURE_GCP_API_ENDPOINT"
UNIVERSE_ENV = "POSTURE_GCP_UNIVERSE_DOMAIN"
READ_TIMEOUT_ENV = "POSTURE_GCP_READ_TIMEOUT"
DEFAULT_READ_TIMEOUT = 30.0
CONNECT_TIMEOUT = 20.0
DEFAULT_UNIVERSE = "googleapis.com"


@dataclass(frozen=True)
class GcpSettings:
    """How to reach the Google APIs.

    ``api_endpoint`` is one base URL for every API (a proxy, an emulator, the
    test fake), or a template containing ``{service}`` (``https://{service}.p.example.com``)
    for per-service hosts such as Private Service Connect. ``universe_domain``
    selects a sovereign universe (``https://{service}.{universe_domain}``).
    """

    api_endpoint: str | None = None
    universe_domain: str | None = None
    max_retries: int = 5
    max_workers: int = 4
    #: CA bundle for httplib2 (discovery clients); requests-based clients read REQUESTS_CA_BUNDLE themselves.
    ca_bundle: str | None = None
    #: seconds to wait for a response before the call becomes a ``Timeout`` error (``--gcp-read-timeout``)
    read_timeout: float = DEFAULT_READ_TIMEOUT

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> GcpSettings:
        endpoint = options.get("gcp_api_endpoint") or os.environ.get(ENDPOINT_ENV) or None
        universe = options.get("gcp_universe_domain") or os.environ.get(UNIVERSE_ENV) or None
        retries = options.get("gcp_max_retries")
        # REQUESTS_CA_BUNDLE first: the requests-based clients use it, so both transports trust the same CA.
        ca_bundle = (options.get("gcp_ca_bundle") or os.environ.get("REQUESTS_CA_BUNDLE")
                     or os.environ.get("HTTPLIB2_CA_CERTS") or None)
        return cls(
            api_endpoint=endpoint.rstrip("/") if endpoint else None,
            universe_domain=universe,
            max_retries=int(retries) if retries not in (None, "") else 5,
            ca_bundle=ca_bundle,
            read_timeout=_seconds(options.get("gcp_read_timeout") or os.environ.get(READ_TIMEOUT_ENV)),
        )

    def endpoint_for(self, service: str) -> str | None:
        """Base URL for ``service`` (``compute``, ``storage``...), or None for the client's default."""
        if self.api_endpoint:
            return self.api_endpoint.replace("{service}", service)
        if self.universe_domain and self.universe_domain != DEFAULT_UNIVERSE:
            return f"https://{service}.{self.universe_domain}"
        return None

    def client_options(self, service: str) -> dict[str, str]:
        opts: dict[str, str] = {}
        endpoint = self.endpoint_for(service)
        if endpoint:
            opts["api_endpoint"] = endpoint
        if self.universe_domain:
            opts["universe_domain"] = self.universe_domain
        return opts

    def as_options(self) -> tuple[tuple[str, Any], ...]:
        """What a WorkUnit carries so a remote executor rebuilds the same settings."""
        return (
            ("gcp_api_endpoint", self.api_endpoint),
            ("gcp_universe_domain", self.universe_domain),
            ("gcp_max_retries", self.max_retries),
            ("gcp_ca_bundle", self.ca_bundle),
            ("gcp_read_timeout", self.read_timeout),
        )


def _seconds(value: Any) -> float:
    return positive_seconds(value, default=DEFAULT_READ_TIMEOUT, option="--gcp-read-timeout", provider="gcp")
