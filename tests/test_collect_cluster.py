"""The collector on a Dask cluster: one ``LocalCluster`` of two worker processes for the
session, reached by its scheduler's address as a real cluster would be, against the
session's moto server, sometimes through a loopback proxy that counts or holds requests.

The cluster gives the same snapshot as the local pool; a worker killed in the middle of a
request leaves its account-region to the scheduler, which runs it again, so nothing is
lost, half-written or recorded twice; ``s3://`` output lands in moto's S3; and
``--account-concurrency`` bounds the requests in flight against one account across
every worker.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import re
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from core.aws import Aws
from graph.collect import MANIFEST, collect_snapshot
from sandbox.organization import create_member_accounts

distributed = pytest.importorskip("distributed")
psutil = pytest.importorskip("psutil")

REGIONS = ["eu-west-1", "us-east-1"]
_ACCOUNT_AGENT = re.compile(r"ivs-account/(\d{12})")


@pytest.fixture(scope="session")
def scheduler() -> Iterator[str]:
    """The address of a LocalCluster of two worker processes (two threads each) on
    loopback, started once for the session."""
    import dask

    quiet = {
        "distributed.scheduler.http.routes": ["distributed.http.health"],
        "distributed.worker.http.routes": ["distributed.http.health"],
        "logging.distributed": "error",
    }
    with dask.config.set(quiet):
        cluster = distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=2,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            worker_dashboard_address=None,
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
            silence_logs=logging.ERROR,
        )
    try:
        yield str(cluster.scheduler_address)
    finally:
        cluster.close()


@pytest.fixture
def world(moto_endpoint: str) -> tuple[str, list[str]]:
    """(endpoint, two member accounts), each with a VPC and a subnet in both regions."""
    accounts = create_member_accounts(Aws(endpoint_url=moto_endpoint), ["alpha", "beta"])
    for n, account in enumerate(accounts):
        member = Aws(endpoint_url=moto_endpoint).assume(account, "OrganizationAccountAccessRole")
        for m, region in enumerate(REGIONS):
            ec2 = member.client("ec2", region)
            vpc = ec2.create_vpc(CidrBlock=f"10.{n * 10 + m}.0.0/16")["Vpc"]["VpcId"]
            ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.{n * 10 + m}.1.0/24")
    return moto_endpoint, accounts


def snapshot_files(root: Path) -> dict[str, Any]:
    """Every data file of a snapshot, parsed (the manifest without its timestamp)."""
    files: dict[str, Any] = {}
    for path in sorted(root.rglob("*.json")):
        document = json.loads(path.read_text())
        files[str(path.relative_to(root))] = comparable(path.name, document)
    return files


def comparable(name: str, document: Any) -> Any:
    """A file as two runs compare it: without the manifest's time, nor the last use of the
    roles (each run assumes them)."""
    if name == MANIFEST:
        document.pop("collected_at")
    for role in document.get("RoleDetailList", []):
        role.pop("RoleLastUsed", None)
    return document


def place_counts(result: Any) -> Counter[tuple[str, str]]:
    places = [*result.ok, *((a, r) for a, r, _ in result.failed)]
    places += [(a, "global") for a in result.iam_ok]
    places += [(a, "global") for a, _ in result.iam_failed]
    return Counter(places)


# ---- a loopback proxy in front of the moto server ---------------------------------------


class Proxy:
    """Forwards every request to ``upstream``, counting the requests in flight per account
    (read from the ``ivs-account/<id>`` the collector puts in its User-Agent), after
    ``delay`` seconds; ``hold(account)`` keeps the next request of that account waiting
    (unanswered) until :meth:`release`."""

    def __init__(self, upstream: str, delay: float = 0.0) -> None:
        self.upstream = upstream.removeprefix("http://")
        self.delay = delay
        self.lock = threading.Lock()
        self.in_flight: Counter[str] = Counter()
        self.most: Counter[str] = Counter()
        self.hold_account: str | None = None
        self.held = threading.Event()
        self.held_peer: tuple[str, int] | None = None
        self.released = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: Any) -> None:
                pass

            def forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                found = _ACCOUNT_AGENT.search(self.headers.get("User-Agent", ""))
                account = found.group(1) if found else "-"
                if proxy.take_hold(account, self.client_address):
                    proxy.released.wait(60)
                    self.close_connection = True
                    return  # never answered: the worker that sent it is gone
                with proxy.lock:
                    proxy.in_flight[account] += 1
                    proxy.most[account] = max(proxy.most[account], proxy.in_flight[account])
                try:
                    time.sleep(proxy.delay)
                    upstream = http.client.HTTPConnection(proxy.upstream, timeout=60)
                    headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    response = upstream.getresponse()
                    payload = response.read()
                    upstream.close()
                finally:
                    with proxy.lock:
                        proxy.in_flight[account] -= 1
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def take_hold(self, account: str, peer: tuple[str, int]) -> bool:
        with self.lock:
            if self.hold_account is None or account != self.hold_account:
                return False
            self.hold_account = None
            self.held_peer = peer
        self.held.set()
        return True

    def release(self) -> None:
        self.released.set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def __enter__(self) -> Proxy:
        self.thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()


def worker_pid_with_port(scheduler: str, port: int) -> int:
    """The worker process whose TCP connection has local ``port``."""
    with distributed.Client(scheduler, timeout=30) as client:
        pids = list(client.run(os.getpid).values())
    for pid in pids:
        for connection in psutil.Process(pid).net_connections(kind="tcp"):
            if connection.laddr and connection.laddr.port == port:
                return int(pid)
    raise AssertionError(f"no worker of {pids} holds port {port}")


# ---- the tests ------------------------------------------------------------------------


def test_the_cluster_collects_the_snapshot_the_local_pool_does(
    world: tuple[str, list[str]], scheduler: str, tmp_path: Path
) -> None:
    endpoint, accounts = world
    options: dict[str, Any] = {"endpoint_url": endpoint, "accounts": accounts, "regions": REGIONS}
    local = collect_snapshot(tmp_path / "local", **options)
    cluster = collect_snapshot(tmp_path / "cluster", scheduler=scheduler, **options)

    assert not local.failed and not cluster.failed
    assert (
        sorted(cluster.ok) == sorted(local.ok) == sorted((a, r) for a in accounts for r in REGIONS)
    )
    assert max(place_counts(cluster).values()) == 1
    assert snapshot_files(tmp_path / "cluster") == snapshot_files(tmp_path / "local")
    manifest = json.loads((tmp_path / "cluster" / MANIFEST).read_text())
    assert manifest["complete"] is True
    modes = {p.stat().st_mode & 0o777 for p in (tmp_path / "cluster").rglob("*")}
    assert modes <= {0o600, 0o700}


def test_a_worker_killed_in_a_request_leaves_its_place_to_be_run_again(
    world: tuple[str, list[str]], scheduler: str, tmp_path: Path
) -> None:
    endpoint, accounts = world
    reference = collect_snapshot(
        tmp_path / "local", endpoint_url=endpoint, accounts=accounts, regions=REGIONS
    )
    with Proxy(endpoint) as proxy:
        proxy.hold_account = accounts[1]
        outcome: dict[str, Any] = {}

        def run() -> None:
            try:
                outcome["result"] = collect_snapshot(
                    tmp_path / "cluster",
                    endpoint_url=proxy.url,
                    accounts=accounts,
                    regions=REGIONS,
                    scheduler=scheduler,
                )
            except BaseException as err:  # shown by the assertion below
                outcome["error"] = err

        collecting = threading.Thread(target=run)
        collecting.start()
        assert proxy.held.wait(120), "no request of the account reached the proxy"
        assert proxy.held_peer is not None
        os.kill(worker_pid_with_port(scheduler, proxy.held_peer[1]), signal.SIGKILL)
        proxy.release()
        collecting.join(180)
        assert not collecting.is_alive()

    assert "error" not in outcome, outcome.get("error")
    result = outcome["result"]
    # retried by the scheduler on a live worker: every place once, all of them read
    assert place_counts(result) == place_counts(reference)
    assert not result.failed and not result.iam_failed
    assert not list((tmp_path / "cluster").rglob("*.tmp"))
    assert snapshot_files(tmp_path / "cluster") == snapshot_files(tmp_path / "local")


def test_the_snapshot_goes_to_s3(
    world: tuple[str, list[str]], scheduler: str, tmp_path: Path
) -> None:
    endpoint, accounts = world
    s3 = Aws(endpoint_url=endpoint).client("s3")
    s3.create_bucket(Bucket="ivs-snapshots")
    options: dict[str, Any] = {"endpoint_url": endpoint, "accounts": accounts, "regions": REGIONS}
    collect_snapshot(tmp_path / "local", **options)
    result = collect_snapshot("s3://ivs-snapshots/org/run-1", scheduler=scheduler, **options)

    assert not result.failed
    assert "s3://ivs-snapshots/org/run-1/manifest.json" in result.summary()
    listed = s3.list_objects_v2(Bucket="ivs-snapshots", Prefix="org/run-1/")["Contents"]
    got: dict[str, Any] = {}
    for item in listed:
        document = json.loads(s3.get_object(Bucket="ivs-snapshots", Key=item["Key"])["Body"].read())
        name = item["Key"].removeprefix("org/run-1/")
        got[name] = comparable(name, document)
    assert got == snapshot_files(tmp_path / "local")


def test_account_concurrency_bounds_one_account_across_the_workers(
    world: tuple[str, list[str]], scheduler: str, tmp_path: Path
) -> None:
    endpoint, accounts = world
    most = {}
    for bound in (1, 4):
        with Proxy(endpoint, delay=0.02) as proxy:
            result = collect_snapshot(
                tmp_path / f"bound-{bound}",
                endpoint_url=proxy.url,
                accounts=accounts,
                regions=REGIONS,
                scheduler=scheduler,
                account_concurrency=bound,
            )
        assert not result.failed
        most[bound] = {account: proxy.most[account] for account in accounts}
    # four threads on two workers, and never two requests of one account at once
    assert most[1] == {account: 1 for account in accounts}
    # the proxy does see concurrency when the bound allows it (two regions and IAM)
    assert max(most[4].values()) > 1
