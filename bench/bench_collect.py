"""Collection from a moto server, with the local pool and on a ``local:2`` Dask cluster.

The moto server runs in its own process (moto's server on 127.0.0.1, with the stand-in's
additions of ``sandbox.moto_fleet``), so the CPU time of the collector's processes is
the collector's own (boto3 request signing and response parsing, our code, JSON
writing), and the server's CPU time is read from ``/proc``. The organization has a
management account and N-1 members; every account-region gets the full estate of
``sandbox.network`` (3 VPCs, 7 instances, an ALB, a TGW, peering, NAT...), so each
account-region answers 37 kinds (the network's, and the fleet's: volumes, snapshots,
images, SSM, backups, detection services) with real-shaped data. Seeding is not timed.

Each mode collects the same organization into a fresh directory:

* ``local``: the thread pool of ``--workers`` threads in this process;
* ``local:2`` (``--schedulers``): the cluster ``ivs collect --scheduler local:2`` starts
  (``core.cluster.task_pool``), 2 worker processes of ``--workers`` threads each, started
  before the clock (its start-up is reported apart). The collector's CPU is this
  process's plus the workers' (from ``/proc``), and the calls are counted in every
  process that makes them.

Measured per mode: wall time, the collector's CPU (per API call too), the moto server's
CPU, the calls, the mean time from a call's start to its parsed answer (``latency``: the
wait on moto plus botocore's own work), and the load average of the machine around the
run. ``--json`` prints a list of runs that ``bench.model_collect --check`` reads.
``--profile`` adds a cProfile of the local pool's worker threads (top functions by own time).

    .venv/bin/python -m bench.bench_collect                                # 50 x 2, a table
    .venv/bin/python -m bench.bench_collect --accounts 200 --regions 4 --schedulers local local:2
    .venv/bin/python -m bench.bench_collect --json > runs.json
    .venv/bin/python -m bench.model_collect --check runs.json
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import json
import os
import platform
import pstats
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

REGIONS = ["eu-west-1", "us-east-1", "us-west-2", "eu-central-1"]
ROLE = "OrganizationAccountAccessRole"
TARGET_SECONDS = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


#: moto's server with the stand-in's additions (``sandbox.moto_fleet``: the fleet reads
#: moto lacks, and snapshots listed by owner as AWS lists them).
SERVER = (
    "import sys; from sandbox import moto_fleet; moto_fleet.install(); "
    "from moto.server import main; sys.exit(main(sys.argv[1:]))"
)


def start_moto() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            with urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=1):
                return server, endpoint
        except OSError:
            time.sleep(0.05)
    server.kill()
    raise RuntimeError("moto_server did not start")


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of another process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def seed(endpoint: str, members: int, regions: list[str], workers: int) -> dict[str, Any]:
    from core.aws import Aws
    from sandbox.network import NetworkPlan, seed_network
    from sandbox.organization import create_member_accounts

    aws = Aws(endpoint_url=endpoint)
    started = time.perf_counter()
    accounts = create_member_accounts(aws, [f"member{i:03d}" for i in range(members)])
    management = aws.client("sts").get_caller_identity()["Account"]

    def one(account: str) -> None:
        target = aws if account == management else aws.assume(account, ROLE)
        for index, region in enumerate(regions):
            seed_network(target, region, NetworkPlan(base_octet=10 * index))

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(one, [management, *accounts]))
    return {"accounts": 1 + len(accounts), "seconds": time.perf_counter() - started}


class WorkerProfile:
    """cProfile of every collector worker thread, merged (cProfile sees one thread each)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.profiles: list[cProfile.Profile] = []

    def install(self) -> None:
        from graph import collect

        original = collect.collect_place
        profiles = self.profiles
        lock = self.lock

        def profiled(session: Any, store: Any, region: str) -> Any:
            profile = cProfile.Profile()
            with lock:
                profiles.append(profile)
            profile.enable()
            try:
                return original(session, store, region)
            finally:
                profile.disable()

        collect.collect_place = profiled  # type: ignore[assignment]

    def report(self, top: int) -> str:
        stream = io.StringIO()
        stats = pstats.Stats(self.profiles[0], stream=stream)
        for profile in self.profiles[1:]:
            stats.add(profile)
        stats.sort_stats("tottime").print_stats(top)
        return stream.getvalue()


#: What :func:`count_calls` has counted in this process: calls and seconds spent in them.
CALLS: dict[str, float] = {"calls": 0, "seconds": 0.0}


def count_calls() -> dict[str, float]:
    """Count every API call made through core.aws.Aws clients in this process, and the
    time from each call's start to its parsed answer. Returns the counts so far (a worker
    of a cluster runs this through ``client.run``, once; again it only reads)."""
    from core.aws import Aws

    if getattr(Aws.client, "counted", False):
        return dict(CALLS)
    lock = threading.Lock()
    started = threading.local()
    original = Aws.client

    def client(self: Aws, service: str, region: str | None = None) -> Any:
        made = original(self, service, region)

        def before(**_: Any) -> None:
            started.at = time.perf_counter()

        def after(**_: Any) -> None:
            with lock:
                CALLS["calls"] += 1
                CALLS["seconds"] += time.perf_counter() - getattr(
                    started, "at", time.perf_counter()
                )

        made.meta.events.register("before-call.*.*", before)
        made.meta.events.register("after-call.*.*", after)
        return made

    client.counted = True  # type: ignore[attr-defined]
    Aws.client = client  # type: ignore[method-assign]
    return dict(CALLS)


def counted_calls() -> dict[str, float]:
    return dict(CALLS)


def collect_once(
    endpoint: str, regions: list[str], workers: int, scheduler: str | None, server_pid: int
) -> dict[str, Any]:
    """One collection of the seeded organization; its measures."""
    from core.cluster import task_pool
    from graph.collect import collect_snapshot

    with contextlib.ExitStack() as stack:
        address = None
        pool = None
        pids: list[int] = []
        start_up = 0.0
        if scheduler is not None:
            began = time.perf_counter()
            pool = stack.enter_context(task_pool(scheduler, workers, "bench"))
            start_up = time.perf_counter() - began
            address = pool.client.scheduler.address
            # by reference, not by value as functions of __main__ are: the workers' own counts
            from bench import bench_collect as counting

            pool.client.run(counting.count_calls)
            pids = list(pool.worker_pids().values())
        before = count_calls()
        out = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "snapshot"
        load_before = os.getloadavg()
        server_cpu = process_cpu(server_pid)
        workers_cpu = sum(process_cpu(pid) for pid in pids)
        cpu = time.process_time()
        wall = time.perf_counter()
        result = collect_snapshot(
            out, endpoint_url=endpoint, regions=regions, workers=workers, scheduler=address
        )
        wall = time.perf_counter() - wall
        cpu = time.process_time() - cpu + sum(process_cpu(pid) for pid in pids) - workers_cpu
        server_cpu = process_cpu(server_pid) - server_cpu
        load_after = os.getloadavg()
        totals = [counted_calls()]
        if pool is not None:  # the workers counted nothing before this run
            totals += list(pool.client.run(counting.counted_calls).values())
        calls = sum(t["calls"] for t in totals) - before["calls"]
        seconds = sum(t["seconds"] for t in totals) - before["seconds"]
        size = sum(p.stat().st_size for p in out.rglob("*.json"))
        files = sum(1 for _ in out.rglob("*.json"))
    return {
        "label": scheduler or "local",
        "scheduler": scheduler,
        "account_regions_ok": len(result.ok),
        "account_regions_failed": len(result.failed),
        "files": files,
        "calls": int(calls),
        "workers": 2 if scheduler else 1,
        "threads": workers,
        "account_concurrency": 4,
        "wall_s": round(wall, 2),
        "collector_cpu_s": round(cpu, 2),
        "collector_cpu_share": round(cpu / wall, 3),
        "cpu_per_call_ms": round(1000 * cpu / calls, 2),
        "latency_per_call_ms": round(1000 * seconds / calls, 1),
        "moto_server_cpu_s": round(server_cpu, 2),
        "cluster_start_s": round(start_up, 1),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "snapshot_mb": round(size / 1e6, 2),
        "within_target": wall < TARGET_SECONDS,
    }


def run(
    members: int,
    regions: list[str],
    workers: int,
    seed_workers: int,
    schedulers: list[str],
    profile: bool,
) -> list[dict[str, Any]]:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    server, endpoint = start_moto()
    try:
        seeded = seed(endpoint, members, regions, seed_workers)
        profiler = WorkerProfile()
        if profile:
            profiler.install()
        runs = []
        for mode in schedulers:
            report = collect_once(
                endpoint, regions, workers, None if mode == "local" else mode, server.pid
            )
            report.update(
                accounts=seeded["accounts"],
                regions=len(regions),
                seed_s=round(seeded["seconds"], 1),
                cpus=os.cpu_count(),
                python=platform.python_version(),
            )
            runs.append(report)
        if profile and profiler.profiles:
            runs[0]["profile"] = profiler.report(25)
        return runs
    finally:
        server.terminate()
        server.wait(timeout=10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=50, help="accounts, management included")
    parser.add_argument("--regions", type=int, default=2, help="regions per account (1-4)")
    parser.add_argument("--workers", type=int, default=8, help="threads (per worker process)")
    parser.add_argument("--seed-workers", type=int, default=4)
    parser.add_argument(
        "--schedulers", nargs="+", default=["local", "local:2"], help="local, local:N"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the local pool")
    parser.add_argument("--json", action="store_true", help="print the runs as JSON")
    args = parser.parse_args(argv)
    regions = REGIONS[: args.regions]
    runs = run(
        args.accounts - 1, regions, args.workers, args.seed_workers, args.schedulers, args.profile
    )
    if args.json:
        print(json.dumps(runs))
        return 0
    for report in runs:
        profile = report.pop("profile", None)
        width = max(len(k) for k in report)
        for key, value in report.items():
            print(f"{key:<{width}}  {value}")
        print()
        if profile:
            print(profile)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
