"""A moto AWS Organization of hundreds of seeded member accounts, built fast enough to benchmark.

Seeding a member through the server (HTTP, an AssumeRole session and fresh boto3 clients per
account) cost about 5 s of CPU per account, and moto itself grew by ~30 MiB per account, so 100
or 500 accounts were out of reach. Measured (``cProfile``), the time went to:

- **moto's catalogue of ~1,300 AWS-managed IAM policies**, parsed and built again for every IAM
  backend; and moto's access-key lookup makes one backend per partition (6) of every account it
  walks past: ~1.1 s and 26 MiB per account. :func:`lean_moto` keeps the AWS-managed policies the
  seeding attaches and the scan reads by ARN (the scan lists *local* policies only, so its requests
  and results are unchanged);
- **moto's 1,296 default AMIs** (each with a volume and snapshot) built for every account and
  region: 0.4 s per account-region. Members are made with ``MOTO_EC2_LOAD_DEFAULT_AMIS=false``;
  the scan lists only images and snapshots the account owns, so nothing it reads changes;
- **botocore client classes**, built for every client of every new session: ~75 ms per client.

So members are seeded in this process, straight into the backends the server answers from:
boto3 clients, one per (service, region) for all accounts, whose requests moto's own in-process
dispatch (``mock_aws``) answers, the target account named by moto's ``x-moto-account-id``
header. Every member still gets its own resources (their own ids and ARNs), created through the
same public API calls as before, so recall stays meaningful; only the scan goes through the
server, the proxy and AssumeRole.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

ROLE = "OrganizationAccountAccessRole"
#: the AWS-managed policies the seeding attaches or the scan asks for by ARN
KEPT_AWS_POLICIES = ("AdministratorAccess", "AWSSupportAccess")
SEED_REGION = "us-east-1"

_target = threading.local()


@contextmanager
def lean_moto() -> Iterator[None]:
    """moto's IAM backends with :data:`KEPT_AWS_POLICIES` only (parsed once), while the block runs."""
    from moto.iam import models

    original = models.IAMBackend._init_aws_policies
    catalogue = json.loads(models.aws_managed_policies_data)
    kept = {name: catalogue[name] for name in KEPT_AWS_POLICIES}

    def kept_policies(backend: Any) -> list[Any]:
        if not models.load_iam_aws_managed_policies():
            return []
        return [models.AWSManagedPolicy.from_data(name, backend.account_id, backend.region_name, data)
                for name, data in kept.items()]

    models.IAMBackend._init_aws_policies = kept_policies
    try:
        yield
    finally:
        models.IAMBackend._init_aws_policies = original


@contextmanager
def without_default_amis() -> Iterator[None]:
    """EC2 backends made in the block start without moto's public AMI catalogue."""
    saved = os.environ.get("MOTO_EC2_LOAD_DEFAULT_AMIS")
    os.environ["MOTO_EC2_LOAD_DEFAULT_AMIS"] = "false"
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("MOTO_EC2_LOAD_DEFAULT_AMIS", None)
        else:
            os.environ["MOTO_EC2_LOAD_DEFAULT_AMIS"] = saved


def _name_account(request: Any, **_: Any) -> None:
    account = getattr(_target, "account", None)
    if account:
        request.headers["x-moto-account-id"] = account


class SharedClients:
    """boto3-session-like: one client per (service, region) for every account, answered in process.

    The account a request acts in is the calling thread's (:func:`acting_as`). Clients ignore
    ``AWS_ENDPOINT_URL`` so that moto's in-process dispatch, not the server, answers them.
    """

    def __init__(self) -> None:
        import boto3
        import botocore.session

        core = botocore.session.Session()
        core.set_config_variable("ignore_configured_endpoint_urls", True)
        core.get_component("event_emitter").register_first("before-sign", _name_account)
        self._session = boto3.Session(botocore_session=core, aws_access_key_id="testing",
                                      aws_secret_access_key="testing", region_name=SEED_REGION)
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def client(self, service: str, region_name: str | None = None) -> Any:
        key = (service, region_name or SEED_REGION)
        with self._lock:
            if key not in self._clients:
                self._clients[key] = self._session.client(service, region_name=key[1])
            return self._clients[key]


@contextmanager
def acting_as(account: str) -> Iterator[None]:
    """Requests of :class:`SharedClients` made by this thread in the block act in ``account``."""
    previous = getattr(_target, "account", None)
    _target.account = account
    try:
        yield
    finally:
        _target.account = previous


@contextmanager
def in_process() -> Iterator[SharedClients]:
    """moto's in-process dispatch on, over the backends the running server already holds (no reset)."""
    from moto import mock_aws

    mock = mock_aws()
    mock.start(reset=False)
    try:
        yield SharedClients()
    finally:
        mock.stop(remove_data=False)


def create_members(count: int, clients: SharedClients) -> list[str]:
    """An Organization (the caller's account manages it) with ``count`` member accounts; their ids."""
    orgs = clients.client("organizations")
    orgs.create_organization(FeatureSet="ALL")
    return [orgs.create_account(Email=f"member{n}@example.com", AccountName=f"member-{n:04d}")
            ["CreateAccountStatus"]["AccountId"] for n in range(count)]


def seed_members(members: Iterable[str], seed: Callable[[Any, str], int], threads: int = 1) -> int:
    """``seed(clients, account)`` for every member in process (see the module docstring); resources made."""
    with lean_moto(), without_default_amis(), in_process() as clients:
        def one(account: str) -> int:
            with acting_as(account):
                return seed(clients, account)

        with ThreadPoolExecutor(max(1, threads)) as pool:
            return sum(pool.map(one, members))
