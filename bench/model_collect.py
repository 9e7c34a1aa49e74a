"""A model of collection time for organizations larger than this machine can run.

Collection is a set of independent tasks (an account-region, an account's IAM) whose API
calls each cost the collector some CPU (botocore building the request and parsing the
answer, ``cpu``) and wait for AWS (``latency``). A worker process runs ``threads`` calls
at once but holds one core: it completes at most ``1 / cpu`` calls a second when CPU
bound, and ``threads / (cpu + latency)`` when latency bound. ``workers`` processes add up,
until the per-account bound (``account_concurrency`` calls in flight per account, across
the cluster: ``ivs collect --account-concurrency``) caps what the accounts can take,
``accounts * account_concurrency / (cpu + latency)``. Every task also costs the scheduler
``task_overhead`` seconds (Dask's per-task cost; none for a local pool).

AWS's own limits do not bind a collector: EC2 throttles each account per region and per
API with a token bucket (non-mutating actions: 100 tokens, refilled at 20 a second;
"Request throttling for the Amazon EC2 API", docs.aws.amazon.com/ec2/latest/devguide/
ec2-api-throttling.html), and one account-region asks each Describe API a few times (its
pages), so the per-account bound is what keeps a large cluster polite, not what makes it
slow.

    python -m bench.model_collect                       # the BENCHMARKS.md table
    python -m bench.model_collect --check results.json  # against a measured small run

``--check`` reads what ``bench.bench_collect --json`` wrote (accounts, regions, calls,
collector CPU, wall, workers, threads) and prints the model's wall time for the same
shape next to the measured one, with the CPU per call and latency it derives from the
run itself.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, replace
from pathlib import Path


@dataclass(frozen=True)
class Shape:
    """An organization and a cluster; times in seconds."""

    accounts: int
    regions: int
    workers: int
    #: calls per account-region (network, fleet and detection kinds) and per account (IAM)
    calls_per_region: float = 40.0
    calls_per_account: float = 4.0
    cpu: float = 0.005
    latency: float = 0.1
    threads: int = 16
    account_concurrency: int = 4
    task_overhead: float = 0.001

    @property
    def calls(self) -> float:
        return self.accounts * (self.regions * self.calls_per_region + self.calls_per_account)

    @property
    def tasks(self) -> int:
        return self.accounts * (self.regions + 1)


def wall_time(shape: Shape) -> float:
    """Predicted seconds to collect ``shape``.

    >>> round(wall_time(Shape(accounts=1000, regions=17, workers=1)))
    4507
    >>> round(wall_time(Shape(accounts=1000, regions=17, workers=32)))
    158
    """
    per_worker = min(1 / shape.cpu, shape.threads / (shape.cpu + shape.latency))
    by_workers = shape.workers * per_worker
    by_accounts = shape.accounts * shape.account_concurrency / (shape.cpu + shape.latency)
    rate = min(by_workers, by_accounts)
    # one account can go no faster than its bound allows, whatever the cluster
    one_account = (
        (shape.regions * shape.calls_per_region + shape.calls_per_account)
        * (shape.cpu + shape.latency)
        / shape.account_concurrency
    )
    return max(shape.calls / rate, one_account) + shape.tasks * shape.task_overhead


def table(cpu: float, latency: float) -> str:
    """The Markdown table of predictions: 1,000 / 5,000 / 10,000 accounts x 17 regions on
    1, 8 and 32 workers."""
    rows = [
        "| accounts x regions | calls | 1 worker | 8 workers | 32 workers |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for accounts in (1000, 5000, 10000):
        cells = []
        for workers in (1, 8, 32):
            shape = Shape(accounts, 17, workers, cpu=cpu, latency=latency)
            cells.append(_duration(wall_time(shape)))
        calls = Shape(accounts, 17, 1).calls
        rows.append(f"| {accounts:,} x 17 | {calls / 1e6:.1f} M | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"


def check(results: Path) -> str:
    """The model against a measured run (``bench.bench_collect --json``): the measured
    shape, CPU per call and latency in, the wall time out, next to the measured wall."""
    lines = ["| run | calls | CPU per call | latency | measured | model |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]  # fmt: skip
    for run in json.loads(results.read_text()):
        calls = run["calls"]
        cpu = run["collector_cpu_s"] / calls
        # the latency each call waited, from the run: what the threads spent not computing
        concurrency = run["workers"] * run["threads"]
        latency = max(0.0, run["wall_s"] * concurrency / calls - cpu)
        shape = Shape(
            run["accounts"],
            run["regions"],
            run["workers"],
            calls_per_region=calls / (run["accounts"] * run["regions"]),
            calls_per_account=0.0,
            cpu=cpu,
            latency=latency,
            threads=run["threads"],
            account_concurrency=run.get("account_concurrency", 4),
            task_overhead=0.001 if run.get("scheduler") else 0.0,
        )
        lines.append(
            f"| {run['label']} | {calls:,} | {cpu * 1000:.1f} ms | {latency * 1000:.0f} ms "
            f"| {run['wall_s']:.1f} s | {wall_time(shape):.1f} s |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpu", type=float, default=0.005, help="collector CPU per call (s)")
    parser.add_argument("--latency", type=float, default=0.1, help="AWS latency per call (s)")
    parser.add_argument("--check", type=Path, help="bench_collect --json results to check")
    args = parser.parse_args()
    if args.check is not None:
        print(check(args.check))
        return
    print(table(args.cpu, args.latency))
    fast = replace(Shape(5000, 17, 32, cpu=args.cpu, latency=args.latency), threads=32)
    print(f"\n5,000 x 17 on 32 workers of 32 threads: {_duration(wall_time(fast))}")


if __name__ == "__main__":
    main()
