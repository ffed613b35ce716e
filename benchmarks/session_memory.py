"""Why an organisation scan grew ~60 MB per account: botocore sessions, loaders and clients, measured.

    .venv/bin/python benchmarks/session_memory.py --accounts 10

For each strategy, a child process makes, per simulated account, the clients an
AWS scan uses (16 services x 2 regions; creating a client makes no request) and
prints the growth of its RSS per account:

- ``fresh``: a new botocore session per account (what assumed roles got before):
  every session has its own loader, so every service model is read and parsed again;
- ``shared``: one loader shared by every account's session, clients kept;
- ``released``: one loader, and each account's session and clients dropped when it is done.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

SERVICES = ("ec2", "iam", "s3", "s3control", "rds", "kms", "logs", "cloudtrail", "config", "guardduty", "lambda",
            "elbv2", "sns", "sqs", "sts", "efs")

CHILD = r"""
import gc, os, sys
import botocore.session
mode, accounts, services = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(",")
def rss():
    return int(next(line for line in open("/proc/self/status") if line.startswith("VmRSS")).split()[1]) / 1024
loader = botocore.session.Session().get_component("data_loader")
kept = []
start = rss()
for _ in range(accounts):
    session = botocore.session.Session()
    if mode != "fresh":
        session.register_component("data_loader", loader)
    clients = [session.create_client(s, region_name=r) for s in services for r in ("us-east-1", "eu-west-1")]
    if mode != "released":
        kept.append((session, clients))
    del session, clients
gc.collect()
print((rss() - start) / accounts)
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--accounts", type=int, default=10)
    ns = ap.parse_args()
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_EC2_METADATA_DISABLED": "true",
           "PATH": "/usr/bin:/bin"}
    print("| strategy | RSS growth per account |\n|---|---|")
    for mode in ("fresh", "shared", "released"):
        out = subprocess.run([sys.executable, "-c", CHILD, mode, str(ns.accounts), ",".join(SERVICES)], env=env,
                             capture_output=True, text=True, check=True)
        print(f"| {mode} | {float(out.stdout.strip()):.1f} MiB |")


if __name__ == "__main__":
    main()
