"""Collection on Celery workers (real RabbitMQ + Redis, `posture worker` subprocesses, a moto organisation).

Skipped, naming what is missing, when RabbitMQ (127.0.0.1:5672) or Redis (127.0.0.1:6379) is absent.
Every test uses a queue of its own, so suites running at once on one broker never serve each other.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from posture_aws.provider import AwsProvider
from posture_aws.testing.fault_proxy import fault_proxy

from posture.collect import collect
from posture.facts import FactSet
from tests.aws.celery_support import (
    BACKEND,
    BROKER,
    RABBITMQ,
    TcpProxy,
    Worker,
    aws_env,
    moto_organization,
    require_services,
    workers,
)

ROLE = "OrganizationAccountAccessRole"
#: account-level (IAM, S3) and regional (EC2, CloudTrail) collectors: enough to spread over workers, quick
FACT_TYPES = {"aws.iam.password_policy", "aws.iam.user", "aws.s3.bucket", "aws.ec2.ebs_encryption_default",
              "aws.cloudtrail.trail"}
ORG_OPTIONS = {"region": ["us-east-1"], "org": True, "role_name": ROLE, "aws_max_attempts": 2}


@pytest.fixture(scope="module")
def org() -> Iterator[dict[str, Any]]:
    require_services()
    with moto_organization(members=2) as found, fault_proxy(found["endpoint"]) as proxy:
        yield {**found, "proxy": proxy}


@pytest.fixture
def aws_at(org: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """This process's AWS SDK pointed at the organisation (through the counting proxy)."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", org["proxy"].url)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    org["proxy"].clear()
    return org


def queue() -> str:
    return f"posture.test.{uuid.uuid4().hex[:10]}"


def celery(broker_port: int, q: str, **kw: Any) -> Any:
    from posture.executors.celery_executor import CeleryExecutor

    return CeleryExecutor(BROKER.format(port=broker_port), BACKEND, queue=q, **kw)


def scan(options: dict[str, Any], executor: Any = None) -> FactSet:
    provider = AwsProvider()
    return collect([provider], FACT_TYPES, options, concurrency=8, executor=executor)


def same_collection(got: FactSet, want: FactSet) -> None:
    assert [f.to_dict() for f in got.facts] == [f.to_dict() for f in want.facts]
    assert got.errors == want.errors
    assert got.coverage == want.coverage
    assert got.scopes == want.scopes


@pytest.fixture(scope="module")
def local_org_scan(org: dict[str, Any]) -> tuple[FactSet, dict[str, int]]:
    """The reference: the organisation collected on local threads, and the requests it made per API."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_ENDPOINT_URL", org["proxy"].url)
        mp.delenv("AWS_SESSION_TOKEN", raising=False)
        org["proxy"].clear()
        facts = scan(ORG_OPTIONS)
        return facts, dict(org["proxy"].counts)


@pytest.fixture(scope="module")
def two_workers(org: dict[str, Any]) -> Iterator[str]:
    """Two `posture worker` processes on a queue of their own; yields the queue."""
    q = queue()
    with workers(2, BROKER.format(port=RABBITMQ[1]), q, org["proxy"].url):
        yield q


def test_celery_workers_collect_what_local_threads_collect_with_the_same_requests(
        aws_at: dict[str, Any], local_org_scan: tuple[FactSet, dict[str, int]], two_workers: str) -> None:
    local, local_requests = local_org_scan
    aws_at["proxy"].clear()
    executor = celery(RABBITMQ[1], two_workers)
    facts = scan(ORG_OPTIONS, executor)
    assert executor.lost is None
    assert len({s["id"] for s in facts.scopes}) == 3 and facts.facts
    same_collection(facts, local)
    assert dict(aws_at["proxy"].counts) == local_requests
    assert facts.metadata["requests"] == local.metadata["requests"] == sum(local_requests.values())


def test_two_concurrent_scans_on_one_broker_and_queue_stay_apart(
        aws_at: dict[str, Any], local_org_scan: tuple[FactSet, dict[str, int]], two_workers: str) -> None:
    member = aws_at["members"][0]
    one_account = {"region": ["us-east-1"], "role_arn": f"arn:aws:iam::{member}:role/{ROLE}", "aws_max_attempts": 2}
    local_one = scan(one_account)
    results: dict[str, FactSet] = {}
    threads = [threading.Thread(target=lambda k=k, o=o: results.__setitem__(k, scan(o, celery(RABBITMQ[1],
                                                                                            two_workers))))
               for k, o in (("org", ORG_OPTIONS), ("one", one_account))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    same_collection(results["org"], local_org_scan[0])
    same_collection(results["one"], local_one)
    assert {f.scope for f in results["one"].facts} == {member}


def test_a_worker_killed_mid_unit_loses_no_unit(
        aws_at: dict[str, Any], local_org_scan: tuple[FactSet, dict[str, int]]) -> None:
    proxy, q = aws_at["proxy"], queue()
    broker = BROKER.format(port=RABBITMQ[1])
    held = proxy.add_delay(lambda r: r.action == "GetAccountPasswordPolicy", 30)
    first = Worker(broker, q, proxy.url).wait_ready()
    second = None
    result: dict[str, FactSet] = {}
    scanning = threading.Thread(target=lambda: result.__setitem__("facts", scan(ORG_OPTIONS, celery(RABBITMQ[1], q))))
    scanning.start()
    try:
        _wait(lambda: held.hits >= 1, "a unit to reach GetAccountPasswordPolicy")
        first.kill()  # mid-unit: that unit's batch was never acknowledged
        held.delay_s = 0
        second = Worker(broker, q, proxy.url).wait_ready()
        scanning.join(120)
    finally:
        held.delay_s = 0
        for w in (first, second):
            if w is not None:
                w.stop()
    assert not scanning.is_alive(), "the scan never finished: a unit was lost with the killed worker"
    same_collection(result["facts"], local_org_scan[0])
    assert held.hits > len(local_org_scan[0].scopes), "the killed worker's units were not run again"


def test_a_broker_that_goes_away_ends_the_scan_with_exit_2_and_partial_results(
        aws_at: dict[str, Any], tmp_path: Path) -> None:
    proxy, q = aws_at["proxy"], queue()
    stalled = aws_at["members"][-1]
    # the last member's batch never finishes while the broker is there: S3 Control names the account it asks
    # about, and holding that call holds nothing else (an AssumeRole would: sessions are made under one lock)
    held = proxy.add_delay(lambda r: r.headers.get("x-amz-account-id") == stalled, 30)
    broker_proxy = TcpProxy(RABBITMQ)
    broker = BROKER.format(port=broker_proxy.port)
    worker = Worker(broker, q, proxy.url, concurrency=8).wait_ready()  # the held batch leaves threads for the rest
    cmd = [sys.executable, "-c", "from posture.cli import main; main()", "-v", "scan", "--provider", "aws", "--org",
           "--role-name", ROLE, "--region", "us-east-1", "--service", "s3", "--aws-max-attempts", "2",
           "--executor", "celery", "--broker", broker, "--backend", BACKEND, "--queue", q,
           "--format", "json", "--output-dir", str(tmp_path), "--no-store"]
    proc = subprocess.Popen(cmd, env={**aws_env(proxy.url), "POSTURE_BROKER_GRACE": "2"}, stderr=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stderr.readline, "")), daemon=True)
    reader.start()
    try:
        others = [a for a in ("123456789012", *aws_at["members"]) if a != stalled]
        _wait(lambda: all(any(f" {a}: " in line and "back" in line for line in lines) for a in others),
              "the other accounts' units")
        broker_proxy.close()
        code = proc.wait(60)
    finally:
        held.delay_s = 0
        worker.kill()
        if proc.poll() is None:
            proc.kill()
    reader.join(5)
    stderr = "".join(lines)
    assert code == 2, stderr[-3000:]
    assert "went away" in stderr and "wrote the partial results" in stderr
    report = json.loads((tmp_path / "posture-report.json").read_text())
    assert report["metadata"]["executor_lost"].startswith("the Celery broker")
    by_scope: dict[str, set[str]] = {}
    for r in report["results"]:
        by_scope.setdefault(r["scope"], set()).add(r["status"])
    assert set(by_scope) == {"123456789012", *aws_at["members"]}
    assert by_scope[stalled] == {"error"}
    assert all(statuses - {"error"} for scope, statuses in by_scope.items() if scope != stalled), by_scope
    codes = {r.get("error_code") for r in report["results"] if r["scope"] == stalled}
    assert codes == {"BrokerUnavailable"}, codes


def _wait(condition: Any, what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
