"""Benchmark offline evaluation at organisation scale: a synthetic fact file of N facts, evaluated against a tier.

    .venv/bin/python benchmarks/evaluate_scale.py --facts 10000 100000 1000000
    .venv/bin/python benchmarks/evaluate_scale.py --facts 100000 --waivers 100000

The fact file is made from ``benchmarks/data/aws-demo.facts.jsonl`` (what
``posture collect --tier tier-3`` read from the seeded demo account: 85 facts
of 32 fact types in two regions, compliant and misconfigured): each copy gets
its own account (20 copies per account, so 1M facts span about 590 accounts)
and its own resource ids and names, and the account's scope and coverage
records. ``posture evaluate FILE --tier T --format json,sarif --no-store``
then runs in a child process; its wall time (with the load average: other
processes inflate it), CPU time (with its worker processes), peak RSS (the
largest process's, from ``wait4``, and the sampled sum over the process and
its workers) and output sizes are reported as a markdown table. ``--workers
1 2`` evaluates each size with ``POSTURE_EVALUATE_WORKERS`` set to each value.

``--waivers N`` also writes a waiver file of N waivers (nine in ten naming a
failing resource exactly, one in ten a glob over a resource-id prefix, spread
over the checks) and reports the evaluation with and without it, so the cost
of applying the waivers is the difference.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

SEED = Path(__file__).parent / "data" / "aws-demo.facts.jsonl"
COPIES_PER_ACCOUNT = 20


def _seed() -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]], str]:
    header, facts, collected, account = {}, [], [], ""
    for line in SEED.read_text().splitlines():
        rec = json.loads(line)
        kind = rec["kind"]
        if kind == "header":
            header = rec
        elif kind == "fact":
            facts.append(rec)
        elif kind == "collected":
            collected.append(rec)
        elif kind == "scope":
            account = rec["scope"]["id"]
    return header, facts, collected, account


def make_fact_file(n: int, path: Path) -> dict[str, int]:
    """Write a fact file of ``n`` facts; returns counts of what it holds."""
    header, facts, collected, seed_account = _seed()
    copies = -(-n // len(facts))
    accounts = -(-copies // COPIES_PER_ACCOUNT)
    written = {"fact": 0, "collected": 0, "scope": 0}
    with path.open("w", encoding="utf-8") as fh:
        fh.write(json.dumps({**header, "kind": "header"}, sort_keys=True) + "\n")
        templates = [json.dumps(f, sort_keys=True) for f in facts]
        for a in range(accounts):
            account = f"{100000000000 + a:012d}"
            fh.write(json.dumps({"kind": "scope", "scope": {"id": account, "kind": "account", "name": f"acct-{a}",
                                                            "parent": "o-bench", "provider": "aws"}}) + "\n")
            written["scope"] += 1
            for c in collected:
                fh.write(json.dumps({**c, "scope": account}, sort_keys=True) + "\n")
                written["collected"] += 1
            for j in range(COPIES_PER_ACCOUNT):
                for t in templates:
                    if written["fact"] >= n:
                        break
                    rec = json.loads(t.replace(seed_account, account))
                    if j:  # every copy its own resource: another id and name, same configuration
                        rec["id"] = f"{rec['id']}-c{j}"
                        rec["name"] = f"{rec['name']}-c{j}"
                    fh.write(json.dumps(rec, sort_keys=True) + "\n")
                    written["fact"] += 1
        total = sum(written.values())
        fh.write(json.dumps({"kind": "footer", "records": total, "counts": written}) + "\n")
    return written


def make_waivers(n: int, report_path: Path, path: Path) -> int:
    """``n`` waivers over the failures of a report: exact resource ids, and one in ten a prefix glob."""
    failures = []
    with report_path.open(encoding="utf-8") as fh:
        for r in json.load(fh)["results"]:
            if r["status"] in ("fail", "waived"):
                failures.append((r["check_id"], r["resource_id"]))
                if len(failures) >= n:
                    break
    lines = ["waivers:"]
    for i in range(n):
        check, resource = failures[i % len(failures)]
        if i % 10 == 9:
            resource = resource[: max(8, len(resource) - 6)] + "*"
        elif i >= len(failures):
            resource = f"{resource}-never-{i}"  # exact ids that match nothing: the index must stay fast
        lines += [f"  - id: W-{i}", f"    check: {check}", f"    resource: {json.dumps(resource)}",
                  "    owner: bench", "    justification: accepted for the evaluation benchmark", "    expires: 2999-01-01"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return n


def evaluate(facts: Path, tier: str, out: Path, waivers: Path | None = None, workers: int | None = None
             ) -> dict[str, Any]:
    cmd = [str(Path(sys.executable).parent / "posture"), "-v", "evaluate", str(facts), "--tier", tier, "--format",
           "json,sarif", "--no-store", "--output-dir", str(out)]
    if waivers is not None:
        cmd += ["--waivers", str(waivers)]
    env = {**os.environ, "POSTURE_SARIF_MAX_RESULTS": os.environ.get("POSTURE_SARIF_MAX_RESULTS", "25000")}
    if workers is not None:
        env["POSTURE_EVALUATE_WORKERS"] = str(workers)
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    sampler = TreeRss(proc.pid)
    sampler.start()
    err = proc.stderr.read() if proc.stderr else ""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    sampler.stop()
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise SystemExit(f"posture evaluate failed ({code}):\n{err[-3000:]}")
    sizes = {p.suffix: p.stat().st_size for p in out.iterdir() if p.is_file()}
    parts = re.search(r"in (\d+) parts; peak RSS of each worker: ([^\n]*)", err)
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mib": usage.ru_maxrss / 1024,
            "tree_mib": sampler.peak / 2**20, "load": (load + os.getloadavg()[0]) / 2,
            "workers": parts.group(1) if parts else "1", "worker_rss": parts.group(2) if parts else "",
            "json_mib": sizes.get(".json", 0) / 2**20, "sarif_mib": sizes.get(".sarif", 0) / 2**20}


class TreeRss(threading.Thread):
    """The largest sum of resident memory over a process and its descendants, sampled every 20 ms (pages
    shared after a fork count once per process: an upper bound)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self._done = pid, 0, threading.Event()

    def run(self) -> None:
        import psutil

        try:
            root = psutil.Process(self.pid)
        except psutil.NoSuchProcess:
            return
        while not self._done.wait(0.02):
            total = 0
            try:
                for p in [root, *root.children(recursive=True)]:
                    total += p.memory_info().rss
            except psutil.Error:
                continue
            self.peak = max(self.peak, total)

    def stop(self) -> None:
        self._done.set()
        self.join()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--facts", type=int, nargs="+", default=[10_000])
    ap.add_argument("--tier", default="tier-3")
    ap.add_argument("--waivers", type=int, default=0, help="also evaluate with this many waivers")
    ap.add_argument("--workers", type=int, nargs="+", default=[None],
                    help="POSTURE_EVALUATE_WORKERS for each run (default: unset, posture decides)")
    ap.add_argument("--keep", type=Path, help="keep the generated files in this directory")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="posture-evalbench-") as tmp:
        base = args.keep or Path(tmp)
        base.mkdir(parents=True, exist_ok=True)
        for n in args.facts:
            facts = base / f"facts-{n}.jsonl"
            t0 = time.perf_counter()
            make_fact_file(n, facts)
            gen = time.perf_counter() - t0
            for workers in args.workers:
                out = base / f"out-{n}-{workers}"
                out.mkdir(exist_ok=True)
                rows.append({"facts": n, "generate_s": gen, **evaluate(facts, args.tier, out, workers=workers)})
            if args.waivers:
                wfile = base / f"waivers-{args.waivers}.yaml"
                make_waivers(args.waivers, out / "posture-report.json", wfile)
                wout = base / f"out-{n}-waived"
                wout.mkdir(exist_ok=True)
                rows.append({"facts": n, "waivers": args.waivers, "generate_s": 0.0,
                             **evaluate(facts, args.tier, wout, wfile, args.workers[-1])})
    print(f"tier {args.tier}, {os.cpu_count()} CPUs; wall time depends on the load average shown (other processes); "
          "CPU time includes the worker processes; RSS: of the largest process (wait4), and the sampled peak sum "
          "over all processes")
    print("| facts | waivers | processes | wall s | load avg | CPU s | peak RSS MiB | all processes MiB "
          "| JSON MiB | SARIF MiB |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['facts']:,} | {r.get('waivers', 0):,} | {r['workers']} | {r['wall']:.1f} | {r['load']:.1f} "
              f"| {r['cpu']:.1f} | {r['rss_mib']:.0f} | {r['tree_mib']:.0f} | {r['json_mib']:.1f} "
              f"| {r['sarif_mib']:.1f} |")
        if r["worker_rss"]:
            print(f"  workers' own peak RSS: {r['worker_rss']}")


if __name__ == "__main__":
    main()
