"""Collection from a moto server seeded with 50 accounts x 2 regions.

The moto server runs in its own process (moto's server on 127.0.0.1, with the stand-in's
additions of ``sandbox.moto_fleet``), so the CPU time
of this process is the collector's own (boto3 request signing and response parsing, our
code, JSON writing), and the server's CPU time is read from ``/proc``. The organization
has a management account and 49 members; every account-region gets the full estate of
``sandbox.network`` (3 VPCs, 7 instances, an ALB, a TGW, peering, NAT...),
so each account-region answers 37 kinds (the network's, and the fleet's: volumes,
snapshots, images, SSM, backups, detection services) with real-shaped data. Seeding is not timed.

Measured: wall time of ``collect_snapshot`` (target: under 60 s), this process's CPU
time during it (user + system, all threads) against wall time, the moto server's CPU
time over the same span, and the number of API calls. ``--profile`` adds a cProfile of
the collector's worker threads (top functions by own time).

    .venv/bin/python -m bench.bench_collect                  # a table
    .venv/bin/python -m bench.bench_collect --json           # one JSON object
    .venv/bin/python -m bench.bench_collect --accounts 10 --profile
"""

from __future__ import annotations

import argparse
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

REGIONS = ["eu-west-1", "us-east-1"]
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


def seed(endpoint: str, members: int, workers: int) -> dict[str, Any]:
    from core.aws import Aws
    from sandbox.network import NetworkPlan, seed_network
    from sandbox.organization import create_member_accounts

    aws = Aws(endpoint_url=endpoint)
    started = time.perf_counter()
    accounts = create_member_accounts(aws, [f"member{i:03d}" for i in range(members)])
    management = aws.client("sts").get_caller_identity()["Account"]

    def one(account: str) -> None:
        target = aws if account == management else aws.assume(account, ROLE)
        for index, region in enumerate(REGIONS):
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

        original = collect._Run.collect_region
        profiles = self.profiles
        lock = self.lock

        def profiled(run: Any, session: Any, region: str) -> Any:
            profile = cProfile.Profile()
            with lock:
                profiles.append(profile)
            profile.enable()
            try:
                return original(run, session, region)
            finally:
                profile.disable()

        collect._Run.collect_region = profiled  # type: ignore[method-assign]

    def report(self, top: int) -> str:
        stream = io.StringIO()
        stats = pstats.Stats(self.profiles[0], stream=stream)
        for profile in self.profiles[1:]:
            stats.add(profile)
        stats.sort_stats("tottime").print_stats(top)
        return stream.getvalue()


def count_calls() -> dict[str, int]:
    """Count every API call made through core.aws.Aws clients."""
    from core.aws import Aws

    counts: dict[str, int] = {"calls": 0}
    lock = threading.Lock()
    original = Aws.client

    def client(self: Aws, service: str, region: str | None = None) -> Any:
        made = original(self, service, region)

        def record(**_: Any) -> None:
            with lock:
                counts["calls"] += 1

        made.meta.events.register("before-call.*.*", record)
        return made

    Aws.client = client  # type: ignore[method-assign]
    return counts


def run(members: int, workers: int, seed_workers: int, profile: bool) -> dict[str, Any]:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    server, endpoint = start_moto()
    try:
        seeded = seed(endpoint, members, seed_workers)

        from graph.collect import collect_snapshot

        counts = count_calls()
        profiler = WorkerProfile()
        if profile:
            profiler.install()
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "snapshot"
            server_cpu = process_cpu(server.pid)
            cpu = time.process_time()
            wall = time.perf_counter()
            result = collect_snapshot(out, endpoint_url=endpoint, regions=REGIONS, workers=workers)
            wall = time.perf_counter() - wall
            cpu = time.process_time() - cpu
            server_cpu = process_cpu(server.pid) - server_cpu
            size = sum(p.stat().st_size for p in out.rglob("*.json"))
        report: dict[str, Any] = {
            "scenario": f"collect {seeded['accounts']} accounts x {len(REGIONS)} regions",
            "account_regions_ok": len(result.ok),
            "account_regions_failed": len(result.failed),
            "api_calls": counts["calls"],
            "workers": workers,
            "seconds": round(wall, 2),
            "collector_cpu_seconds": round(cpu, 2),
            "collector_cpu_share": round(cpu / wall, 3),
            "moto_server_cpu_seconds": round(server_cpu, 2),
            "snapshot_mb": round(size / 1e6, 2),
            "target_seconds": TARGET_SECONDS,
            "within_target": wall < TARGET_SECONDS,
            "seed_seconds": round(seeded["seconds"], 1),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        }
        if profile:
            report["profile"] = profiler.report(25)
        return report
    finally:
        server.terminate()
        server.wait(timeout=10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=50, help="accounts, management included")
    parser.add_argument("--workers", type=int, default=8, help="collector workers")
    parser.add_argument("--seed-workers", type=int, default=4)
    parser.add_argument("--profile", action="store_true", help="cProfile the worker threads")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    report = run(args.accounts - 1, args.workers, args.seed_workers, args.profile)
    if args.json:
        print(json.dumps(report))
        return 0
    profile = report.pop("profile", None)
    width = max(len(k) for k in report)
    for key, value in report.items():
        print(f"{key:<{width}}  {value}")
    if profile:
        print(profile)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
