"""``ivs demo --out DIR`` end to end, as a user runs it: the console script in a subprocess.

The demo runs once per test session, also under ``pytest -n``: the first worker to ask
runs it under a file lock and leaves the outcome in the session's shared temporary
directory for the others. The subprocess gets an environment that would fail the run if
the demo used it (a profile that does not exist, keys that are not moto's, an endpoint on
a closed port), and runs in its own session so that anything it left running can be
found afterwards in ``/proc``.

Expected findings come from ``DIR/demo-world.json``, where the demo records the ids it
created and, per planted item, the findings or audit records that item must produce.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pytest

from core.jsonio import minify
from core.spec import Spec
from governance.policies import build_documents
from graph.findings import analyse
from sandbox.world import BY_SOURCE, finding_key

pytestmark = pytest.mark.slow

Finding = tuple[str, str, str | None, str | None]

#: What the caller's environment holds; the demo must use none of it.
HOSTILE_ENVIRONMENT = {
    "AWS_PROFILE": "ivs-demo-test-no-such-profile",
    "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "AWS_SESSION_TOKEN": "not-a-session-token",
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9",  # nothing listens there: a use would fail
    "AWS_DEFAULT_REGION": "ap-southeast-2",
}


@dataclass
class Outcome:
    out: str
    returncode: int
    stdout: str
    stderr: str
    pid: int
    seconds: float
    #: processes of the demo's session still alive once it had exited
    survivors: list[str]

    @property
    def path(self) -> Path:
        return Path(self.out)


def session_members(session_id: int) -> list[str]:
    """``pid comm`` of every process in session ``session_id``, from ``/proc``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            # "pid (comm) state ppid pgrp session ...": comm may hold spaces and parens
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[3]) == session_id:
                found.append(f"{entry.name} {stat.split('(', 1)[1].rsplit(')', 1)[0]}")
    return found


def run_demo_subprocess(out: Path) -> Outcome:
    ivs = Path(sys.executable).with_name("ivs")
    env = {**os.environ, **HOSTILE_ENVIRONMENT}
    started = time.perf_counter()
    proc = subprocess.Popen(
        [str(ivs), "demo", "--out", str(out)],
        cwd=out.parent,  # not the repository: the demo finds its example spec itself
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    seconds = time.perf_counter() - started
    return Outcome(
        str(out), proc.returncode, stdout, stderr, proc.pid, seconds, session_members(proc.pid)
    )


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outcome]:
    # Under xdist every worker has its own session; their base temp shares a parent.
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent
    record = shared / "ivs-demo-outcome.json"
    with open(shared / "ivs-demo.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if record.exists():
                outcome = Outcome(**json.loads(record.read_text()))
            else:
                run_dir = shared / "ivs-demo"
                run_dir.mkdir(exist_ok=True)
                outcome = run_demo_subprocess(run_dir / "out")
                record.write_text(json.dumps(asdict(outcome)))
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    yield outcome


@pytest.fixture(scope="session")
def world(demo: Outcome) -> dict[str, Any]:
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    return dict(json.loads((demo.path / "demo-world.json").read_text()))


@pytest.fixture(scope="session")
def findings(demo: Outcome) -> dict[str, Any]:
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    return dict(json.loads((demo.path / "findings.json").read_text()))


def planted(world: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [item for item in world["planted"] if item["kind"] == kind]


def as_finding(item: dict[str, Any]) -> Finding:
    return finding_key(item)


def read(out: Path, account: str, region: str, key: str) -> list[Any]:
    document = json.loads((out / "snapshot" / account / region / f"{key}.json").read_text())
    return list(document[key])


# ---- the run -----------------------------------------------------------------------------


def test_demo_exits_zero_and_writes_every_file(demo: Outcome) -> None:
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    for name in (
        "report.html",
        "findings.json",
        "findings.sarif",
        "policy.md",
        "policy.html",
        "audit.json",
        "demo-world.json",
        "lint.json",
        "policies/index.json",
        "plan/org.json",
        "plan/baseline-400000000001.json",
        "snapshot/manifest.json",
    ):
        path = demo.path / name
        assert path.is_file() and path.stat().st_size > 0, name
    assert "demo ok" in demo.stdout
    assert "every planted mistake was reported, and nothing else" in demo.stdout


def test_summary_names_every_file_and_nothing_else(demo: Outcome) -> None:
    listed = demo.stdout.split("files written under", 1)[1]
    snapshots = [demo.path / "snapshot", demo.path / "second-run" / "snapshot"]
    files = [p for p in demo.path.rglob("*") if p.is_file()]
    in_snapshot = [p for p in files if any(p.is_relative_to(s) for s in snapshots)]
    others = sorted(p.relative_to(demo.path).as_posix() for p in files if p not in in_snapshot)
    for name in others:
        assert f"\n  {name}\n" in listed, name
    for snapshot in snapshots:
        count = sum(1 for p in in_snapshot if p.is_relative_to(snapshot))
        assert f"  {snapshot.relative_to(demo.path).as_posix()}/ ({count} files:" in listed
    named = [line.strip() for line in listed.splitlines() if line.startswith("  ")]
    assert len(named) == len(others) + 2  # each file once, and a line per snapshot
    assert listed.split(":", 1)[0].strip().endswith("out")
    assert f"{len(files)} files written under" in demo.stdout


def test_nothing_is_left_running(demo: Outcome, world: dict[str, Any]) -> None:
    assert demo.returncode is not None
    assert demo.survivors == []
    host, port = world["endpoint"].removeprefix("http://").rsplit(":", 1)
    assert host == "127.0.0.1"
    with socket.socket() as probe:
        probe.settimeout(2)
        assert probe.connect_ex((host, int(port))) != 0, "the moto port still accepts"


def test_the_callers_aws_environment_is_neither_used_nor_needed(demo: Outcome) -> None:
    # The hostile profile, keys and endpoint were in the environment: any use would have
    # failed the run (unknown profile, refused connection). Nothing mentions them either.
    assert demo.returncode == 0
    for value in ("ivs-demo-test-no-such-profile", "127.0.0.1:9/", "AKIAIOSFODNN7EXAMPLE"):
        assert value not in demo.stdout + demo.stderr


# ---- what the analysis and the audit report ------------------------------------------------


def test_findings_are_exactly_the_planted_mistakes_and_the_intended_exposure(
    world: dict[str, Any], findings: dict[str, Any]
) -> None:
    mistakes = planted(world, "mistake")
    assert len(mistakes) == 17
    expected: set[Finding] = set()
    for item in mistakes + planted(world, "by-design"):
        expected |= {as_finding(f) for f in item["findings"]}
        # each item expects something, so the equality below cannot hold vacuously
        assert item["findings"] or item["audit"], item["key"]
    found = {finding_key(f) for f in findings["findings"]}
    assert found == expected
    assert len(findings["findings"]) == len(expected)  # no duplicates either


def test_each_mistake_is_reported_where_it_was_planted(
    world: dict[str, Any], findings: dict[str, Any]
) -> None:
    by_key = {item["key"]: item for item in world["planted"]}
    found = {finding_key(f): f for f in findings["findings"]}
    for item in planted(world, "mistake") + planted(world, "by-design"):
        for expected in item["findings"]:
            finding = found[as_finding(expected)]
            assert finding["account"] == item["account"]
            if finding["rule"] not in BY_SOURCE:  # IAM is global, its paths cross regions
                assert finding["region"] == item["region"]
    ssh = found[as_finding(by_key["ssh-open-to-world"]["findings"][0])]
    assert ssh["source"] == "internet" and ssh["severity"] == "critical"
    assert ssh["path"][-2]["why"] == "ingress tcp 22 from 0.0.0.0/0"
    peering = found[as_finding(by_key["dev-peered-into-prod"]["findings"][0])]
    assert peering["source"] == "zone:dev"
    pcx = world["extra"]["payments.pcx.prod-dev"]
    assert pcx in [hop["hop"] for hop in peering["path"]]


def test_traps_produce_no_finding(world: dict[str, Any], findings: dict[str, Any]) -> None:
    traps = planted(world, "trap")
    assert len(traps) == 4
    mentioned = {f["resource"] for f in findings["findings"]}
    mentioned |= {hop["hop"] for f in findings["findings"] for hop in f["path"]}
    for trap in traps:
        assert trap["resources"]
        assert not set(trap["resources"]) & mentioned, trap["key"]


def test_traps_really_look_exposed(demo: Outcome, world: dict[str, Any]) -> None:
    staging = world["staging"]
    ids = staging["ids"]
    account, region = staging["account"], staging["region"]
    instances = {
        i["InstanceId"]: i
        for r in read(demo.path, account, region, "Reservations")
        for i in r["Instances"]
    }
    groups = {g["GroupId"]: g for g in read(demo.path, account, region, "SecurityGroups")}
    for instance, group in (("i.jump", "sg.ssh-open"), ("i.batch", "sg.web-open")):
        assert instances[ids[instance]].get("PublicIpAddress"), instance
        ranges = [
            (p["FromPort"], r["CidrIp"])
            for p in groups[ids[group]]["IpPermissions"]
            for r in p["IpRanges"]
        ]
        assert (22, "0.0.0.0/0") in ranges
    tables = {t["RouteTableId"]: t for t in read(demo.path, account, region, "RouteTables")}
    isolated = tables[ids["rtb.isolated"]]
    assert ids["subnet.isolated-a"] in [a.get("SubnetId") for a in isolated["Associations"]]
    assert not [r for r in isolated["Routes"] if r.get("GatewayId", "").startswith("igw-")]
    igws = read(demo.path, account, region, "InternetGateways")
    assert [g["InternetGatewayId"] for g in igws] == [ids["igw"]]  # the VPC has one


def _edit(snapshot: Path, account: str, region: str, key: str, change: Any) -> None:
    path = snapshot / account / region / f"{key}.json"
    document = json.loads(path.read_text())
    change(document[key])
    path.write_text(json.dumps(document))


def test_each_trap_is_one_fix_away_from_a_finding(
    demo: Outcome, world: dict[str, Any], spec: Spec, tmp_path: Path
) -> None:
    """Remove what saves each trap and the analysis reports it: the traps are near misses."""
    staging = world["staging"]
    ids, account, region = staging["ids"], staging["account"], staging["region"]
    snapshot = tmp_path / "snapshot"
    shutil.copytree(demo.path / "snapshot", snapshot)

    def drop_deny(acls: list[Any]) -> None:
        acl = next(a for a in acls if a["NetworkAclId"] == ids["acl.public"])
        before = len(acl["Entries"])
        acl["Entries"] = [e for e in acl["Entries"] if e["RuleNumber"] != 90]
        assert len(acl["Entries"]) == before - 1

    def add_igw_route(tables: list[Any]) -> None:
        table = next(t for t in tables if t["RouteTableId"] == ids["rtb.isolated"])
        table["Routes"].append(
            {
                "DestinationCidrBlock": "0.0.0.0/0",
                "GatewayId": ids["igw"],
                "Origin": "CreateRoute",
                "State": "active",
            }
        )

    _edit(snapshot, account, region, "NetworkAcls", drop_deny)
    _edit(snapshot, account, region, "RouteTables", add_igw_route)
    document = analyse(snapshot, spec.zones, spec.exposure)
    found = {(f["rule"], f["resource"], f["ports"]) for f in document["findings"]}
    assert ("internet-exposed-admin-port", ids["i.jump"], "22") in found
    assert ("internet-exposed-admin-port", ids["i.batch"], "22") in found
    # the finding lists every exposed port of the protocol, the admin one included
    assert ("internet-exposed-port", ids["i.batch"], "22,443") in found


def test_audit_reports_the_ebs_drift_in_exactly_that_account_region(
    demo: Outcome, world: dict[str, Any], spec: Spec
) -> None:
    audit = json.loads((demo.path / "audit.json").read_text())
    expected = [a for item in planted(world, "mistake") for a in item["audit"]]
    assert expected == [
        {"account": "500000000001", "region": "eu-west-1", "control": "ebs-encryption-by-default"},
        # the GuardDuty detector deleted in web-staging is drift from the delegated admin too
        {"account": "500000000002", "region": "eu-west-1", "control": "guardduty-enabled"},
    ]
    drift = [
        {"account": r["account"], "region": r["region"], "control": r["control"]}
        for r in audit["records"]
        if r["status"] == "drift"
    ]
    assert sorted(drift, key=str) == sorted(expected, key=str)
    assert audit["summary"]["not_assessed"] == 0
    ebs = {
        (r["account"], r["region"]): r["status"]
        for r in audit["records"]
        if r["control"] == "ebs-encryption-by-default"
    }
    members = [a.id for a, _ in spec.accounts()]
    assert set(ebs) == {(a, r) for a in members for r in spec.regions}
    assert [k for k, status in ebs.items() if status != "pass"] == [("500000000001", "eu-west-1")]


def test_audit_reads_the_backup_vault_and_role_and_the_security_services(
    demo: Outcome, world: dict[str, Any], spec: Spec
) -> None:
    records = json.loads((demo.path / "audit.json").read_text())["records"]
    drift = {
        (a["account"], a["region"], a["control"])
        for item in planted(world, "mistake")
        for a in item["audit"]
    }

    def where(control: str) -> set[tuple[str, str]]:
        found = [r for r in records if r["control"] == control]
        for r in found:  # pass, unless planted
            planted_here = (r["account"], r["region"], control) in drift
            assert r["status"] == ("drift" if planted_here else "pass"), r
        return {(r["account"], r["region"]) for r in found}

    members = {a.id for a, _ in spec.accounts()}
    backed_up = {"400000000001", "400000000002", "500000000001", "500000000002"}  # Workloads
    assert where("backup-role") == {(a, "global") for a in backed_up}
    assert where("backup-vault") == {(a, r) for a in backed_up for r in spec.regions}
    for control in ("guardduty-enabled", "inspector-ec2-enabled", "securityhub-enabled"):
        assert where(control) == {(a, r) for a in members for r in spec.regions}


# ---- the organization it built ----------------------------------------------------------------


def test_every_account_and_region_was_collected_and_assessed(
    demo: Outcome, findings: dict[str, Any], spec: Spec
) -> None:
    manifest = json.loads((demo.path / "snapshot" / "manifest.json").read_text())
    accounts = {spec.organization.management_account_id} | {a.id for a, _ in spec.accounts()}
    assert set(manifest["accounts"]) == accounts
    for account in accounts:
        regions = manifest["accounts"][account]["regions"]
        # every governed region, and the account's IAM once
        assert regions == {region: {"status": "ok"} for region in [*spec.regions, "global"]}
    assert manifest["organization"] == {"status": "ok"}
    assessed = {(row["account"], row["region"]) for row in findings["assessed"]}
    # each governed region, and each account's IAM (``global``)
    assert assessed == {(a, r) for a in accounts for r in [*spec.regions, "global"]}
    assert findings["not_assessed"] == []


def test_the_world_is_a_realistic_organization(demo: Outcome, world: dict[str, Any]) -> None:
    out = demo.path
    org = world["organization"]
    assert len(org["units"]) >= 5 and len(org["accounts"]) >= 5
    vpcs = {}
    for estate in world["estates"]:
        for vpc in read(out, estate["account"], estate["region"], "Vpcs"):
            vpcs[vpc["VpcId"]] = (estate["region"], {t["Key"]: t["Value"] for t in vpc["Tags"]})
    assert {region for region, _ in vpcs.values()} == {"us-east-1", "eu-west-1"}
    assert all("Environment" in tags for _, tags in vpcs.values())
    payments, dev = "400000000001", "500000000001"
    (pcx,) = read(out, payments, "us-east-1", "VpcPeeringConnections")
    assert pcx["Status"]["Code"] == "active"
    assert (pcx["RequesterVpcInfo"]["OwnerId"], pcx["AccepterVpcInfo"]["OwnerId"]) == (
        payments,
        dev,
    )
    assert [
        p["VpcPeeringConnectionId"] for p in read(out, dev, "us-east-1", "VpcPeeringConnections")
    ] == [pcx["VpcPeeringConnectionId"]]
    assert read(out, payments, "us-east-1", "TransitGateways")
    assert len(read(out, payments, "us-east-1", "TransitGatewayAttachments")) == 2
    (alb,) = read(out, "400000000002", "us-east-1", "LoadBalancers")
    assert alb["Scheme"] == "internet-facing"
    subnets = read(out, payments, "us-east-1", "Subnets")
    assert any(s["MapPublicIpOnLaunch"] for s in subnets)
    assert any(not s["MapPublicIpOnLaunch"] for s in subnets)
    custom_acls = [a for a in read(out, payments, "us-east-1", "NetworkAcls") if not a["IsDefault"]]
    assert custom_acls
    descriptions = {e["Description"] for e in read(out, payments, "us-east-1", "NetworkInterfaces")}
    assert "RDSNetworkInterface" in descriptions
    assert any(d.startswith("AWS Lambda VPC ENI") for d in descriptions)
    # every account-region without a network was emptied of its default VPC
    for cleared in world["default_vpcs_removed"]:
        assert read(out, cleared["account"], cleared["region"], "Vpcs") == []


# ---- the deploy half it shows ------------------------------------------------------------------


def test_policies_are_written_as_deployed(demo: Outcome, spec: Spec) -> None:
    documents = build_documents(spec)
    assert documents
    for doc in documents:
        deployed = demo.path / "policies" / doc.kind / f"{doc.name}.json"
        assert deployed.read_text(encoding="utf-8") == minify(doc.content)
        readable = demo.path / "policies" / doc.kind / f"{doc.name}.pretty.json"
        assert json.loads(readable.read_text(encoding="utf-8")) == doc.content


def test_lint_and_both_plans_are_printed_and_written(demo: Outcome) -> None:
    assert "0 errors" in demo.stdout
    assert "stack org: policy attachments" in demo.stdout
    assert "stack baseline-400000000001: baseline per region" in demo.stdout
    org = json.loads((demo.path / "plan" / "org.json").read_text(encoding="utf-8"))
    account = json.loads((demo.path / "plan" / "baseline-400000000001.json").read_text())
    assert org["counts"]["aws:organizations/policy:Policy"] == len(org["outputs"]["policy_ids"])
    # the org stack: the management account's provider and the delegated administrator's
    assert org["counts"]["pulumi:providers:aws"] == 2
    assert account["counts"]["pulumi:providers:aws"] == 1
    assert org["counts"]["aws:guardduty/organizationAdminAccount:OrganizationAdminAccount"] == 2
    assert account["counts"]["aws:backup/vault:Vault"] == 2
    assert account["counts"]["aws:iam/role:Role"] == 1
    assert account["outputs"]["account_id"] == "400000000001"
    assert json.loads((demo.path / "lint.json").read_text(encoding="utf-8"))["errors"] == 0


def test_written_policy_and_reports_describe_this_run(
    demo: Outcome, findings: dict[str, Any]
) -> None:
    policy = (demo.path / "policy.md").read_text(encoding="utf-8")
    assert "IVS-01" in policy and "400000000001" in policy
    sarif = json.loads((demo.path / "findings.sarif").read_text(encoding="utf-8"))
    assert sarif["version"] == "2.1.0"
    assert len(sarif["runs"][0]["results"]) == len(findings["findings"])
    html = (demo.path / "report.html").read_text(encoding="utf-8")
    for finding in findings["findings"]:
        assert finding["id"] in html


# ---- accepted risks and the second run --------------------------------------------------


def test_the_web_tiers_load_balancer_is_accepted_and_nothing_else(
    findings: dict[str, Any],
) -> None:
    accepted = [f for f in findings["findings"] if "accepted" in f]
    assert [(f["rule"], f["account"]) for f in accepted] == [
        ("internet-exposed-port", "400000000002")
    ]
    assert ":loadbalancer/app/prod-web-" in accepted[0]["resource"]
    assert accepted[0]["accepted"]["owner"] == "web platform team"
    assert findings["summary"]["accepted"] == 1
    (entry,) = findings["acceptances"]
    assert entry["status"] == "active" and entry["matched"] == 1
    assert findings["account_names"]["400000000002"] == "web-prod"


def test_the_second_run_shows_exactly_what_changed(demo: Outcome) -> None:
    second = json.loads((demo.path / "second-run" / "findings.json").read_text())
    new = [f for f in second["findings"] if f["change"] == "new"]
    assert [f["rule"] for f in new] == ["snapshot-shared-outside-organization"]
    assert [f["rule"] for f in second["fixed"]] == ["image-public"]
    assert second["baseline"]["unchanged"] == len(second["findings"]) - 1
    assert second["baseline"]["not_reassessed"] == 0
    comment = (demo.path / "second-run" / "findings.md").read_text()
    assert (
        comment.index("### New (1)")
        < comment.index("### Fixed (1)")
        < comment.index("<details><summary>Every finding")
    )
    assert "payments-dev (500000000001)" in comment
