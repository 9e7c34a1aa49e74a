"""``ivs audit`` of 200 member accounts x 4 regions against a moto server.

The organization is the example spec's OU tree and controls with 200 generated member
accounts spread over its OUs, governed in 4 regions. The moto server
(``ThreadedMotoServer`` on 127.0.0.1) runs in a child process, which seeds it: the spec's
organization (``sandbox.organization``), the documents moto lacks and the per-account
baseline in every account-region (``sandbox.moto_ext``). Seeding is not timed.
The account ids must be the spec's, which moto only allows in its own process; that is
why the child seeds its own server.

Measured: the wall time of ``audit_organization`` (target: under 2 minutes), this
process's CPU time (user + system, all threads) against that wall time, the moto
server's CPU time over the same span (from ``/proc``), and the API calls sent. The audit
must come back all pass. ``--workers`` runs it once per pool size.

    .venv/bin/python -m bench.bench_audit                    # 200 x 4, a table
    .venv/bin/python -m bench.bench_audit --json             # one JSON object
    .venv/bin/python -m bench.bench_audit --accounts 20 --workers 4 16
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import multiprocessing
import os
import platform
import sys
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

REGIONS = ["us-east-1", "eu-west-1", "us-west-2", "eu-central-1"]
OUS = ["Security", "Infrastructure", "Workloads/Prod", "Workloads/NonProd", "Sandbox"]
TARGET_SECONDS = 120.0


def bench_fields(accounts: int, regions: list[str]) -> dict[str, Any]:
    """The example spec's ``ivs`` fields with ``accounts`` generated members."""
    from core.spec import ivs_fields, read_yaml

    example = REPO / "stacks" / "Pulumi.org.yaml"
    fields = copy.deepcopy(ivs_fields(read_yaml(example), str(example)))
    fields["regions"] = regions
    units = {u["name"]: u for u in fields["organization"]["units"]}
    units.update({f"Workloads/{u['name']}": u for u in units["Workloads"]["units"]})
    for unit in units.values():
        unit["accounts"] = []
    for number in range(accounts):
        account_id = f"7{number:011d}"
        units[OUS[number % len(OUS)]]["accounts"].append(
            {"id": account_id, "name": f"bench-{number}", "email": f"bench+{number}@example.com"}
        )
    # the network account the SCPs name must stay a real member
    fields["parameters"]["network_account_ids"] = ["700000000001"]
    fields["parameters"]["approved_ami_owners"] = ["amazon"]
    return fields


def bench_spec(accounts: int, regions: list[str]) -> Any:
    from governance.spec import spec_from_mapping

    return spec_from_mapping(
        bench_fields(accounts, regions), "bench", base_dir=str(REPO / "stacks")
    )


def serve(accounts: int, regions: list[str], conn: Connection) -> None:
    """Child process: start moto, seed it, report the endpoint, serve until told to stop."""
    import logging

    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench")
    # moto loads thousands of default AMIs into every new account-region; the audit reads
    # none of them, and 800 account-regions of them would only measure moto's start-up.
    os.environ["MOTO_EC2_LOAD_DEFAULT_AMIS"] = "false"
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    from moto.server import ThreadedMotoServer

    from core.aws import Aws
    from sandbox import moto_ext
    from sandbox.organization import management_aws, seed_organization

    moto_ext.install()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    spec = bench_spec(accounts, regions)
    started = time.monotonic()
    aws = Aws(endpoint_url=endpoint)
    seeded = seed_organization(spec, aws)
    moto_ext.seed_unsupported_documents(spec, aws, seeded)
    moto_ext.seed_account_baseline(management_aws(spec, aws), spec, workers=2)
    conn.send({"endpoint": endpoint, "seed_seconds": time.monotonic() - started})
    conn.recv()  # stop
    server.stop()


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CallCounter:
    """Counts HTTP requests botocore sends from this process (all clients, all threads)."""

    def __init__(self) -> None:
        from botocore import endpoint

        endpoint_class: Any = endpoint.Endpoint
        self.count = 0
        self._lock = threading.Lock()
        original = endpoint_class._send
        counter = self

        def counted(self: Any, request: Any) -> Any:
            with counter._lock:
                counter.count += 1
            return original(self, request)

        endpoint_class._send = counted


def run(accounts: int, regions: list[str], workers: list[int]) -> dict[str, Any]:
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench")
    os.environ.pop("AWS_ENDPOINT_URL", None)
    from core.aws import Aws
    from governance.audit import audit_organization
    from sandbox.organization import management_aws

    spec = bench_spec(accounts, regions)
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    server = context.Process(target=serve, args=(accounts, regions, child), daemon=True)
    server.start()
    try:
        ready = parent.recv()
        assert server.pid is not None
        aws = management_aws(spec, Aws(endpoint_url=ready["endpoint"]))
        counter = CallCounter()
        runs = []
        for pool in workers:
            calls_before = counter.count
            server_cpu = process_cpu(server.pid)
            cpu = time.process_time()
            wall = time.perf_counter()
            result = audit_organization(spec, aws, workers=pool, today=dt.date(2026, 11, 27))
            wall = time.perf_counter() - wall
            cpu = time.process_time() - cpu
            server_cpu = process_cpu(server.pid) - server_cpu
            counts = result.counts()
            runs.append(
                {
                    "workers": pool,
                    "wall_seconds": round(wall, 2),
                    "audit_cpu_seconds": round(cpu, 2),
                    "audit_cpu_per_wall": round(cpu / wall, 2),
                    "server_cpu_seconds": round(server_cpu, 2),
                    "api_calls": counter.count - calls_before,
                    "calls_per_second": round((counter.count - calls_before) / wall, 1),
                    "records": len(result.checks),
                    "counts": counts,
                    "all_pass": counts["drift"] == 0 and counts["not_assessed"] == 0,
                }
            )
        parent.send("stop")
        server.join(timeout=30)
    finally:
        if server.is_alive():
            server.terminate()
    return {
        "bench": "audit",
        "accounts": accounts,
        "regions": len(regions),
        "seed_seconds": round(ready["seed_seconds"], 1),
        "target_seconds": TARGET_SECONDS,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "runs": runs,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--regions", type=int, default=4, choices=range(1, len(REGIONS) + 1))
    parser.add_argument("--workers", type=int, nargs="+", default=[16])
    parser.add_argument("--json", action="store_true", help="Print one JSON object.")
    args = parser.parse_args(argv)
    report = run(args.accounts, REGIONS[: args.regions], args.workers)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(
            f"audit of {report['accounts']} accounts x {report['regions']} regions "
            f"(seeded in {report['seed_seconds']} s, {report['cpus']} CPUs)"
        )
        for item in report["runs"]:
            print(
                f"  workers {item['workers']:>3}: {item['wall_seconds']:>6} s wall, "
                f"audit CPU {item['audit_cpu_seconds']} s ({item['audit_cpu_per_wall']} of wall), "
                f"moto CPU {item['server_cpu_seconds']} s, {item['api_calls']} calls "
                f"({item['calls_per_second']}/s), {item['records']} records, "
                f"{'all pass' if item['all_pass'] else item['counts']}"
            )
    ok = all(r["all_pass"] and r["wall_seconds"] < TARGET_SECONDS for r in report["runs"])
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
