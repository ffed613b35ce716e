"""Credentials: Application Default Credentials, wrapped to count HTTP requests.

The count goes to the unit running in the current context (:func:`posture.collecting.count_request`).

Every HTTP transport the Google clients use (``requests`` AuthorizedSession for
google-cloud-* REST clients and Cloud Storage, ``httplib2`` AuthorizedHttp for
discovery clients) calls ``credentials.before_request`` exactly once per HTTP
request, retries included. Wrapping the credentials is therefore one public
door that counts requests for every client alike.
"""

from __future__ import annotations

from typing import Any

import google.auth
import google.auth.credentials

from posture.collecting import count_request

#: Read calls only; some APIs (Cloud SQL Admin, Essential Contacts) accept no narrower scope.
SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]


def application_default() -> tuple[google.auth.credentials.Credentials, str | None]:
    """ADC only: GOOGLE_APPLICATION_CREDENTIALS, gcloud's ADC file, or the metadata server."""
    creds, project = google.auth.default(scopes=SCOPES)
    return creds, project


class CountingCredentials(google.auth.credentials.Credentials):
    """Delegates to real credentials and counts the requests they authorise."""

    def __init__(self, inner: google.auth.credentials.Credentials) -> None:
        super().__init__()
        self._inner = inner

    # -- the counting hook
    def before_request(self, request: Any, method: str, url: str, headers: Any) -> None:
        count_request()
        self._inner.before_request(request, method, url, headers)

    # -- plain delegation
    def refresh(self, request: Any) -> None:
        self._inner.refresh(request)

    def apply(self, headers: Any, token: str | None = None) -> None:
        self._inner.apply(headers, token)

    @property
    def token(self) -> Any:  # type: ignore[override]
        return self._inner.token

    @token.setter
    def token(self, value: Any) -> None:  # the base __init__ assigns it
        pass

    @property
    def valid(self) -> bool:
        return self._inner.valid

    @property
    def expired(self) -> bool:
        return self._inner.expired

    @property
    def quota_project_id(self) -> Any:
        return self._inner.quota_project_id

    @property
    def universe_domain(self) -> str:
        return self._inner.universe_domain
