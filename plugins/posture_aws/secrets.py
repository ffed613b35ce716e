"""Decide whether a configuration value looks like a secret, keeping only the *name*.

Values are inspected in memory and dropped; nothing here returns or logs them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

SECRET_NAME = re.compile(
    r"(pass(word|wd)?|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential|(^|[_-])auth([_-]|$)|"
    r"client[_-]?secret|conn(ection)?[_-]?str|dsn)", re.IGNORECASE)
#: values no secret looks like: a switch or a small number (AUTH_ENABLED=true, TOKEN_TTL=300)
PLAIN_VALUE = re.compile(r"^\s*(true|false|yes|no|on|off|enabled|disabled|none|null|-?\d{1,6})?\s*$",
                         re.IGNORECASE)
SECRET_VALUE = (
    re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),  # AWS access key id
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36}\b"),  # GitHub token
    re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b"),  # Slack token
    re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),  # Google API key
    re.compile(r"://[^/\s:@]+:[^/\s@]+@"),  # credentials in a URL
)
#: names that match SECRET_NAME but only point at a secret (an ARN, a parameter name)
REFERENCE_VALUE = re.compile(r"^(arn:aws[a-z-]*:(secretsmanager|ssm|kms):|\{\{resolve:|/)")


def looks_secret(name: str, value: str) -> bool:
    if any(p.search(value) for p in SECRET_VALUE):
        return True
    return (bool(SECRET_NAME.search(name)) and not PLAIN_VALUE.match(value)
            and not REFERENCE_VALUE.match(value))


def secret_like_names(variables: Mapping[str, str] | None) -> list[str]:
    """Names of the variables whose name or value looks like a secret (never the values)."""
    return sorted(name for name, value in (variables or {}).items() if looks_secret(name, str(value)))
