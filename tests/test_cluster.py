"""Collection, audit and account stacks on a Dask cluster (``--scheduler``), against moto.

One ``LocalCluster`` serves the session (``dask_cluster``: 2 worker processes on
127.0.0.1); the moto server runs in this process, and the workers reach it, as every
client does, on loopback only. Each test compares the cluster's result with the local
pool's, or breaks something on purpose: a worker killed while a proxy holds its request,
a worker that dies mid-stack, more workers than an account may have requests in flight.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import signal
import stat
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from cluster_support import FakeRunnerFactory, FaultProxy, process_with_port
from typer.testing import CliRunner

from core.aws import Aws
from core.cluster import task_pool
from core.errors import ToolMissingError
from core.spec import Spec
from governance import baseline
from governance.audit import audit_organization
from graph.collect import MANIFEST, CollectResult, collect_snapshot
from graph.snapshot import load_snapshot
from ivs.cli import app
from sandbox import moto_ext
from sandbox.network import NetworkPlan, seed_network
from sandbox.organization import create_member_accounts, management_aws, seed_organization

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dask-cluster")]

ROLE = "OrganizationAccountAccessRole"
REGIONS = ["eu-west-1", "us-east-1"]
SPEC_FILE = Path(__file__).resolve().parents[1] / "stacks" / "Pulumi.org.yaml"
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(\+00:00|Z)?")


@pytest.fixture
def world(moto_endpoint: str) -> tuple[str, list[str]]:
    """(endpoint, member accounts): one member with the sandbox network, one with a VPC."""
    aws = Aws(endpoint_url=moto_endpoint)
    members = create_member_accounts(aws, ["networked", "plain"])
    seed_network(aws.assume(members[0], ROLE), REGIONS[0], NetworkPlan())
    aws.assume(members[1], ROLE).client("ec2", REGIONS[1]).create_vpc(CidrBlock="10.9.0.0/16")
    return moto_endpoint, members


@pytest.fixture
def scheduler(dask_cluster: Any) -> Iterator[str]:
    """The session cluster's address, with its retries as they were after the test."""
    retries = dask_cluster.scheduler.allowed_failures
    yield str(dask_cluster.scheduler_address)
    dask_cluster.scheduler.allowed_failures = retries
    dask_cluster.wait_for_workers(2, timeout=60)  # a killed worker is back (its nanny)


def files(root: Path) -> dict[str, str]:
    """Every file of a snapshot (the manifest aside), timestamps blanked."""
    return {
        str(p.relative_to(root)): _TIMESTAMP.sub("T", p.read_text())
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }


def manifest(root: Path) -> dict[str, Any]:
    return dict(json.loads((root / MANIFEST).read_text()))


def places(result: CollectResult) -> list[tuple[str, str]]:
    return [*result.ok, *[(a, r) for a, r, _ in result.failed]]


# ---- collection ----------------------------------------------------------------------------


def test_a_cluster_collects_the_snapshot_the_local_pool_does(
    world: tuple[str, list[str]], scheduler: str, tmp_path: Path
) -> None:
    endpoint, _ = world
    local = collect_snapshot(tmp_path / "local", endpoint_url=endpoint, regions=REGIONS)
    remote = collect_snapshot(
        tmp_path / "cluster", endpoint_url=endpoint, regions=REGIONS, scheduler=scheduler
    )
    assert sorted(remote.ok) == sorted(local.ok) and len(local.ok) == 6
    assert sorted(remote.iam_ok) == sorted(local.iam_ok)
    assert remote.organization == local.organization == {"status": "ok"}
    assert files(tmp_path / "cluster") == files(tmp_path / "local")
    ours, theirs = manifest(tmp_path / "cluster"), manifest(tmp_path / "local")
    assert ours["complete"] is theirs["complete"] is True
    assert ours["accounts"] == theirs["accounts"]
    # written by the workers as the collector writes: private, whole
    for path in (tmp_path / "cluster").rglob("*"):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), path


def test_an_s3_snapshot_is_collected_resumed_and_analysed(
    world: tuple[str, list[str]], scheduler: str, tmp_path: Path
) -> None:
    endpoint, members = world
    Aws(endpoint_url=endpoint).client("s3").create_bucket(Bucket="ivs-snapshots")
    location = "s3://ivs-snapshots/org/run-1"
    runner = CliRunner()
    common = ["--endpoint-url", endpoint, "--regions", ",".join(REGIONS)]
    collected = runner.invoke(
        app, ["collect", "--out", location, "--scheduler", scheduler, *common]
    )
    assert collected.exit_code == 0, collected.output
    assert "manifest: s3://ivs-snapshots/org/run-1/manifest.json" in collected.stdout
    local = collect_snapshot(tmp_path / "local", endpoint_url=endpoint, regions=REGIONS)
    assert len(local.ok) == 6

    s3 = Aws(endpoint_url=endpoint).client("s3")
    listed = s3.list_objects_v2(Bucket="ivs-snapshots", Prefix="org/run-1/")["Contents"]
    keys = {item["Key"].removeprefix("org/run-1/") for item in listed}
    assert keys == {*files(tmp_path / "local"), MANIFEST}
    stored = json.loads(
        s3.get_object(Bucket="ivs-snapshots", Key="org/run-1/manifest.json")["Body"].read()
    )
    assert stored["complete"] is True
    assert stored["accounts"] == manifest(tmp_path / "local")["accounts"]

    resumed = runner.invoke(app, ["collect", "--out", location, "--resume", *common])
    assert resumed.exit_code == 0, resumed.output
    assert "0 account-regions ok, 0 failed, 6 already complete" in resumed.stdout

    out = tmp_path / "findings.json"
    analysed = runner.invoke(
        app, ["exposure", "--snapshot", location, "--endpoint-url", endpoint, "--out", str(out)]
    )
    assert analysed.exit_code == 0, analysed.output
    ours = json.loads(out.read_text())
    assert ours["snapshot"] == location
    reference = tmp_path / "reference.json"
    runner.invoke(app, ["exposure", "--snapshot", str(tmp_path / "local"), "--out", str(reference)])
    theirs = json.loads(reference.read_text())
    assert {f["id"] for f in ours["findings"]} == {f["id"] for f in theirs["findings"]}
    assert ours["findings"] and sorted(ours["assessed"], key=str) == sorted(
        theirs["assessed"], key=str
    )
    assert members[0] in {f["account"] for f in ours["findings"]}


def test_an_unreachable_bucket_is_one_line_naming_it(moto_endpoint: str) -> None:
    where = ["--out", "s3://no-such-bucket/x", "--regions", REGIONS[0]]
    outcome = CliRunner().invoke(app, ["collect", "--endpoint-url", moto_endpoint, *where])
    assert outcome.exit_code == 2
    assert outcome.stderr.startswith("ivs: s3://no-such-bucket/x: ")
    assert len(outcome.stderr.strip().splitlines()) == 1


def _collect_in_background(
    out: Path, endpoint: str, scheduler: str, **options: Any
) -> tuple[threading.Thread, dict[str, Any]]:
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = collect_snapshot(
                out, endpoint_url=endpoint, regions=REGIONS, scheduler=scheduler, **options
            )
        except BaseException as err:  # the test reads it
            outcome["error"] = err

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def _kill_the_worker_holding(proxy: FaultProxy, dask_cluster: Any) -> str:
    """SIGKILL the worker process waiting on the held request; its account."""
    from distributed import Client

    held = proxy.wait_held()
    with Client(dask_cluster) as client:
        pid = process_with_port(client.run(os.getpid), held.client_port)
    os.kill(pid, signal.SIGKILL)
    psutil.Process(pid).wait(timeout=30) if psutil.pid_exists(pid) else None
    held.release.set()
    return held.account


def test_a_worker_killed_mid_task_leaves_its_task_to_be_run_again(
    world: tuple[str, list[str]], scheduler: str, dask_cluster: Any, tmp_path: Path
) -> None:
    endpoint, members = world
    with FaultProxy(endpoint) as proxy:
        proxy.hold_first(lambda account, target: account == members[0] and "DescribeVpcs" in target)
        thread, outcome = _collect_in_background(tmp_path / "snap", proxy.url, scheduler)
        assert _kill_the_worker_holding(proxy, dask_cluster) == members[0]
        thread.join(timeout=180)
    assert "error" not in outcome, outcome.get("error")
    result = outcome["result"]
    assert len(places(result)) == len(set(places(result))) == 6  # none lost, none twice
    assert not result.failed and sorted(result.iam_ok) == sorted(set(result.iam_ok))
    document = manifest(tmp_path / "snap")
    assert document["complete"] is True
    statuses = [e["status"] for a in document["accounts"].values() for e in a["regions"].values()]
    assert statuses == ["ok"] * 9
    snapshot = load_snapshot(tmp_path / "snap")
    assert snapshot.not_assessed == []
    local = collect_snapshot(tmp_path / "local", endpoint_url=endpoint, regions=REGIONS)
    assert files(tmp_path / "snap") == files(tmp_path / "local") and local.ok


def test_a_task_whose_workers_keep_dying_is_recorded_not_assessed(
    world: tuple[str, list[str]], scheduler: str, dask_cluster: Any, tmp_path: Path
) -> None:
    endpoint, members = world
    dask_cluster.scheduler.allowed_failures = 0  # no retry: the first death is final
    with FaultProxy(endpoint) as proxy:
        proxy.hold_first(lambda account, target: account == members[0] and "DescribeVpcs" in target)
        thread, outcome = _collect_in_background(tmp_path / "snap", proxy.url, scheduler)
        _kill_the_worker_holding(proxy, dask_cluster)
        thread.join(timeout=180)
    assert "error" not in outcome, outcome.get("error")
    result = outcome["result"]
    assert len(places(result)) == len(set(places(result))) == 6
    # the tasks the scheduler saw on the killed worker (the held one, unless the scheduler
    # had moved it to the other worker before it started there) are not assessed
    assert result.failed and {code for _, _, code in result.failed} == {"KilledWorker"}
    document = manifest(tmp_path / "snap")
    assert document["complete"] is True
    not_assessed = load_snapshot(tmp_path / "snap").not_assessed
    for account, region, _ in result.failed:
        entry = document["accounts"][account]["regions"][region]
        assert entry["status"] == "error" and entry["error"] == "KilledWorker"
        assert "workers died" in entry["message"]
        assert not list((tmp_path / "snap" / account / region).glob("*.json"))
        assert {"account": account, "region": region, "error": "KilledWorker"} in not_assessed
    for account, region in result.ok:
        assert document["accounts"][account]["regions"][region]["status"] == "ok"


@pytest.mark.parametrize(("use_cluster", "bound"), [(True, 2), (False, 1)])
def test_no_account_has_more_requests_in_flight_than_its_bound(
    moto_endpoint: str,
    dask_cluster: Any,
    use_cluster: bool,
    bound: int,
    tmp_path: Path,
) -> None:
    aws = Aws(endpoint_url=moto_endpoint)
    members = create_member_accounts(aws, ["a", "b", "c"])
    regions = ["eu-west-1", "us-east-1", "us-west-2"]
    for account in members:
        aws.assume(account, ROLE).client("ec2", regions[0]).create_vpc(CidrBlock="10.1.0.0/16")
    with FaultProxy(moto_endpoint, delay=0.01) as proxy:
        result = collect_snapshot(
            tmp_path / "snap",
            endpoint_url=proxy.url,
            regions=regions,
            workers=8,  # 8 threads here, 8 on the cluster: more than the bound
            account_concurrency=bound,
            scheduler=str(dask_cluster.scheduler_address) if use_cluster else None,
        )
    assert len(result.ok) == 4 * len(regions) and not result.failed
    most = {a: n for a, n in proxy.most.items() if a not in ("unknown", "sts")}
    assert set(most) == {*members, "123456789012"}
    assert max(most.values()) <= bound, most
    assert bound in most.values(), most  # the bound was reached: the test means something


# ---- audit -----------------------------------------------------------------------------------


def test_a_cluster_audits_as_the_local_pool_does(
    spec: Spec, moto_endpoint: str, scheduler: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")  # unused by the audit
    moto_ext.install()
    aws = Aws(endpoint_url=moto_endpoint)
    seed_organization(spec, aws)
    mgmt = management_aws(spec, aws)
    members = [a.id for a, _ in spec.accounts()]
    moto_ext.seed_account_baseline(mgmt, spec, members[:5], workers=2)  # the rest drift
    local = audit_organization(spec, mgmt, workers=4)
    # the workers read the members with their own credentials (moto's default account)
    remote = audit_organization(spec, mgmt, workers=4, scheduler=scheduler)
    assert [c.as_dict() for c in remote.checks] == [c.as_dict() for c in local.checks]
    counts = local.counts()
    assert counts["pass"] and counts["drift"] and remote.counts() == counts


def test_an_aws_session_is_never_pickled() -> None:
    with pytest.raises(TypeError, match="never pickled"):
        pickle.dumps(Aws(endpoint_url="http://127.0.0.1:1"))


# ---- account stacks --------------------------------------------------------------------------


def test_account_stacks_run_on_the_cluster_with_a_runner_each_worker_makes(
    spec: Spec, scheduler: str
) -> None:
    accounts = [a.id for a, _ in spec.accounts()]
    started: list[str] = []
    results = baseline.apply_baselines(
        spec,
        accounts,
        None,
        preview=True,
        concurrency=None,
        scheduler=scheduler,
        runner_factory=FakeRunnerFactory(fail=frozenset(accounts[:1])),
        spec_path=SPEC_FILE,
        on_start=started.append,
    )
    assert [r.account_id for r in results] == accounts == started
    assert not results[0].ok and "AccessDenied" in (results[0].error or "")
    assert all(r.ok and r.changes["same"] == 11 for r in results[1:])
    assert len({r.changes["pid"] for r in results[1:]}) >= 1
    assert {r.changes["pid"] for r in results[1:]}.isdisjoint({os.getpid()})


def test_a_stack_whose_worker_dies_is_a_failed_account_and_the_others_go_on(
    spec: Spec, scheduler: str, dask_cluster: Any
) -> None:
    dask_cluster.scheduler.allowed_failures = 0
    accounts = [a.id for a, _ in spec.accounts()][:4]
    results = baseline.apply_baselines(
        spec,
        accounts,
        None,
        preview=False,
        concurrency=1,  # one at a time: only the dying stack is on its worker
        scheduler=scheduler,
        runner_factory=FakeRunnerFactory(die=frozenset(accounts[1:2])),
        spec_path=SPEC_FILE,
    )
    assert [r.ok for r in results] == [True, False, True, True]
    assert (results[1].error or "").startswith("KilledWorker")


def test_a_worker_without_the_pulumi_cli_stops_the_run(spec: Spec, scheduler: str) -> None:
    with pytest.raises(ToolMissingError, match="Pulumi CLI"):
        baseline.apply_baselines(
            spec,
            [a.id for a, _ in spec.accounts()],
            None,
            preview=True,
            concurrency=2,
            scheduler=scheduler,
            runner_factory=FakeRunnerFactory(missing_cli=True),
            spec_path=SPEC_FILE,
        )


# ---- the options ------------------------------------------------------------------------------


def test_local_n_listens_on_loopback_only() -> None:
    with task_pool("local:1", 1, "test") as pool:
        pids = [os.getpid(), *pool.worker_pids().values()]
        listening = [
            conn.laddr
            for pid in pids
            for conn in psutil.Process(pid).net_connections("inet")
            if conn.status == psutil.CONN_LISTEN
        ]
        assert pool.executor.submit(sum, [1, 2]).result() == 3
    assert listening and {address.ip for address in listening} == {"127.0.0.1"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scheduler", "local:0"], "--scheduler: 'local:0' is not local:N (N from 1 to 64)"),
        (
            ["--scheduler", "not an address"],
            "--scheduler: 'not an address' is not a scheduler address (tcp://HOST:PORT) nor "
            "local:N",
        ),
        (["--account-concurrency", "0"], None),
    ],
)
def test_bad_cluster_options_exit_2_with_one_line(
    args: list[str], message: str | None, tmp_path: Path
) -> None:
    outcome = CliRunner().invoke(app, ["collect", "--out", str(tmp_path / "s"), *args])
    assert outcome.exit_code == 2
    if message is not None:
        assert outcome.stderr.strip() == f"ivs: {message}"
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize(
    "command",
    [
        ["collect", "--out", "snap"],
        ["audit", "--spec", str(SPEC_FILE)],
        ["baseline", "apply", "--spec", str(SPEC_FILE), "--all"],
    ],
)
def test_without_dask_a_scheduler_says_what_to_install(
    command: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "distributed", None)  # import fails as if absent
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "local:2")
    outcome = CliRunner().invoke(app, command)
    assert outcome.exit_code == 2
    assert outcome.stderr == (
        "ivs: --scheduler needs Dask distributed, and distributed is not installed: "
        "pip install 'ivs-governance[cluster]' (Dask distributed)\n"
    )
    assert not (tmp_path / "snap").exists()


def test_a_member_account_whose_workers_died_is_not_assessed(spec: Spec) -> None:
    from concurrent.futures import Future
    from types import SimpleNamespace

    from distributed.scheduler import KilledWorker

    from governance.audit import _member_checks

    account = next(a.id for a, _ in spec.accounts())
    future: Future[Any] = Future()
    worker = SimpleNamespace(address="tcp://127.0.0.1:40000")
    future.set_exception(KilledWorker("audit_member-1", worker, 3))  # type: ignore[arg-type]
    checks = _member_checks(spec, account, future)
    assert checks and {c.status for c in checks} == {"not_assessed"}
    assert all(c.account == account and (c.error or "").startswith("KilledWorker") for c in checks)
    broken: Future[Any] = Future()
    broken.set_exception(ValueError("a bug is not an account's failure"))
    with pytest.raises(ValueError):
        _member_checks(spec, account, broken)
