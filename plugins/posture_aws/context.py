"""What an AWS collector sees while it runs one work unit: the toolkit's context plus boto3 clients.

A collector asks for clients, reads pages, and records facts inside
``with ctx.feeding(fact_types):`` blocks (:mod:`posture.collecting`): if a call in the block fails
(denied, throttled past retries, timed out, endpoint missing), the fact types of that block become
errors with the AWS error code and the rest of the unit carries on.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import Executor
from typing import Any

from posture.collecting import UnitContext
from posture.facts import GLOBAL_REGION
from posture.provider import WorkUnit
from posture_aws.errors import classify
from posture_aws.sessions import CredentialPath, SessionPool

PROVIDER = "aws"


class AwsContext(UnitContext):
    """One account x (region x) collector unit, with the scan's session pool.

    ``region`` is where clients are made: the unit's region, or the account's home region for a
    collector that runs once per account (whose facts are in region ``global``).
    """

    def __init__(self, unit: WorkUnit, pool: SessionPool, executor: Executor) -> None:
        super().__init__(unit, classify, executor=executor)
        self.pool = pool
        self.path = self.credential_path(unit)
        self.partition: str = unit.option("partition", "aws")
        self.home_region: str = unit.option("home_region", "us-east-1")
        self.regions: tuple[str, ...] = tuple(unit.option("regions", ()))
        self.region = unit.region if unit.region != GLOBAL_REGION else self.home_region

    @staticmethod
    def credential_path(unit: WorkUnit) -> CredentialPath:
        """How ``unit``'s account is reached (the caller's profile, then the roles to assume)."""
        return CredentialPath(unit.option("profile"), tuple(unit.option("roles", ())), unit.option("external_id"))

    @property
    def account(self) -> str:
        return self.unit.scope

    def client(self, service: str, region: str | None = None) -> Any:
        return self.pool.client(self.path, service, region or self.region)

    def pages(self, client: Any, operation: str, result_key: str, **kwargs: Any) -> Iterator[Any]:
        """Every item under ``result_key`` across all pages of ``operation``."""
        if client.can_paginate(operation):
            for page in client.get_paginator(operation).paginate(**kwargs):
                yield from page.get(result_key, []) or []
        else:
            yield from getattr(client, operation)(**kwargs).get(result_key, []) or []

    def arn(self, service: str, resource: str, region: str | None = None) -> str:
        reg = "" if region is None else region
        return f"arn:{self.partition}:{service}:{reg}:{self.account}:{resource}"


def iso(value: Any) -> str | None:
    """Timestamps as ISO-8601 strings with a timezone."""
    if value is None:
        return None
    if hasattr(value, "isoformat"):
        if getattr(value, "tzinfo", None) is None:
            from datetime import UTC

            value = value.replace(tzinfo=UTC)
        return value.isoformat()
    return str(value)


def tag_keys(tags: Iterable[dict[str, Any]] | None, key: str = "Key") -> list[str]:
    """Tag *keys* only: tag values may hold secrets, and required-tag checks need only keys."""
    return sorted({t[key] for t in tags or ()})
