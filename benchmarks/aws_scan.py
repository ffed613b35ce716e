"""Benchmark an AWS scan against a seeded moto account, optionally behind per-request latency.

    .venv/bin/python benchmarks/aws_scan.py --scale 1 --latency-ms 30
    .venv/bin/python benchmarks/aws_scan.py --matrix          # scale 1 and 10 x latency 0 and 30 ms, + scale 2

moto runs on 127.0.0.1; a loopback proxy (posture_aws.testing.fault_proxy) adds the
fixed latency and counts the HTTP requests it forwards. The scan itself runs
in a child process so its peak RSS (VmHWM) is its own. Prints a markdown table.

Every misconfiguration found: tests/aws/test_checks.py pins the exact status
of every seeded resource at scale 1; ``--matrix`` adds a scale-2 scan and
checks that each check's failures grow exactly linearly with scale (a copy of
each seeded resource per scale unit), so none is lost at 10x to pagination or
concurrency, and that no scan has an ``error`` result.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from typing import Any

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
from posture.pipeline import Pipeline
from posture.plugins import registry
opts = json.loads(sys.argv[1])
report = Pipeline(registry()).run(tier=opts.pop("tier"), providers=["aws"], options=opts, concurrency=int(opts.pop("concurrency")))
wall = time.perf_counter() - t0
statuses, fails = {}, {}
for r in report.results:
    statuses[r.status] = statuses.get(r.status, 0) + 1
    if r.status == "fail":
        fails[r.check_id] = fails.get(r.check_id, 0) + 1
# VmHWM is this process's own peak RSS (ru_maxrss would include the parent's, inherited across fork/exec)
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"wall": wall, "requests": report.requests, "results": len(report.results), "statuses": statuses,
                  "fails": fails, "rss_kib": hwm}))
"""


def run_one(scale: int, latency_ms: float, concurrency: int, tier: str) -> dict[str, Any]:
    from posture_aws.testing.fault_proxy import fault_proxy
    from posture_aws.testing.mock import mock_account

    t = time.perf_counter()
    with mock_account(scale=scale) as mock:
        seeded_s = time.perf_counter() - t
        with fault_proxy(mock["endpoint"], latency_ms=latency_ms) as proxy:
            env = {**os.environ, "AWS_ENDPOINT_URL": proxy.url, "POSTURE_PLUGINS": "aws,json"}
            args = json.dumps({"region": mock["region"], "tier": tier, "concurrency": concurrency})
            out = subprocess.run([sys.executable, "-c", CHILD, args], env=env, capture_output=True, text=True,
                                 check=False)
            if out.returncode != 0:
                raise SystemExit(f"scan failed:\n{out.stderr[-3000:]}")
            child = json.loads(out.stdout.strip().splitlines()[-1])
            return {"scale": scale, "resources": mock["resources"], "latency_ms": latency_ms,
                    "concurrency": concurrency, "seed_s": seeded_s, "wall_s": child["wall"],
                    "http_requests": proxy.total, "reported_requests": child["requests"],
                    "per_resource": proxy.total / max(1, mock["resources"]),
                    "rss_mib": child["rss_kib"] / 1024, "results": child["results"], "statuses": child["statuses"],
                    "fails": child["fails"]}


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| scale | resources | latency | concurrency | wall time | HTTP requests | requests/resource "
             "| peak RSS |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['scale']} | {r['resources']} | {r['latency_ms']:.0f} ms | {r['concurrency']} "
                     f"| {r['wall_s']:.1f} s | {r['http_requests']} | {r['per_resource']:.2f} "
                     f"| {r['rss_mib']:.0f} MiB |")
    return "\n".join(lines)


def verify_findings(rows: list[dict[str, Any]]) -> list[str]:
    """Problems found: per-check failures not linear in scale (from scales 1, 2 and the largest), or errors."""
    by_scale = {r["scale"]: r["fails"] for r in rows if r["latency_ms"] == 0}
    problems = [f"scale {r['scale']} / {r['latency_ms']:.0f} ms: {r['statuses']['error']} error results"
                for r in rows if r["statuses"].get("error")]
    if not {1, 2} <= set(by_scale):
        return problems + ["need scans at scale 1 and 2 (0 ms) to check findings"]
    for big in sorted(set(by_scale) - {1, 2}):
        for check in sorted(set(by_scale[1]) | set(by_scale[2]) | set(by_scale[big])):
            one, two, got = (by_scale[s].get(check, 0) for s in (1, 2, big))
            want = one + (big - 1) * (two - one)
            if got != want:
                problems.append(f"{check}: {got} failures at scale {big}, {want} expected ({one} at 1, {two} at 2)")
    return problems


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=int, default=1)
    ap.add_argument("--latency-ms", type=float, default=0.0)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--tier", default="tier-3")
    ap.add_argument("--matrix", action="store_true",
                    help="scale 1 and 10 x latency 0 and 30 ms, plus scale 2, and check the findings")
    ap.add_argument("--json", action="store_true", help="also print the raw rows as JSON")
    ns = ap.parse_args()
    configs = ([(1, 0.0), (1, 30.0), (2, 0.0), (10, 0.0), (10, 30.0)] if ns.matrix
               else [(ns.scale, ns.latency_ms)])
    rows = []
    for scale, latency in configs:
        rows.append(run_one(scale, latency, ns.concurrency, ns.tier))
        print(f"scale {scale} latency {latency:.0f} ms: {rows[-1]['wall_s']:.1f} s, "
              f"{rows[-1]['http_requests']} requests (reported {rows[-1]['reported_requests']}), "
              f"{rows[-1]['rss_mib']:.0f} MiB, results {rows[-1]['statuses']}", file=sys.stderr)
    print(table(rows))
    if ns.matrix:
        problems = verify_findings(rows)
        checks = len(set().union(*(r["fails"] for r in rows)))
        biggest = max(rows, key=lambda r: r["scale"])
        if problems:
            print("\nFindings: PROBLEMS\n" + "\n".join(f"- {p}" for p in problems))
        else:
            print(f"\nFindings: each of the {checks} failing checks' failures grows exactly linearly with scale "
                  f"({sum(biggest['fails'].values())} failures at scale {biggest['scale']}); no error results.")
    if ns.json:
        print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
