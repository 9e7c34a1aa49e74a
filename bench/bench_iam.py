"""Benchmark the IAM analysis on a synthetic organization (``sandbox.synth_iam``).

The organization: ``--accounts`` accounts (default 1,000) of ``--roles`` roles each
(default 200: 200k principals) sharing AWS-managed-like and customer managed policies,
an SCP on each of 100 OUs, five instances per account (prod in half the OUs). Measured,
each in a fresh process alone on the machine:

- ``load``: ``json.load`` of every file of the snapshot (the floor any reader pays);
- ``exposure``: the whole ``ivs exposure --format json`` command, which reads the IAM,
  builds the VM-control graph and writes every IAM finding (target: 60 s and 4 GB on
  2 cores at 1,000 x 200);
- ``simulate``: one ``ivs simulate`` question after the snapshot's IAM is loaded (the
  load is timed apart; target: under 1 s per question), for ``--questions`` principals
  spread over the organization, and one ``who-can`` over one account.

Wall time, CPU time (user + system) and peak resident memory of each child are reported;
``--repeat`` runs are interleaved and the fastest kept.

    python -m bench.bench_iam                       # 1,000 accounts x 200 roles
    python -m bench.bench_iam --accounts 100 --json results.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.bench_exposure import EXPOSURE, LOAD, measure  # noqa: E402
from sandbox.synth_iam import write_iam_snapshot  # noqa: E402

SIMULATE = """
import json, sys, time
from core.memory import without_gc
from graph.iam.snapshot import load_iam
from graph.iam.queries import find_principal, simulate, who_can
start = time.perf_counter()
with without_gc(freeze=True):  # as ivs simulate loads it
    iam = load_iam(sys.argv[1])
loaded = time.perf_counter() - start
accounts = sorted(iam.accounts)
questions = int(sys.argv[2])
times = []
for n in range(questions):
    account = accounts[n * len(accounts) // questions]
    principal = find_principal(iam, f"arn:aws:iam::{account}:role/ops-{n % 4}")
    instance = f"arn:aws:ec2:us-east-1:{account}:instance/i-0"
    start = time.perf_counter()
    result = simulate(iam, principal, "ssm:SendCommand", instance, {})
    times.append(time.perf_counter() - start)
start = time.perf_counter()
first = accounts[0]
target = f"arn:aws:ec2:us-east-1:{first}:instance/i-0"
answers = who_can(iam, "ssm:SendCommand", target, {}, first)
who = time.perf_counter() - start
json.dump({"load_iam_s": loaded, "simulate_max_s": max(times),
           "simulate_mean_s": sum(times) / len(times), "who_can_account_s": who,
           "who_can_answers": len(answers)}, sys.stdout)
"""


def bench(accounts: int, roles: int, workdir: Path, repeat: int, questions: int) -> dict[str, Any]:
    snap = workdir / f"iam-{accounts}x{roles}"
    if not (snap / "manifest.json").exists():
        shape = write_iam_snapshot(snap, accounts=accounts, roles=roles)
    else:
        shape = {"accounts": accounts, "roles": roles, "principals": accounts * roles}
    size = sum(p.stat().st_size for p in snap.rglob("*.json"))
    out = workdir / f"findings-{accounts}x{roles}.json"
    exposure = [sys.executable, "-c", EXPOSURE, "exposure", "--snapshot", str(snap)]
    loads, runs = [], []
    for _ in range(repeat):
        loads.append(measure([sys.executable, "-c", LOAD, str(snap)]))
        runs.append(measure([*exposure, "--format", "json", "--out", str(out)]))
    started = time.perf_counter()
    simulated = subprocess.run(
        [sys.executable, "-c", SIMULATE, str(snap), str(questions)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    simulate_wall = time.perf_counter() - started
    answers = json.loads(simulated.stdout)
    document = json.loads(out.read_text())
    counts: dict[str, int] = {}
    for finding in document["findings"]:
        counts[finding["rule"]] = counts.get(finding["rule"], 0) + 1
    return {
        **shape,
        "snapshot_mb": round(size / 2**20, 1),
        "load_s": round(min(x[0] for x in loads), 2),
        "load_cpu_s": round(min(x[1] for x in loads), 2),
        "load_peak_mb": round(min(x[2] for x in loads)),
        "exposure_s": round(min(x[0] for x in runs), 2),
        "exposure_cpu_s": round(min(x[1] for x in runs), 2),
        "exposure_peak_mb": round(min(x[2] for x in runs)),
        "ratio": round(min(x[0] for x in runs) / min(x[0] for x in loads), 1),
        "load_iam_s": round(answers["load_iam_s"], 2),
        "simulate_max_ms": round(answers["simulate_max_s"] * 1000, 2),
        "simulate_mean_ms": round(answers["simulate_mean_s"] * 1000, 2),
        "who_can_account_ms": round(answers["who_can_account_s"] * 1000, 1),
        "simulate_process_s": round(simulate_wall, 2),
        "findings": counts,
    }


def table(row: dict[str, Any]) -> str:
    return "\n".join(
        [
            "| accounts x roles | snapshot | json.load wall / CPU / peak | ivs exposure wall / CPU "
            "/ peak | ratio | simulate after load (max / mean) | who-can, one account |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
            f"| {row['accounts']:,} x {row['roles']} | {row['snapshot_mb']} MB "
            f"| {row['load_s']} s / {row['load_cpu_s']} s / {row['load_peak_mb']} MB "
            f"| {row['exposure_s']} s / {row['exposure_cpu_s']} s / {row['exposure_peak_mb']} MB "
            f"| {row['ratio']}x | {row['simulate_max_ms']} / {row['simulate_mean_ms']} ms "
            f"(load {row['load_iam_s']} s) | {row['who_can_account_ms']} ms |",
            "",
            "findings: " + ", ".join(f"{k} {v:,}" for k, v in sorted(row["findings"].items())),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--roles", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--questions", type=int, default=50)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ivs-bench-iam-") as tmp:
        root = args.workdir or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        row = bench(args.accounts, args.roles, root, args.repeat, args.questions)
    print(table(row))
    if args.json:
        args.json.write_text(json.dumps(row, indent=2) + "\n")


if __name__ == "__main__":
    main()
