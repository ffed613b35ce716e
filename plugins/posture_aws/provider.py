"""The AWS provider: scopes (accounts), plan (units), collect (one unit).

No SDK import at module level: boto3 loads when a scan starts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from posture.facts import GLOBAL_REGION, CollectionError
from posture.provider import Option, ProviderError, Scope, UnitOutcome, WorkUnit
from posture_aws.context import PROVIDER, UnitContext
from posture_aws.errors import error_code, error_message
from posture_aws.registry import BY_NAME, COLLECTORS, FACT_TYPES
from posture_aws.sessions import CURRENT_COUNTER, CredentialPath, RequestCounter, SessionPool

OPTED_IN = ("opt-in-not-required", "opted-in")
DEFAULT_ROLE_NAME = "OrganizationAccountAccessRole"
INNER_POOL_SIZE = 16


class AwsProvider:
    name = PROVIDER
    title = "Amazon Web Services"
    fact_types = FACT_TYPES
    options = [
        Option("region", "Region to scan (repeatable; default: every enabled region)", multiple=True,
               metavar="REGION"),
        Option("profile", "AWS named profile (default: the standard credential chain)", envvar="AWS_PROFILE"),
        Option("role-arn", "IAM role to assume before scanning (cross-account)", metavar="ARN"),
        Option("external-id", "External id for --role-arn", metavar="ID"),
        Option("org", "Scan every active account of the AWS Organization", is_flag=True, default=False),
        Option("role-name", "Role assumed in each member account with --org", default=DEFAULT_ROLE_NAME),
        Option("aws-max-attempts", "botocore attempts per call (adaptive retry mode)", default=8, metavar="N"),
        Option("aws-read-timeout", "Seconds to wait for an AWS response before the call becomes an error",
               default=30.0, metavar="SECONDS"),
    ]

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pools: dict[tuple[int, float], SessionPool] = {}
        self._executor: ThreadPoolExecutor | None = None
        self._planning = RequestCounter()
        self._plan_errors: list[CollectionError] = []
        self._paths: dict[str, CredentialPath] = {}
        self._partition = "aws"

    # -- shared state -------------------------------------------------------------------
    def _pool(self, options: Callable[[str], Any]) -> SessionPool:
        """The session pool for these retry/timeout settings (``options``: scan options' or a unit's getter)."""
        key = (_positive(options("aws_max_attempts"), 8, int, "--aws-max-attempts"),
               _positive(options("aws_read_timeout"), 30.0, float, "--aws-read-timeout"))
        with self._lock:
            if key not in self._pools:
                self._pools[key] = SessionPool(max_attempts=key[0], read_timeout=key[1], max_pool_connections=64)
            return self._pools[key]

    def _inner(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(INNER_POOL_SIZE, thread_name_prefix="posture-aws")
            return self._executor

    def _reset(self) -> None:
        """A new scan: fresh sessions and clients (credentials, endpoints may have changed), no old errors."""
        with self._lock:
            self._pools.clear()
            self._planning = RequestCounter()
            self._plan_errors = []
            self._paths = {}

    def planning_requests(self) -> int:
        return self._planning.value

    def plan_errors(self) -> list[CollectionError]:
        return list(self._plan_errors)

    @staticmethod
    def _base_path(options: dict[str, Any]) -> CredentialPath:
        path = CredentialPath(options.get("profile") or None, (), options.get("external_id") or None)
        return path.then(options["role_arn"]) if options.get("role_arn") else path

    # -- scopes ---------------------------------------------------------------------------
    def scopes(self, options: dict[str, Any]) -> list[Scope]:
        """The caller's account, or every active account of its Organization with ``--org``."""
        self._reset()
        token = CURRENT_COUNTER.set(self._planning)
        try:
            pool = self._pool(options.get)
            base = self._base_path(options)
            try:
                ident = pool.client(base, "sts", pool.default_region(base)).get_caller_identity()
            except Exception as exc:
                raise ProviderError(f"aws: cannot identify the caller: {error_code(exc)}: "
                                    f"{error_message(exc)}") from None
            self._partition = ident["Arn"].split(":")[1]
            me = ident["Account"]
            self._paths = {me: base}
            if not options.get("org"):
                return [Scope(PROVIDER, me, me, "account")]
            return self._org_scopes(pool, base, me, options)
        finally:
            CURRENT_COUNTER.reset(token)

    def _org_scopes(self, pool: SessionPool, base: CredentialPath, me: str, options: dict[str, Any]) -> list[Scope]:
        orgs = pool.client(base, "organizations", pool.default_region(base))
        try:
            org_id = orgs.describe_organization()["Organization"]["Id"]
            accounts = [a for page in orgs.get_paginator("list_accounts").paginate() for a in page["Accounts"]]
        except Exception as exc:
            raise ProviderError(f"aws: --org: cannot list the organization's accounts: {error_code(exc)}: "
                                f"{error_message(exc)}") from None
        role_name = options.get("role_name") or DEFAULT_ROLE_NAME
        scopes = []
        for acct in sorted(accounts, key=lambda a: a["Id"]):
            if acct.get("Status", "ACTIVE") != "ACTIVE":
                continue
            if acct["Id"] != me:
                self._paths[acct["Id"]] = base.then(f"arn:{self._partition}:iam::{acct['Id']}:role/{role_name}")
            scopes.append(Scope(PROVIDER, acct["Id"], acct.get("Name", acct["Id"]), "account", org_id))
        return scopes

    # -- plan -----------------------------------------------------------------------------
    def plan(self, scopes: list[Scope], fact_types: set[str], options: dict[str, Any]) -> list[WorkUnit]:
        """Units for the collectors producing ``fact_types``: global ones once per account, regional per region."""
        collectors = [c for c in COLLECTORS if fact_types.intersection(c.fact_types)]
        if not collectors:
            return []
        token = CURRENT_COUNTER.set(self._planning)
        try:
            pool = self._pool(options.get)
            units: list[WorkUnit] = []
            for scope in scopes:
                path = self._paths.get(scope.id) or self._base_path(options)
                try:
                    home = pool.default_region(path)
                    regions = self._regions(pool, path, home, options)
                except Exception as exc:  # one account's failure never stops the others
                    code = error_code(exc)
                    self._plan_errors.extend(
                        CollectionError(PROVIDER, scope.id, GLOBAL_REGION, ft, code,
                                        f"account {scope.id} could not be scanned: {error_message(exc)}")
                        for ft in sorted(fact_types))
                    continue
                home = home if home in regions else regions[0]
                common = (("profile", path.profile), ("roles", path.roles), ("external_id", path.external_id),
                          ("partition", self._partition), ("home_region", home), ("regions", tuple(regions)),
                          ("aws_max_attempts", options.get("aws_max_attempts")),
                          ("aws_read_timeout", options.get("aws_read_timeout")))
                for c in collectors:
                    wanted = tuple(sorted(fact_types.intersection(c.fact_types)))
                    for region in (regions if c.regional else [GLOBAL_REGION]):
                        units.append(WorkUnit(PROVIDER, scope.id, region, c.name, wanted, common))
            return units
        finally:
            CURRENT_COUNTER.reset(token)

    def _regions(self, pool: SessionPool, path: CredentialPath, home: str, options: dict[str, Any]) -> list[str]:
        """``--region`` values, else the enabled regions (EC2 DescribeRegions, opt-in status filtered)."""
        chosen = [r for r in (options.get("region") or ()) if r]
        ec2 = pool.client(path, "ec2", chosen[0] if chosen else home)
        if chosen:  # creating the client above already assumed the account's role, if any
            return list(dict.fromkeys(chosen))
        resp = ec2.describe_regions(AllRegions=True,
                                    Filters=[{"Name": "opt-in-status", "Values": list(OPTED_IN)}])
        regions = sorted(r["RegionName"] for r in resp.get("Regions", [])
                         if r.get("OptInStatus", "opt-in-not-required") in OPTED_IN)
        if not regions:
            raise ProviderError("aws: DescribeRegions returned no enabled region")
        return regions

    # -- collect --------------------------------------------------------------------------
    def collect(self, unit: WorkUnit) -> UnitOutcome:
        counter = RequestCounter()
        token = CURRENT_COUNTER.set(counter)
        ctx = UnitContext(unit, self._pool(unit.option), self._inner(), counter)
        try:
            BY_NAME[unit.collector].function()(ctx)
        except Exception as exc:  # a collector bug still yields data for what it did not reach
            done = {c.fact_type for c in ctx.coverage} | {e.fact_type for e in ctx.errors}
            ctx.error([ft for ft in unit.fact_types if ft not in done], exc)
        finally:
            CURRENT_COUNTER.reset(token)
        return ctx.outcome()




def _positive(value: Any, default: float, kind: Callable[[Any], Any], flag: str) -> Any:
    """``value`` as a positive ``kind``; a bad value is a configuration error (exit 2), not a traceback."""
    if value is None or value == "":
        return kind(default)
    try:
        number = kind(value)
    except (TypeError, ValueError):
        number = None
    if number is None or number <= 0:
        raise ProviderError(f"aws: {flag} must be a positive number, not {value!r}")
    return number
