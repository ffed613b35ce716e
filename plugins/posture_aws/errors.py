"""The plugin's classifier: SDK exceptions as the AWS error code, so errors are data, never crashes."""

from __future__ import annotations

from posture.collecting import Failure

#: codes meaning "this region / account does not offer the feature" rather than a failure
NOT_APPLICABLE_CODES = frozenset({"OptInRequired", "SubscriptionRequiredException", "UnsupportedOperation",
                                  "InvalidAction", "UnknownEndpoint"})


def classify(exc: BaseException) -> Failure:
    """The AWS error code and a short message for any exception (a collector bug keeps its type name)."""
    code = error_code(exc)
    message = error_message(exc) if is_cloud_error(exc) else f"{type(exc).__name__}: {exc}"
    return Failure(code, message, not_applicable=code in NOT_APPLICABLE_CODES)


def error_code(exc: BaseException) -> str:
    """The AWS error code of ``exc`` (``AccessDenied``, ``Throttling``, ``ReadTimeout`` ...)."""
    from botocore import exceptions as bx

    if isinstance(exc, bx.ClientError):
        return str(exc.response.get("Error", {}).get("Code") or "ClientError")
    if isinstance(exc, bx.ReadTimeoutError | bx.ConnectTimeoutError):
        return "Timeout"
    if isinstance(exc, bx.UnknownEndpointError):
        return "UnknownEndpoint"
    if isinstance(exc, bx.EndpointConnectionError):
        return "EndpointConnectionError"
    if isinstance(exc, bx.NoCredentialsError | bx.PartialCredentialsError):
        return "NoCredentials"
    return type(exc).__name__


def error_message(exc: BaseException) -> str:
    """A short message without request ids or credentials."""
    from botocore import exceptions as bx

    if isinstance(exc, bx.ClientError):
        err = exc.response.get("Error", {})
        op = getattr(exc, "operation_name", "")
        return f"{op}: {err.get('Message') or err.get('Code') or 'error'}"[:500]
    return str(exc)[:500]


def is_cloud_error(exc: BaseException) -> bool:
    from botocore import exceptions as bx

    return isinstance(exc, bx.ClientError | bx.BotoCoreError)


def has_code(exc: BaseException, *codes: str) -> bool:
    """True when ``exc`` is an AWS error whose code is one of ``codes``."""
    from botocore import exceptions as bx

    return isinstance(exc, bx.ClientError) and error_code(exc) in codes
