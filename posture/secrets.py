"""Secret detection and redaction: every fact passes through here before it is stored or written.

Plugins collect only what checks need, but some of that is free-form: tags,
labels, metadata, environment variables, app settings, user data. Users put
secrets there. :func:`redact_attributes` runs on every :class:`~posture.facts.Fact`
when it is built (by a collector, the collection merge or a fact-file reader),
so no plugin - built-in or third-party, old or migrated - can forget it:

- in a free-form map (an attribute named like ``tags``, ``labels``,
  ``metadata``, ``environment``, ``app_settings``; see :data:`FREE_FORM`), a
  value whose *name* or *content* looks secret becomes :data:`MARKER`; the key
  stays, so required-tag checks still work;
- a free-form text (``user_data``, ``startup_script``) holding a secret-looking
  value or a ``NAME=value`` line with a secret-like name becomes :data:`MARKER`;
- anywhere else, a string whose content looks like a credential (an access key
  id, a private key, a token, a password in a URL) becomes :data:`MARKER`.

Values are inspected in memory and dropped; nothing here returns or logs them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

#: what a redacted value reads as in every output
MARKER = "<redacted: looks like a secret>"

SECRET_NAME = re.compile(
    r"(pass(word|wd)?|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential|(^|[_-])auth([_-]|$)|"
    r"client[_-]?secret|conn(ection)?[_-]?str|dsn|(^|[_-])sas([_-]|$)|signature)", re.IGNORECASE)
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
    re.compile(r"(?i)\bAccountKey=[A-Za-z0-9+/=]{20,}"),  # Azure storage connection string
    re.compile(r"(?i)[?&]sig=[A-Za-z0-9%+/=]{20,}"),  # Azure SAS signature
    re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),  # JWT
)
#: names that match SECRET_NAME but only point at a secret (an ARN, a Key Vault reference, a path)
REFERENCE_VALUE = re.compile(
    r"^(arn:aws[a-z-]*:(secretsmanager|ssm|kms):|\{\{resolve:|/|@Microsoft\.KeyVault\(|"
    r"projects/[^/]+/secrets/)")
#: attribute names holding free-form maps or text that users fill (matched on the whole name, any depth)
FREE_FORM = re.compile(
    r"^(.*[_-])?(tags|labels|metadata|annotations|env|environment|environment_variables|variables|vars|"
    r"settings|app_settings|parameters|properties|user_data|userdata|startup_script|custom_data|script)$",
    re.IGNORECASE)
#: ``NAME=value`` / ``NAME: value`` / ``export NAME="value"`` inside free-form text
ASSIGNMENT = re.compile(r"""(?m)^\s*(?:export\s+|set\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*[:=]\s*["']?([^"'\s#]+)""")




def _any_of(patterns: tuple[re.Pattern[str], ...]) -> re.Pattern[str]:
    """One pattern matching where any of ``patterns`` does (a leading ``(?i)`` kept to its own part)."""
    return re.compile("|".join(f"(?i:{p.pattern[4:]})" if p.pattern.startswith("(?i)") else f"(?:{p.pattern})"
                               for p in patterns))


#: SECRET_VALUE as one search: every fact's every string goes through it
_SECRET_VALUE_ANY = _any_of(SECRET_VALUE)


def content_looks_secret(value: str) -> bool:
    """A value that is a credential whatever it is called."""
    return _SECRET_VALUE_ANY.search(value) is not None


def looks_secret(name: str, value: str) -> bool:
    if content_looks_secret(value):
        return True
    return (bool(SECRET_NAME.search(name)) and not PLAIN_VALUE.match(value)
            and not REFERENCE_VALUE.match(value))


def text_looks_secret(text: str) -> bool:
    """Free-form text (a user-data script): a credential in it, or an assignment to a secret-like name."""
    if content_looks_secret(text):
        return True
    return any(looks_secret(name, value) for name, value in ASSIGNMENT.findall(text))


def secret_like_names(variables: Mapping[str, Any] | None) -> list[str]:
    """Names of the variables whose name or value looks like a secret (never the values)."""
    return sorted(name for name, value in (variables or {}).items() if looks_secret(name, str(value)))


def redact_attributes(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a fact's attributes with every secret-looking value replaced by :data:`MARKER`."""
    return {k: _redact(str(k), v, free_form=bool(FREE_FORM.match(str(k)))) for k, v in attributes.items()}


def _redact(name: str | None, value: Any, *, free_form: bool) -> Any:
    """``name`` is the key a value is stored under; list items have none (a list of names is not secret)."""
    if isinstance(value, str):
        if free_form:
            named = name is not None and looks_secret(name, value)
            return MARKER if named or text_looks_secret(value) else value
        return MARKER if _SECRET_VALUE_ANY.search(value) is not None else value
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, dict | Mapping):
        # inside a free-form map every key is user-chosen; elsewhere a nested free-form name starts one
        return {k: _redact(str(k), v, free_form=free_form or bool(FREE_FORM.match(str(k))))
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact(None, v, free_form=free_form) for v in value]
    return value
