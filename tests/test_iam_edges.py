"""Edges of the VM-control graph from raw IAM data: each kind, with a near miss beside it."""

from __future__ import annotations

from typing import Any

from test_iam_requests import ADMIN, DEV, PROD, _doc, _inline, _role, organization_files

from graph.iam.edges import (
    Asker,
    InstanceRef,
    can_assume,
    instance_control,
    instance_roles,
    launch_with_role,
)
from graph.iam.model import AccountIam, read_account
from graph.iam.organization import read_organization

ORG = read_organization(organization_files())
EC2_TRUST = _doc(
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
)


def account(number: str, *roles: dict[str, Any]) -> AccountIam:
    return read_account(number, {"RoleDetailList": list(roles), "Policies": [ADMIN]})


def allow(*actions: str, resource: str = "*") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": list(actions), "Resource": resource}


def profile(name: str, account_id: str) -> list[dict[str, Any]]:
    arn = f"arn:aws:iam::{account_id}:instance-profile/{name}"
    return [{"InstanceProfileName": name, "Arn": arn, "Roles": []}]


def test_launch_with_role_needs_run_instances_and_pass_role_of_a_profile_role() -> None:
    admin_role = _role(
        DEV,
        "ivs-approved/app-admin",
        trust=EC2_TRUST,
        attached=[{"PolicyName": "AdministratorAccess", "PolicyArn": ADMIN["Arn"]}],
        InstanceProfileList=profile("app-admin", DEV),
    )
    ci = _role(DEV, "dev-ci", inline=[_inline("ci", allow("ec2:RunInstances", "iam:PassRole"))])
    launcher_only = _role(DEV, "launcher", inline=[_inline("run", allow("ec2:RunInstances"))])
    dev = account(DEV, admin_role, ci, launcher_only)
    asker = Asker({DEV: dev}, ORG)
    edges = list(launch_with_role(dev.principals, dev.principals, ["eu-west-1"], asker))
    assert [(e.source.rsplit("/", 1)[1], e.kind, e.decision) for e in edges] == [
        ("dev-ci", "launch-with-role", "allowed")
    ]
    (edge,) = edges
    assert [c.action for c in edge.calls] == ["ec2:RunInstances", "iam:PassRole"]
    assert edge.target.endswith("role/ivs-approved/app-admin")


def test_the_scp_on_role_paths_stops_passing_an_unapproved_role() -> None:
    # the SCP of the fixture organization denies passing roles outside /ivs-approved/
    admin_role = _role(DEV, "admin", trust=EC2_TRUST, InstanceProfileList=profile("admin", DEV))
    ci = _role(DEV, "dev-ci", inline=[_inline("ci", allow("ec2:RunInstances", "iam:PassRole"))])
    dev = account(DEV, admin_role, ci)
    assert (
        list(
            launch_with_role(dev.principals, dev.principals, ["eu-west-1"], Asker({DEV: dev}, ORG))
        )
        == []
    )


def test_instance_control_edges_and_their_ways() -> None:
    operator = _role(
        DEV,
        "operator",
        inline=[
            _inline("ops", allow("ssm:SendCommand", "ec2:GetPasswordData", "ec2:StopInstances"))
        ],
    )
    dev = account(DEV, operator)
    instance = InstanceRef("i-0abc", DEV, "eu-west-1", "dev")
    elsewhere = InstanceRef("i-0def", PROD, "eu-west-1", "prod")  # another account: no edge
    edges = list(instance_control(dev.principals, [instance, elsewhere], Asker({DEV: dev}, ORG)))
    assert {(e.kind, e.target) for e in edges} == {("run-command", "i-0abc"), ("log-in", "i-0abc")}
    log_in = next(e for e in edges if e.kind == "log-in")
    assert [c.action for c in log_in.calls] == ["ec2:GetPasswordData"]  # the way that works
    # user-data needs all three calls: stopping alone is no edge
    assert not any(e.kind == "user-data" for e in edges)


def test_can_assume_follows_the_trust_policy_and_the_callers_side() -> None:
    target = f"arn:aws:iam::{PROD}:role/prod-admin"
    trusts_dev = _doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{DEV}:root"},
            "Action": "sts:AssumeRole",
        }
    )
    prod = account(PROD, _role(PROD, "prod-admin", trust=trusts_dev))
    jump = _role(DEV, "jump", inline=[_inline("hop", allow("sts:AssumeRole", resource=target))])
    idle = _role(DEV, "idle")
    dev = account(DEV, jump, idle)
    accounts = {DEV: dev, PROD: prod}
    edges = list(can_assume([*dev.principals], [*prod.principals], Asker(accounts, ORG)))
    assert [(e.source.rsplit("/", 1)[1], e.target, e.decision) for e in edges] == [
        ("jump", target, "allowed")
    ]


def test_an_instance_acts_as_its_role() -> None:
    with_role = InstanceRef("i-1", DEV, "eu-west-1", "prod", f"arn:aws:iam::{DEV}:role/app")
    without = InstanceRef("i-2", DEV, "eu-west-1", "prod")
    assert [(e.source, e.target, e.kind) for e in instance_roles([with_role, without])] == [
        ("i-1", f"arn:aws:iam::{DEV}:role/app", "instance-role")
    ]
