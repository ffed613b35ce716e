"""The core redaction every fact passes through: free-form maps keep their keys, secret values become a marker."""

from __future__ import annotations

import io

from posture.facts import Fact, FactSet, FactWriter
from posture.secrets import MARKER, redact_attributes


def _fact(**attributes: object) -> Fact:
    return Fact("third-party", "s1", "global", "x.thing", "id-1", "thing", dict(attributes))


def test_a_tag_named_like_a_secret_keeps_its_key_and_loses_its_value() -> None:
    fact = _fact(tags={"owner": "ops", "db_password": "hunter2", "auth_enabled": "true"})
    assert fact.attributes["tags"] == {"owner": "ops", "db_password": MARKER, "auth_enabled": "true"}


def test_a_value_that_is_a_credential_is_redacted_whatever_its_name() -> None:
    fact = _fact(labels={"note": "key AKIAABCDEFGHIJKLMNOP"},
                 endpoint="https://admin:s3cret@db.example.com/x",
                 nested={"deep": ["-----BEGIN RSA PRIVATE KEY-----\nabc"]})
    assert fact.attributes["labels"] == {"note": MARKER}
    assert fact.attributes["endpoint"] == MARKER
    assert fact.attributes["nested"] == {"deep": [MARKER]}


def test_user_data_with_a_secret_assignment_becomes_a_marker() -> None:
    fact = _fact(user_data="#!/bin/sh\nexport DB_PASSWORD='hunter2'\necho hi\n", startup_script="echo hello\n")
    assert fact.attributes["user_data"] == MARKER
    assert fact.attributes["startup_script"] == "echo hello\n"


def test_environment_and_settings_maps_at_any_depth() -> None:
    attrs = redact_attributes({"site": {"app_settings": {"API_KEY": "abc123def", "WEBSITE_RUN_FROM_PACKAGE": "1"}},
                               "environment": {"TOKEN_TTL": "300", "SECRET_REF": "arn:aws:secretsmanager:x"}})
    assert attrs["site"]["app_settings"] == {"API_KEY": MARKER, "WEBSITE_RUN_FROM_PACKAGE": "1"}
    assert attrs["environment"] == {"TOKEN_TTL": "300", "SECRET_REF": "arn:aws:secretsmanager:x"}


def test_structured_attributes_named_like_secrets_are_left_alone() -> None:
    """Outside free-form maps a plugin's own attribute names decide (auth_type, secret_like_env_vars)."""
    fact = _fact(auth_type="AAD", secret_like_env_vars=["DB_PASSWORD"], password_enabled=True,
                 tags={"disaster_recovery": "tier-2"})
    assert fact.attributes["auth_type"] == "AAD"
    assert fact.attributes["secret_like_env_vars"] == ["DB_PASSWORD"]
    assert fact.attributes["tags"] == {"disaster_recovery": "tier-2"}


def test_a_fact_file_written_from_any_plugin_carries_no_planted_value() -> None:
    buf = io.StringIO()
    FactWriter(buf).write_set(FactSet(facts=[_fact(metadata={"api-token": "tok-planted-1234"})]))
    assert "tok-planted-1234" not in buf.getvalue() and MARKER in buf.getvalue()


def test_facts_read_back_from_an_old_fact_file_are_redacted_too() -> None:
    assert Fact.from_dict({"provider": "p", "scope": "s", "type": "t", "id": "i",
                           "attributes": {"tags": {"password": "pw-123456"}}}).attributes["tags"] == {
        "password": MARKER}
