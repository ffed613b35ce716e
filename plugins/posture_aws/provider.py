"""The AWS provider: plan (accounts, then units), collect (one unit).

No SDK import at module level: boto3 loads when a scan starts.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from posture.collecting import CloudProvider, Discovery, Failure, Target, UnitContext
from posture.facts import GLOBAL_REGION, CollectionError
from posture.provider import Option, ProviderError, Scope, UnitOutcome, WorkUnit
from posture_aws.collectors import registry
from posture_aws.context import PROVIDER, AwsContext
from posture_aws.errors import classify, error_code, error_message
from posture_aws.sessions import CredentialPath, SessionPool

OPTED_IN = ("opt-in-not-required", "opted-in")
DEFAULT_ROLE_NAME = "OrganizationAccountAccessRole"
INNER_POOL_SIZE = 16
#: accounts asked for their enabled regions at once while planning without --region
PLANNING_THREADS = 16


class AwsProvider(CloudProvider):
    """AWS: the caller's account or every account of its Organization, x enabled regions."""

    name = PROVIDER
    title = "Amazon Web Services"
    collectors = registry
    scope_level = "account"
    options = [
        Option("region", "Region to scan (repeatable; default: every enabled region)", multiple=True,
               metavar="REGION"),
        Option("profile", "AWS named profile (default: the standard credential chain)", envvar="AWS_PROFILE"),
        Option("role-arn", "IAM role to assume before scanning (cross-account)", metavar="ARN"),
        Option("external-id", "External id for --role-arn", metavar="ID"),
        Option("org", "Scan every active account of the AWS Organization", is_flag=True, default=False),
        Option("role-name", "Role assumed in each member account with --org", default=DEFAULT_ROLE_NAME),
        Option("aws-max-attempts", "botocore attempts per call (standard retries, adaptive rate limiting per account)", default=8, metavar="N"),
        Option("aws-read-timeout", "Seconds to wait for an AWS response before the call becomes an error",
               default=30.0, metavar="SECONDS"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None

    # -- shared, per-scan caches ----------------------------------------------------------
    def _pool(self, scan: str, options: Callable[[str], Any]) -> SessionPool:
        """The session pool of scan ``scan``, made on first use from its retry/timeout settings.

        Each scan gets its own (credentials and endpoints may have changed since the last); the few
        most recent stay cached, and a unit whose pool was evicted simply builds a new one.
        """
        def make() -> SessionPool:
            attempts = _positive(options("aws_max_attempts"), 8, int, "--aws-max-attempts")
            timeout = _positive(options("aws_read_timeout"), 30.0, float, "--aws-read-timeout")
            return SessionPool(max_attempts=attempts, read_timeout=timeout, max_pool_connections=64)

        return self.scan_state(scan, make)

    def _inner(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(INNER_POOL_SIZE, thread_name_prefix="posture-aws")
            return self._executor

    @staticmethod
    def _base_path(options: dict[str, Any]) -> CredentialPath:
        path = CredentialPath(options.get("profile") or None, (), options.get("external_id") or None)
        return path.then(options["role_arn"]) if options.get("role_arn") else path

    # -- plan -----------------------------------------------------------------------------
    def classify(self, exc: BaseException) -> Failure:
        return classify(exc)

    def discover(self, fact_types: set[str], options: dict[str, Any], scan: str) -> Discovery:
        """Accounts to scan, each with its enabled regions (account-level collectors run once per
        account, region-level ones per region)."""
        pool = self._pool(scan, options.get)
        partition, accounts = self._accounts(pool, options)
        _check_regions(options.get("region") or (), partition)
        if options.get("org") and "aws.iam.root_account" in fact_types:
            options = {**options, "root_managed_accounts": self._root_managed_accounts(pool, options, accounts)}
        targets, errors = self._targets(pool, partition, accounts, fact_types, options)
        return Discovery([scope for scope, _ in accounts], targets, errors)

    def _accounts(self, pool: SessionPool, options: dict[str, Any]
                  ) -> tuple[str, list[tuple[Scope, CredentialPath]]]:
        """The partition, and the caller's account or every active account of its Organization (``--org``),
        each with the credential path that reaches it."""
        base = self._base_path(options)
        try:
            ident = pool.client(base, "sts", pool.default_region(base)).get_caller_identity()
        except Exception as exc:
            raise ProviderError(f"aws: cannot identify the caller: {error_code(exc)}: "
                                f"{error_message(exc)}") from None
        partition, me = ident["Arn"].split(":")[1], ident["Account"]
        if not options.get("org"):
            return partition, [(Scope(PROVIDER, me, me, "account"), base)]
        orgs = pool.client(base, "organizations", pool.default_region(base))
        try:
            org_id = orgs.describe_organization()["Organization"]["Id"]
            listed = [a for page in orgs.get_paginator("list_accounts").paginate() for a in page["Accounts"]]
        except Exception as exc:
            raise ProviderError(f"aws: --org: cannot list the organization's accounts: {error_code(exc)}: "
                                f"{error_message(exc)}") from None
        role_name = options.get("role_name") or DEFAULT_ROLE_NAME
        accounts = []
        for acct in sorted(listed, key=lambda a: a["Id"]):
            if acct.get("Status", "ACTIVE") != "ACTIVE":
                continue
            path = base if acct["Id"] == me else base.then(f"arn:{partition}:iam::{acct['Id']}:role/{role_name}")
            accounts.append((Scope(PROVIDER, acct["Id"], acct.get("Name", acct["Id"]), "account", org_id), path))
        return partition, accounts

    def _root_managed_accounts(self, pool: SessionPool, options: dict[str, Any],
                               accounts: list[tuple[Scope, CredentialPath]]) -> tuple[str, ...]:
        """Member accounts whose root credentials the organization manages centrally (IAM
        ``ListOrganizationsFeatures`` from the management account: ``RootCredentialsManagement``). Their
        root user has no password to protect with MFA. Unknown (denied, not the management account): none."""
        base = self._base_path(options)
        try:
            iam = pool.client(base, "iam", pool.default_region(base))
            features = iam.list_organizations_features().get("EnabledFeatures") or []
            management = pool.client(base, "organizations", pool.default_region(base)).describe_organization()[
                "Organization"]["MasterAccountId"]
        except Exception:  # noqa: BLE001 - without the answer every root user is judged on its own MFA
            return ()
        if "RootCredentialsManagement" not in features:
            return ()
        return tuple(scope.id for scope, _ in accounts if scope.id != management)

    def _targets(self, pool: SessionPool, partition: str, accounts: list[tuple[Scope, CredentialPath]],
                 fact_types: set[str], options: dict[str, Any]) -> tuple[list[Target], list[CollectionError]]:
        targets: list[Target] = []
        errors: list[CollectionError] = []
        if not fact_types.intersection(self.fact_types):
            return targets, errors
        for (scope, path), found in zip(accounts, self._account_regions(pool, accounts, options), strict=True):
            if isinstance(found, BaseException):  # one account's failure never stops the others
                errors.extend(CollectionError(PROVIDER, scope.id, GLOBAL_REGION, ft, error_code(found),
                                              f"account {scope.id} could not be scanned: {error_message(found)}")
                              for ft in sorted(fact_types))
                continue
            home, regions = found
            common = (("profile", path.profile), ("roles", path.roles),
                      ("external_id", path.external_id), ("partition", partition), ("home_region", home),
                      ("regions", tuple(regions)), ("aws_max_attempts", options.get("aws_max_attempts")),
                      ("aws_read_timeout", options.get("aws_read_timeout")),
                      ("root_managed_centrally", scope.id in (options.get("root_managed_accounts") or ())))
            targets.append(Target(scope, tuple(regions), common))
        return targets, errors

    def _account_regions(self, pool: SessionPool, accounts: list[tuple[Scope, CredentialPath]],
                         options: dict[str, Any]) -> list[tuple[str, list[str]] | BaseException]:
        """Each account's home region and regions to scan, or why they could not be read, in account order.

        Without ``--region`` every account is asked for its enabled regions (an AssumeRole and a
        DescribeRegions each): asked :data:`PLANNING_THREADS` at a time, not one after the other, in
        the plan's counting context so the requests are the plan's.
        """
        def one(path: CredentialPath) -> tuple[str, list[str]] | BaseException:
            try:
                home = pool.default_region(path)
                regions = self._regions(pool, path, home, options)
            except Exception as exc:  # noqa: BLE001 - reported for this account only
                return exc
            return (home if home in regions else regions[0]), regions

        if [r for r in (options.get("region") or ()) if r] or len(accounts) < 2:
            return [one(path) for _, path in accounts]  # no request to make, or only one
        with ThreadPoolExecutor(min(PLANNING_THREADS, len(accounts)), thread_name_prefix="posture-aws-plan") as ex:
            # the context is copied here, in the planning thread, so the counter is the plan's
            futures = [ex.submit(contextvars.copy_context().run, one, path) for _, path in accounts]
            return [f.result() for f in futures]

    def _regions(self, pool: SessionPool, path: CredentialPath, home: str, options: dict[str, Any]) -> list[str]:
        """``--region`` values, else the enabled regions (EC2 DescribeRegions, opt-in status filtered)."""
        chosen = [r for r in (options.get("region") or ()) if r]
        if chosen:  # the account's role is assumed when its first unit runs, not all up front
            return list(dict.fromkeys(chosen))
        resp = pool.client(path, "ec2", home).describe_regions(AllRegions=True,
                                    Filters=[{"Name": "opt-in-status", "Values": list(OPTED_IN)}])
        regions = sorted(r["RegionName"] for r in resp.get("Regions", [])
                         if r.get("OptInStatus", "opt-in-not-required") in OPTED_IN)
        if not regions:
            raise ProviderError("aws: DescribeRegions returned no enabled region")
        return regions

    # -- collect --------------------------------------------------------------------------
    def collect(self, unit: WorkUnit) -> UnitOutcome:
        """One unit, its account's retry state kept while it runs (dropped when its account is idle)."""
        pool = self._pool(unit.option("scan", ""), unit.option)
        with pool.holding(AwsContext.credential_path(unit)):
            return super().collect(unit)

    def context(self, unit: WorkUnit) -> UnitContext:
        return AwsContext(unit, self._pool(unit.option("scan", ""), unit.option), self._inner())


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


def _check_regions(chosen: Any, partition: str) -> None:
    """Refuse a ``--region`` botocore does not know in the caller's partition before any call is made:
    a typo would otherwise cost every unit a run of connection retries and end as a wall of errors."""
    import difflib

    import boto3

    known = set(boto3.Session().get_available_regions("ec2", partition_name=partition))
    unknown = [r for r in chosen if r and r not in known]
    if not known or not unknown:
        return
    hints = [f"{r} (did you mean {close[0]}?)" if (close := difflib.get_close_matches(r, sorted(known), 1)) else r
             for r in unknown]
    raise ProviderError(f"aws: unknown region {', '.join(hints)} in partition {partition} "
                        "(`aws ec2 describe-regions --all-regions` lists them)")
