"""Turn any Google client exception into a :class:`~posture.collecting.Failure` (code, message, not_applicable).

Google APIs answer errors as ``{"error": {"code": 403, "status":
"PERMISSION_DENIED", "message": ..., "details": [{"@type":
".../google.rpc.ErrorInfo", "reason": "SERVICE_DISABLED", ...}]}}``; older
JSON APIs (Cloud Storage, Cloud SQL Admin v1beta4) put ``errors: [{"reason":
"accessNotConfigured"}]`` instead and may omit ``status``. Both shapes reach
us through two exception families (google-api-core and googleapiclient), so
this module reads the response body itself whenever one is available.
"""

from __future__ import annotations

import json
from typing import Any

from posture.collecting import Failure

#: Reasons meaning "this API is not enabled in this project": the feature is absent.
DISABLED_REASONS = {"SERVICE_DISABLED", "accessNotConfigured", "API_DISABLED"}
#: HTTP status -> canonical google.rpc.Code name, for bodies without ``status``.
HTTP_TO_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def _payload_of(exc: BaseException) -> tuple[int | None, dict[str, Any]]:
    """(HTTP status, the ``error`` object) from whichever exception family raised."""
    from googleapiclient.errors import HttpError

    if isinstance(exc, HttpError):
        status = int(exc.resp.status) if exc.resp is not None else None
        return status, _error_object(exc.content)
    response = getattr(exc, "response", None)
    status = getattr(exc, "code", None)
    if not isinstance(status, int):
        status = getattr(response, "status_code", None)
    body: dict[str, Any] = {}
    if response is not None and hasattr(response, "content"):
        body = _error_object(response.content)
    if not body:
        body = {
            "message": getattr(exc, "message", None) or str(exc),
            "errors": list(getattr(exc, "errors", None) or []),
            "details": [d for d in (getattr(exc, "details", None) or []) if isinstance(d, dict)],
        }
        reason = getattr(exc, "reason", None)
        if reason:
            body["details"].append({"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason})
    return status, body


def _error_object(content: Any) -> dict[str, Any]:
    if isinstance(content, bytes | bytearray):
        content = content.decode("utf-8", "replace")
    try:
        data = json.loads(content) if content else {}
    except (TypeError, ValueError):
        return {}
    err = data.get("error") if isinstance(data, dict) else None
    return err if isinstance(err, dict) else {}


def reasons(error: dict[str, Any]) -> list[str]:
    """Every machine-readable reason in an ``error`` object (ErrorInfo details and legacy errors[])."""
    found = [str(d["reason"]) for d in error.get("details") or [] if isinstance(d, dict) and d.get("reason")]
    found += [str(e["reason"]) for e in error.get("errors") or [] if isinstance(e, dict) and e.get("reason")]
    return found


def classify(exc: BaseException) -> Failure:
    """The plugin's classifier: an exception from any Google client as the API's own code and message."""
    import google.auth.exceptions

    if isinstance(exc, google.auth.exceptions.GoogleAuthError):
        return Failure("UNAUTHENTICATED", f"{type(exc).__name__}: {exc}")
    if is_timeout(exc):
        # the same code as AWS's and Azure's read timeouts: no answer within --gcp-read-timeout
        return Failure("Timeout", f"no response within the read timeout ({type(exc).__name__})")
    status, error = _payload_of(exc)
    if status is None and not error.get("status"):
        return Failure(type(exc).__name__, str(exc) or type(exc).__name__)
    code = str(error.get("status") or HTTP_TO_STATUS.get(status or 0) or f"HTTP_{status}")
    message = str(error.get("message") or exc)
    why = reasons(error)
    disabled = [r for r in why if r in DISABLED_REASONS]
    if disabled:
        return Failure(disabled[0], f"API not enabled: {message}", not_applicable=True)
    return Failure(code, message)


def is_timeout(exc: BaseException) -> bool:
    """A read or connect timeout from any of the three transports (requests, httplib2/socket, api-core)."""
    import requests

    seen: BaseException | None = exc
    for _ in range(4):  # api-core's RetryError wraps the last exception as ``cause``
        if seen is None:
            return False
        if isinstance(seen, requests.exceptions.Timeout | TimeoutError):
            return True
        seen = getattr(seen, "cause", None) or seen.__cause__
    return False


def is_retryable(exc: BaseException) -> bool:
    """429 and 5xx are retried; a 403 rate-limit reason too (older JSON APIs); a timeout too (like AWS)."""
    if is_timeout(exc):
        return True
    status, error = _payload_of(exc)
    if status == 429 or (status is not None and status >= 500):
        return True
    return status == 403 and bool({"rateLimitExceeded", "userRateLimitExceeded"} & set(reasons(error)))
