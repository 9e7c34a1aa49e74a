"""The IAM and organization files of a snapshot, collected from moto and read back, and
what is not assessed when they are not there."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from test_iam_requests import DEV, MGMT, ORG, organization_files

from core.aws import Aws
from graph.collect import collect_snapshot
from graph.iam.evaluate import evaluate
from graph.iam.requests import ask
from graph.iam.snapshot import load_iam
from sandbox.organization import create_member_accounts

REGION = "eu-west-1"


def _write(root: Path, relative: str, document: Any) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document))


def _details(account: str, role: str) -> dict[str, Any]:
    trust = {"Version": "2012-10-17", "Statement": []}
    arn = f"arn:aws:iam::{account}:role/{role}"
    return {
        "UserDetailList": [],
        "GroupDetailList": [],
        "RoleDetailList": [
            {"RoleName": role, "Arn": arn, "Path": "/", "AssumeRolePolicyDocument": trust}
        ],
        "Policies": [],
    }


def test_failed_pending_and_missing_places_are_not_assessed(tmp_path: Path) -> None:
    ok, failed, pending, missing = "111111111111", "222222222222", "333333333333", "444444444444"
    _write(tmp_path, f"{ok}/global/AccountAuthorizationDetails.json", _details(ok, "app"))
    _write(tmp_path, f"{pending}/global/AccountAuthorizationDetails.json", _details(pending, "x"))
    (tmp_path / missing / "eu-west-1").mkdir(parents=True)
    for key, document in organization_files().items():
        _write(tmp_path, f"organization/{key}.json", document)
    manifest = {
        "format": 1,
        "complete": True,
        "accounts": {
            ok: {"regions": {"global": {"status": "ok"}}},
            failed: {"regions": {"global": {"status": "error", "error": "AccessDenied"}}},
            pending: {"regions": {"global": {"status": "pending"}}},
            missing: {"regions": {"eu-west-1": {"status": "ok"}}},
        },
        "organization": {"status": "ok"},
    }
    _write(tmp_path, "manifest.json", manifest)
    iam = load_iam(tmp_path)
    assert list(iam.accounts) == [ok]
    assert [p.name for p in iam.accounts[ok].principals] == ["app"]
    assert iam.not_assessed == [
        {"account": failed, "region": "global", "error": "AccessDenied"},
        {"account": pending, "region": "global", "error": "collection incomplete"},
    ]
    # no file and no word of it: data absent, not principals absent
    assert iam.kinds_not_seen == {"AccountAuthorizationDetails": [f"{missing}/global"]}
    assert iam.organization is not None and iam.organization.id == ORG
    assert iam.organization.is_member(DEV) and not iam.organization.is_member(MGMT)


def test_an_organization_that_could_not_be_read_is_not_assessed(tmp_path: Path) -> None:
    _write(
        tmp_path, "manifest.json", {"organization": {"status": "error", "error": "AccessDenied"}}
    )
    iam = load_iam(tmp_path)
    assert iam.organization is None
    assert iam.not_assessed == [
        {"account": "organization", "region": "global", "error": "AccessDenied"}
    ]


def test_collected_from_moto_and_asked(moto_endpoint: str, tmp_path: Path) -> None:
    aws = Aws(endpoint_url=moto_endpoint)
    (member,) = create_member_accounts(aws, ["member"])
    org = aws.client("organizations")
    root = org.list_roots()["Roots"][0]["Id"]
    org.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")
    deny_leave = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}
        ],
    }
    policy = org.create_policy(
        Content=json.dumps(deny_leave),
        Description="x",
        Name="deny-leave",
        Type="SERVICE_CONTROL_POLICY",
    )["Policy"]["PolicySummary"]["Id"]
    org.attach_policy(PolicyId=policy, TargetId=root)
    collect_snapshot(tmp_path / "snap", endpoint_url=moto_endpoint, regions=[REGION], workers=2)
    iam = load_iam(tmp_path / "snap")
    assert iam.not_assessed == []
    assert member in iam.accounts
    role = f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole"
    principal = iam.accounts[member].by_arn()[role]
    assert principal.trust is not None  # the management account may assume it
    assert iam.organization is not None and iam.organization.is_member(member)
    assert [
        p.name for _, ps in iam.organization.levels(member) for p in ps if p.name == "deny-leave"
    ]
    # whatever the role's own policies allow, the root's SCP denies leaving
    request, applicable = ask(
        principal, "organizations:LeaveOrganization", None, iam.accounts, iam.organization
    )
    result = evaluate(request, applicable)
    assert result.decision == "denied"
    assert result.layers[0].policy == "deny-leave"
