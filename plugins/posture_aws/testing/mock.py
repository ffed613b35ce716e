"""A seeded, local moto AWS account for ``posture demo``, benchmarks and tests.

``mock_account`` starts moto's ThreadedMotoServer on 127.0.0.1 (ephemeral
port), points the standard AWS environment at it (AWS_ENDPOINT_URL, test
credentials, no metadata probing), seeds resources and yields the provider
options to scan it with. The environment is restored on exit.
"""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

MOCK_ACCOUNT = "123456789012"
HARDENED_ACCOUNT = "210987654321"
CLEARED_ENV = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ROLE_ARN",
               "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
               "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")


@contextmanager
def patched_env(values: dict[str, str], cleared: tuple[str, ...] = CLEARED_ENV) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in (*values, *cleared)}
    try:
        for k in cleared:
            os.environ.pop(k, None)
        os.environ.update(values)
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextmanager
def moto_server() -> Iterator[str]:
    """A ThreadedMotoServer on 127.0.0.1 with an ephemeral port; yields its URL."""
    import logging

    from moto.moto_server.threaded_moto_server import MotoRequestHandler, make_server
    from moto.server import DomainDispatcherApplication, ThreadedMotoServer, create_backend_app

    from posture_aws.testing import missing_apis

    class Server(ThreadedMotoServer):
        """moto, with the few read APIs it lacks answered in front of it (posture_aws.testing.missing_apis)."""

        def _server_entry(self) -> None:
            app = missing_apis.MissingApis(DomainDispatcherApplication(create_backend_app))
            self._server = make_server(self._ip_address, self._port, app, True, request_handler=MotoRequestHandler)
            self._server_ready_event.set()
            self._server.serve_forever()

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    missing_apis.reset()
    server = Server(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    try:
        # moto's backends live in this process: start from an empty account every time
        urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"), timeout=30).close()
        yield url
    finally:
        server.stop()


def mock_env(endpoint: str, region: str) -> dict[str, str]:
    return {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": region, "AWS_REGION": region, "AWS_EC2_METADATA_DISABLED": "true",
            "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}


def assumed_session(account: str, region: str, role_name: str = "OrganizationAccountAccessRole") -> Any:
    """A boto3 session in another moto account (moto maps assumed-role credentials to the role's account)."""
    import boto3

    creds = boto3.client("sts", region_name=region).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/{role_name}", RoleSessionName="seed")["Credentials"]
    return boto3.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                         aws_session_token=creds["SessionToken"], region_name=region)


@contextmanager
def mock_account(scale: int = 1, regions: tuple[str, ...] = ("us-east-1", "eu-west-1"),
                 hardened_account: bool = False) -> Iterator[dict[str, Any]]:
    """Start moto, seed about 50 resources (52 at scale 1) per ``scale`` unit, yield the provider options.

    With ``hardened_account`` a second account (:data:`HARDENED_ACCOUNT`) gets
    the account-level settings right; scan it with ``role_arn`` from
    ``options["hardened_role_arn"]``. Keys other than ``region`` describe the
    mock (endpoint, resource count, seeded ids) and are not provider options.
    """
    import boto3

    from posture_aws.testing.seed import Seeder

    with patched_env({"MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}, ()), moto_server() as endpoint, \
            patched_env(mock_env(endpoint, regions[0])):
        seeder = Seeder(boto3.Session(region_name=regions[0]), MOCK_ACCOUNT, regions, scale)
        count = seeder.seed_mixed()
        options: dict[str, Any] = {"region": list(regions), "endpoint": endpoint, "resources": count,
                                   "ids": seeder.ids}
        if hardened_account:
            Seeder(assumed_session(HARDENED_ACCOUNT, regions[0]), HARDENED_ACCOUNT, regions).seed_hardened()
            options["hardened_role_arn"] = f"arn:aws:iam::{HARDENED_ACCOUNT}:role/OrganizationAccountAccessRole"
        yield options
