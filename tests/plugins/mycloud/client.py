"""The MyCloud API client: JSON over HTTP, every request counted for the running unit."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

from posture.collecting import Failure, count_request


class ApiError(Exception):
    """The API answered an error: ``{"error": {"code": ..., "message": ...}}``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status, self.code, self.message = status, code, message


class Client:
    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint.rstrip("/")

    def get(self, path: str) -> dict[str, Any]:
        count_request()
        try:
            with urllib.request.urlopen(f"{self.endpoint}{path}", timeout=10) as resp:
                return json.load(resp)
        except urllib.error.HTTPError as exc:
            error = (json.loads(exc.read() or b"{}").get("error") or {})
            raise ApiError(exc.code, error.get("code", f"HTTP{exc.code}"), error.get("message", "")) from None

    def pages(self, path: str, key: str) -> Iterator[dict[str, Any]]:
        """Every item of a paginated list (``next`` is the token of the following page)."""
        token = ""
        while True:
            page = self.get(f"{path}?page={token}" if token else path)
            yield from page.get(key, [])
            token = page.get("next") or ""
            if not token:
                return


def classify(exc: BaseException) -> Failure:
    """The plugin's classifier: the API's own error code; ``FeatureNotEnabled`` means "not there"."""
    if isinstance(exc, ApiError):
        return Failure(exc.code, exc.message, not_applicable=exc.code == "FeatureNotEnabled")
    if isinstance(exc, urllib.error.URLError):
        return Failure("Unreachable", str(exc.reason))
    return Failure(type(exc).__name__, str(exc))
