"""Endpoint and universe-domain resolution, and error classification of both error-body shapes."""

from __future__ import annotations

import json

import pytest
from posture_gcp.settings import GcpSettings


def test_one_base_url_serves_every_api() -> None:
    s = GcpSettings.from_options({"gcp_api_endpoint": "http://127.0.0.1:8080/"})
    assert s.endpoint_for("compute") == s.endpoint_for("sqladmin") == "http://127.0.0.1:8080"


def test_endpoint_template_gives_per_service_hosts() -> None:
    s = GcpSettings.from_options({"gcp_api_endpoint": "https://{service}-psc.p.example.com"})
    assert s.endpoint_for("storage") == "https://storage-psc.p.example.com"


def test_universe_domain_builds_service_hosts_and_reaches_client_options() -> None:
    s = GcpSettings.from_options({"gcp_universe_domain": "apis-tpc.example"})
    assert s.client_options("compute") == {"api_endpoint": "https://compute.apis-tpc.example",
                                           "universe_domain": "apis-tpc.example"}


def test_endpoint_comes_from_the_environment_when_no_option(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POSTURE_GCP_UNIVERSE_DOMAIN", raising=False)
    monkeypatch.setenv("POSTURE_GCP_API_ENDPOINT", "http://127.0.0.1:9999")
    assert GcpSettings.from_options({}).endpoint_for("iam") == "http://127.0.0.1:9999"
    monkeypatch.delenv("POSTURE_GCP_API_ENDPOINT")
    assert GcpSettings.from_options({}).client_options("iam") == {}


def test_settings_round_trip_through_a_work_unit() -> None:
    s = GcpSettings.from_options({"gcp_api_endpoint": "http://x", "gcp_max_retries": "3", "gcp_ca_bundle": "/ca.pem"})
    assert GcpSettings.from_options(dict(s.as_options())) == s


def _http_error(status: int, body: dict) -> Exception:
    import httplib2
    from googleapiclient.errors import HttpError

    return HttpError(httplib2.Response({"status": status}), json.dumps(body).encode())


def test_legacy_access_not_configured_reason_is_not_applicable() -> None:
    from posture_gcp.errors import classify

    failure = classify(_http_error(403, {"error": {"code": 403, "message": "disabled",
                                                   "errors": [{"reason": "accessNotConfigured"}]}}))
    assert (failure.code, failure.not_applicable) == ("accessNotConfigured", True)


def test_status_is_derived_from_http_code_when_the_body_has_none() -> None:
    from posture_gcp.errors import classify, is_retryable

    err = _http_error(429, {"error": {"code": 429, "message": "slow down"}})
    assert classify(err).code == "RESOURCE_EXHAUSTED" and is_retryable(err)
    denied = _http_error(403, {"error": {"code": 403, "message": "no", "errors": [{"reason": "forbidden"}]}})
    assert (classify(denied).code, is_retryable(denied)) == ("PERMISSION_DENIED", False)
