"""Benchmark an AWS Organization scan (``--org``) against a moto organisation of N member accounts.

    .venv/bin/python benchmarks/org_scan.py --accounts 20 --latency-ms 30 --concurrency 16
    .venv/bin/python benchmarks/org_scan.py --accounts 100 --tracemalloc 10   # top allocation sites

moto runs in this process on 127.0.0.1: an Organization with N member accounts
(Organizations CreateAccount), each seeded through the public API with a few
compliant and misconfigured resources in 2 regions (the demo seeder's IAM mix,
audit services on in the first region, a forgotten security group, volume and
log group in the second). Members are seeded in process, straight into the
backends the server answers from (posture_aws.testing.org: ~0.3 s of CPU per
account instead of ~5 s through HTTP); the scan reaches each of them by
AssumeRole into ``OrganizationAccountAccessRole`` through the server. A loopback
proxy (posture_aws.testing.fault_proxy) adds the latency and counts every HTTP
request (``--json``: by operation).

The scan runs in a child process (``posture scan --provider aws --org
--role-name OrganizationAccountAccessRole``, through ``Pipeline.run``) so that its
peak RSS (VmHWM), CPU time (user+system: what a loaded machine does not
distort, unlike wall time) and planning time are its own.

Recall: a single-account scan of the first member (``--role-arn``) is the
reference; every failure it finds must be found in every member account of the
organisation scan (counted per check and region: moto gives each account's
resources their own random ids).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROLE = "OrganizationAccountAccessRole"
API_VERSION = re.compile(r"v?\d{4}-?\d{2}-?\d{2}$")
REGIONS = ("us-east-1", "eu-west-1")

CHILD = r"""
import json, resource, sys, time
opts = json.loads(sys.argv[1])
tracemalloc_top = int(opts.pop("tracemalloc", 0))
if tracemalloc_top:
    import tracemalloc
    tracemalloc.start(12)
profile_top = int(opts.pop("profile", 0))
if profile_top:
    import yappi
    yappi.set_clock_type("cpu")
    yappi.start()
t0 = time.perf_counter()
from posture.pipeline import Pipeline
from posture.plugins import registry
from posture_aws.provider import AwsProvider
planning = []
original_plan = AwsProvider.plan
def timed_plan(self, *a, **kw):
    t = time.perf_counter()
    try:
        return original_plan(self, *a, **kw)
    finally:
        planning.append(time.perf_counter() - t)
AwsProvider.plan = timed_plan
celery = opts.pop("celery", None)
executor = None
if celery:
    from posture.executors.celery_executor import CeleryExecutor
    executor = CeleryExecutor(celery["broker"], celery["backend"], queue=celery["queue"])
report = Pipeline(registry()).run(tier=opts.pop("tier"), providers=["aws"], options=opts,
                                  concurrency=int(opts.pop("concurrency")), executor=executor)
wall = time.perf_counter() - t0
usage = resource.getrusage(resource.RUSAGE_SELF)
statuses = {}
fails = {}
for r in report.results:
    statuses[r.status] = statuses.get(r.status, 0) + 1
    if r.status == "fail":
        fails.setdefault(r.scope, []).append([r.check_id, r.region])
errors = sorted({(r.scope, r.check_id, r.error_code) for r in report.results if r.status == "error"})[:20]
import hashlib
digest = hashlib.sha256("\n".join(sorted(f"{r.fingerprint} {r.status} {r.region} {r.error_code}"
                                           for r in report.results)).encode()).hexdigest()[:16]
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
top = []
cpu_top = []
if profile_top:
    yappi.stop()
    for f in yappi.get_func_stats().sort("tsub")[:profile_top]:
        cpu_top.append({"own_s": f.tsub, "total_s": f.ttot, "calls": f.ncall,
                        "where": f"{f.module.split('site-packages/')[-1]}:{f.lineno} {f.name}"})
if tracemalloc_top:
    snap = tracemalloc.take_snapshot()
    for stat in snap.statistics("traceback")[:tracemalloc_top]:
        frames = [f"{f.filename.split('site-packages/')[-1]}:{f.lineno}" for f in stat.traceback[-6:]]
        top.append({"mib": stat.size / 2**20, "count": stat.count, "where": frames})
print(json.dumps({"wall": wall, "planning": sum(planning), "cpu": usage.ru_utime + usage.ru_stime,
                  "requests": report.requests, "statuses": statuses, "fails": fails, "errors": errors,
                  "rss_kib": hwm, "top": top, "cpu_top": cpu_top, "digest": digest, "results": len(report.results)}))
"""


def seed_member(clients: Any, account: str) -> int:
    """A few compliant and misconfigured resources in ``account`` (``clients`` act in it)."""
    from posture_aws.testing.seed import Seeder

    seeder = Seeder(clients, account, REGIONS)
    bucket = f"audit-logs-{account}"  # bucket names are global: one per account
    seeder.c("s3", REGIONS[0]).create_bucket(Bucket=bucket)
    seeder.remember("bucket_logs", bucket)
    seeder.iam_mixed()
    seeder.regional_services(REGIONS[0], good=True)
    seeder.leftovers(REGIONS[1], "")
    return seeder.count + 1


def make_org(accounts: int, seed_threads: int) -> list[str]:
    """An Organization with ``accounts`` members, each seeded in process (posture_aws.testing.org); the ids."""
    from posture_aws.testing.org import create_members, in_process, seed_members

    with in_process() as clients:
        members = create_members(accounts, clients)
    seed_members(members, seed_member, seed_threads)
    return members


def run_child(env: dict[str, str], opts: dict[str, Any]) -> dict[str, Any]:
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(opts)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"scan failed ({proc.returncode}):\n{err[-3000:]}")
    child = json.loads(out.strip().splitlines()[-1])
    child["process_wall"] = time.perf_counter() - started
    return child


def _operation(key: str) -> str:
    """A request count's key with resource names and ids folded (``s3:GET /{name}?acl``)."""
    service, _, action = key.partition(":")
    method, _, path = action.partition(" ")
    if not path:
        return key
    path, _, query = path.partition("?")
    parts = ["{id}" if any(c.isdigit() for c in part) and not API_VERSION.match(part) else part
             for part in path.split("/")]
    if service == "s3" and len(parts) == 2 and parts[1]:  # a bucket; s3control paths are longer
        parts[1] = "{bucket}"
    return f"{service}:{method} {'/'.join(parts)}{'?' + query if query else ''}"


def _rss_mib() -> float:
    return int(next(line for line in open("/proc/self/status") if line.startswith("VmRSS:")).split()[1]) / 1024


def recall(reference: list[list[str]], org: dict[str, list[list[str]]], members: list[str]) -> tuple[float, list]:
    """Share of the reference's failures found in every member, counted per (check, region) because moto
    gives each account's resources their own random ids; and the first misses."""
    want = Counter(tuple(f) for f in reference)
    found, missed = 0, []
    for account in members:
        got = Counter(tuple(f) for f in org.get(account, []))
        found += sum(min(n, got[key]) for key, n in want.items())
        missed.extend((account, *key, f"{got[key]} of {n}") for key, n in sorted(want.items()) if got[key] < n)
    return found / max(1, sum(want.values()) * len(members)), missed[:10]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--accounts", type=int, default=20, help="member accounts (default 20)")
    ap.add_argument("--workers", default="0", metavar="K[,K...]",
                    help="`posture worker` processes to scan with, through Celery; several counts (0,1,2,4) scan "
                         "the same organisation once each, 0 being the local thread executor (default 0)")
    ap.add_argument("--broker", default=os.environ.get("POSTURE_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//"),
                    help="Celery broker for --workers (default POSTURE_BROKER_URL or the local RabbitMQ)")
    ap.add_argument("--backend", default=os.environ.get("POSTURE_RESULT_BACKEND", "redis://127.0.0.1:6379/0"),
                    help="Redis result backend for --workers (default POSTURE_RESULT_BACKEND or the local Redis)")
    ap.add_argument("--latency-ms", type=float, default=30.0)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--tier", default="tier-2")
    ap.add_argument("--seed-threads", type=int, default=4)
    ap.add_argument("--seed-only", action="store_true", help="build and seed the organisation, then stop")
    ap.add_argument("--profile", type=int, default=0, metavar="TOP",
                    help="profile the scan's CPU in every thread (needs `pip install yappi`) and print the TOP "
                         "functions by own time (slows the scan)")
    ap.add_argument("--tracemalloc", type=int, default=0, metavar="TOP",
                    help="trace allocations in the scan and print the TOP largest sites (slows the scan)")
    ap.add_argument("--code", metavar="DIR",
                    help="scan with the posture/ and plugins/ of another checkout (before/after comparisons)")
    ap.add_argument("--json", action="store_true", help="also print the raw figures as JSON")
    ns = ap.parse_args()
    if ns.profile and importlib.util.find_spec("yappi") is None:
        ap.error("--profile needs yappi, which is not installed: .venv/bin/pip install yappi")
    counts = [int(k) for k in ns.workers.split(",")]

    from posture_aws.testing.fault_proxy import fault_proxy
    from posture_aws.testing.mock import mock_account
    from posture_aws.testing.org import lean_moto

    t = time.perf_counter()
    with lean_moto(), mock_account(scale=1, regions=REGIONS) as mock:
        t_org = time.perf_counter()
        members = make_org(ns.accounts, ns.seed_threads)
        seed_s = time.perf_counter() - t
        print(f"seeded the management account and {len(members)} members in {seed_s:.0f} s "
              f"(members: {time.perf_counter() - t_org:.0f} s; moto process: {_rss_mib():,.0f} MiB, "
              f"CPU {time.process_time():.0f} s)", file=sys.stderr)
        if ns.seed_only:
            return
        with fault_proxy(mock["endpoint"], latency_ms=ns.latency_ms) as proxy:
            env = {**os.environ, "AWS_ENDPOINT_URL": proxy.url, "POSTURE_PLUGINS": "aws,json"}
            if ns.code:
                code = os.path.abspath(ns.code)
                env["PYTHONPATH"] = os.pathsep.join([code, os.path.join(code, "plugins")])
            base = {"region": list(REGIONS), "tier": ns.tier, "concurrency": ns.concurrency}
            ref = run_child(env, {**base, "role_arn": f"arn:aws:iam::{members[0]}:role/{ROLE}"})
            reference = ref["fails"].get(members[0], [])
            if not reference:
                raise SystemExit("the reference scan of one member found no failure: nothing to measure recall by")
            if len(counts) > 1:
                settle_credential_reports(members)
            runs = []
            for k in counts:
                before = Counter(proxy.counts)
                with worker_processes(k, env, ns) as pool:
                    org = run_child(env, {**base, "org": True, "role_name": ROLE, "tracemalloc": ns.tracemalloc,
                                          "profile": ns.profile, **({"celery": pool.celery} if k else {})})
                    org["workers"] = pool.stats()
                by_operation = Counter()
                for key, n in proxy.counts.items():
                    by_operation[_operation(key)] += n - before[key]
                runs.append((k, org, by_operation))
    rows = [report_row(ns, k, org, by_operation, reference, members) for k, org, by_operation in runs]
    print("| member accounts | executor | concurrency | wall | planning | CPU | requests | peak RSS | recall "
          "| results |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        workers = row["workers"]
        rss = f"{row['rss_mib']:,.0f} MiB" + (f" + {len(workers)} x {max(w['rss_mib'] for w in workers):,.0f} MiB"
                                               if workers else "")
        cpu = f"{row['cpu_s']:.0f} s" + (f" + {sum(w['cpu_s'] for w in workers):.0f} s" if workers else "")
        same = "same" if (row["digest"], row["by_operation"]) == (rows[0]["digest"], rows[0]["by_operation"]) \
            else "DIFFERENT"
        print(f"| {ns.accounts} | {row['executor']} | {ns.concurrency} | {row['wall_s']:.0f} s "
              f"| {row['planning_s']:.1f} s | {cpu} | {row['requests']:,} ({row['per_account']:.0f} per account) "
              f"| {rss} | {row['recall']:.3f} | {row['digest']} ({same}) |")
    for (_, org, _), row in zip(runs, rows, strict=True):
        print(f"\n{row['executor']}: {len(reference)} reference failures per member; results {org['statuses']}",
              file=sys.stderr)
        if org["errors"]:
            print(f"error results (first): {org['errors']}", file=sys.stderr)
        if row["missed"]:
            print(f"missed (first): {row['missed']}", file=sys.stderr)
        for fn in org["cpu_top"]:
            print(f"{fn['own_s']:8.2f} s own {fn['total_s']:8.2f} s total {fn['calls']:9d}  {fn['where']}",
                  file=sys.stderr)
        for site in org["top"]:
            print(f"{site['mib']:8.1f} MiB {site['count']:8d}  {' <- '.join(reversed(site['where']))}",
                  file=sys.stderr)
    if ns.json:
        print(json.dumps(rows if len(rows) > 1 else rows[0], indent=1))


def report_row(ns: argparse.Namespace, workers: int, org: dict[str, Any], by_operation: Counter,
               reference: list[list[str]], members: list[str]) -> dict[str, Any]:
    requests = by_operation.total()
    score, missed = recall(reference, org["fails"], members)
    return {"accounts": ns.accounts, "executor": f"celery, {workers} worker(s)" if workers else "local threads",
            "concurrency": ns.concurrency, "latency_ms": ns.latency_ms, "wall_s": org["wall"],
            "planning_s": org["planning"], "cpu_s": org["cpu"], "requests": requests,
            "per_account": requests / (ns.accounts + 1), "rss_mib": org["rss_kib"] / 1024, "recall": score,
            "reference_failures": len(reference), "statuses": org["statuses"], "errors": org["errors"],
            "missed": missed, "digest": org["digest"], "workers": org["workers"],
            "by_operation": dict(sorted(by_operation.items(), key=lambda kv: -kv[1]))}


def settle_credential_reports(members: list[str]) -> None:
    """moto answers an account's first GenerateCredentialReport STARTED and every later one COMPLETE: asked
    once here, every compared scan makes the same requests whichever runs first."""
    from posture_aws.testing.mock import MOCK_ACCOUNT
    from posture_aws.testing.org import acting_as, in_process

    with in_process() as clients:
        for account in (MOCK_ACCOUNT, *members):
            with acting_as(account):
                clients.client("iam").generate_credential_report()


class WorkerPool:
    """``count`` `posture worker` processes on a queue of their own (none for the local executor)."""

    def __init__(self, count: int, env: dict[str, str], ns: argparse.Namespace) -> None:
        import uuid

        queue = f"posture.bench.{uuid.uuid4().hex[:8]}"
        self.celery = {"broker": ns.broker, "backend": ns.backend, "queue": queue}
        self.names = [f"bench-{n}-{uuid.uuid4().hex[:6]}" for n in range(count)]
        self.procs = [subprocess.Popen(
            [sys.executable, "-c", "from posture.cli import main; main()", "worker", "--broker", ns.broker,
             "--backend", ns.backend, "--queue", queue, "--concurrency", str(ns.concurrency), "--name", name],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for name in self.names]

    def wait_ready(self, timeout: float = 300) -> None:
        if not self.procs:
            return
        from posture.executors.celery_app import make_app

        app = make_app(self.celery["broker"], self.celery["backend"])
        deadline, waiting = time.monotonic() + timeout, {f"celery@{n}" for n in self.names}
        while waiting:
            if time.monotonic() > deadline or any(p.poll() is not None for p in self.procs):
                raise SystemExit(f"workers did not start: {sorted(waiting)}")
            for reply in app.control.ping(destination=sorted(waiting), timeout=1.0):
                waiting -= set(reply)

    def stats(self) -> list[dict[str, float]]:
        """Peak RSS and CPU (user + system) of each worker process, read before it stops."""
        out = []
        for proc in self.procs:
            status = Path(f"/proc/{proc.pid}/status").read_text()
            hwm = int(re.search(r"VmHWM:\s+(\d+)", status).group(1))
            fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            out.append({"rss_mib": hwm / 1024, "cpu_s": cpu})
        return out

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()


@contextmanager
def worker_processes(count: int, env: dict[str, str], ns: argparse.Namespace) -> Iterator[WorkerPool]:
    pool = WorkerPool(count, env, ns)
    try:
        pool.wait_ready()
        yield pool
    finally:
        pool.stop()


if __name__ == "__main__":
    main()
