"""The plugin's classifier: azure-core exceptions as ARM's own error code and a short message."""

from __future__ import annotations

from posture.collecting import Failure

#: outer codes that say only the HTTP status; an ``innererror.code`` next to them is the precise one
#: (Key Vault: ``ForbiddenByFirewall``, ``ForbiddenByRbac``, ``AccessDenied``)
GENERIC_CODES = {"Forbidden", "Unauthorized"}
#: ARM codes meaning "this feature/resource type is not there", not "denied".
NOT_APPLICABLE_CODES = {"SubscriptionNotRegistered", "MissingSubscriptionRegistration", "FeatureNotSupported",
                        "FeatureNotSupportedForAccount"}


def credential_summary(message: str) -> str:
    """DefaultAzureCredential's failure text on one line: what it tried and why each failed (first sentence)."""
    lines = [ln.strip() for ln in message.splitlines()]
    tried = [ln.split(". ")[0].rstrip(".") for ln in lines if ln and ":" in ln and ln.split(":")[0].endswith("Credential")]
    return (lines[0] if lines else "no credential") + (" Tried: " + "; ".join(tried) + "." if tried else "")


def classify(exc: BaseException) -> Failure:
    """ARM's error code and message for any exception (never a token); codes in
    :data:`NOT_APPLICABLE_CODES` mean the feature is not there."""
    code, message = _code_and_message(exc)
    return Failure(code, message, not_applicable=code in NOT_APPLICABLE_CODES)


def _code_and_message(exc: BaseException) -> tuple[str, str]:
    from azure.core.exceptions import (
        AzureError,
        ClientAuthenticationError,
        HttpResponseError,
        ServiceRequestTimeoutError,
        ServiceResponseTimeoutError,
    )

    if isinstance(exc, ServiceResponseTimeoutError | ServiceRequestTimeoutError) or (
            isinstance(exc, AzureError) and "timed out" in str(exc).lower() and not isinstance(exc, HttpResponseError)):
        # the same code as AWS's --aws-read-timeout: the call took longer than --azure-read-timeout
        return "Timeout", str(exc).splitlines()[0][:500]

    if isinstance(exc, ClientAuthenticationError) and exc.response is None:
        # Raised by the credential itself, before any request reached ARM.
        return "CredentialUnavailable", credential_summary(str(exc))[:1500]
    if isinstance(exc, HttpResponseError):
        code = None
        err = getattr(exc, "error", None)
        if err is not None:
            code = getattr(err, "code", None)
        if not code and exc.response is not None:
            try:
                body = exc.response.json()
                code = (body.get("error") or {}).get("code") or body.get("code")
            except Exception:  # body is not JSON
                code = None
        if not code:
            code = "Unauthorized" if isinstance(exc, ClientAuthenticationError) else f"HTTP{exc.status_code}"
        message = getattr(err, "message", None) or exc.reason or str(exc).splitlines()[0]
        inner = (getattr(err, "innererror", None) or {}).get("code") if code in GENERIC_CODES else None
        if inner:
            # Key Vault: the outer code is plain "Forbidden"; the inner one says why, and the message's
            # further lines only repeat the caller's address and object id
            return str(inner), str(message).splitlines()[0][:500]
        return str(code), str(message)[:500]
    if isinstance(exc, AzureError):
        return type(exc).__name__, str(exc).splitlines()[0][:500]
    return type(exc).__name__, str(exc)[:500]
