"""Questions built from raw GetAccountAuthorizationDetails and Organizations responses, and
the organization's answers: SCPs on the path, exemptions, groups, boundaries, trust."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

import pytest

from graph.iam.evaluate import evaluate
from graph.iam.model import AccountIam, read_account
from graph.iam.organization import OrganizationView, read_organization
from graph.iam.requests import ask

MGMT = "100000000001"
DEV = "500000000001"
PROD = "400000000001"
ORG = "o-a1b2c3d4e5"
ROOT = "r-ab12"
WORKLOADS = "ou-ab12-11111111"
NONPROD = "ou-ab12-22222222"
PROD_OU = "ou-ab12-33333333"
PIPELINE = "arn:aws:iam::*:role/ivs-pipeline"


def _doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


FULL = _doc({"Effect": "Allow", "Action": "*", "Resource": "*"})
RESTRICT_PASS_ROLE = _doc(
    {
        "Sid": "IVS04RestrictPassRoleToApprovedPaths",
        "Effect": "Deny",
        "Action": ["iam:PassRole"],
        "NotResource": ["arn:aws:iam::*:role/ivs-approved/*"],
        "Condition": {"ArnNotLike": {"aws:PrincipalArn": [PIPELINE]}},
    }
)


def _policy(name: str, type_: str, content: dict[str, Any], targets: list[str]) -> dict[str, Any]:
    return {
        "PolicySummary": {
            "Id": f"p-{name}",
            "Arn": f"arn:aws:organizations::{MGMT}:policy/{ORG}/service_control_policy/p-{name}",
            "Name": name,
            "Type": type_,
            "AwsManaged": name.startswith("Full"),
        },
        "Content": json.dumps(content),
        "Targets": [{"TargetId": t, "Arn": f"arn:{t}", "Name": t, "Type": "X"} for t in targets],
    }


def organization_files() -> dict[str, Any]:
    everywhere = [ROOT, WORKLOADS, NONPROD, PROD_OU, MGMT, DEV, PROD]
    return {
        "Organization": {"Organization": {"Id": ORG, "MasterAccountId": MGMT, "FeatureSet": "ALL"}},
        "Roots": {"Roots": [{"Id": ROOT, "Name": "Root", "PolicyTypes": []}]},
        "OrganizationalUnits": {
            "OrganizationalUnits": [
                {"Id": WORKLOADS, "Name": "Workloads", "ParentId": ROOT},
                {"Id": NONPROD, "Name": "NonProd", "ParentId": WORKLOADS},
                {"Id": PROD_OU, "Name": "Prod", "ParentId": WORKLOADS},
            ]
        },
        "Accounts": {
            "Accounts": [
                {"Id": MGMT, "Name": "management", "Status": "ACTIVE", "ParentId": ROOT},
                {"Id": DEV, "Name": "payments-dev", "Status": "ACTIVE", "ParentId": NONPROD},
                {"Id": PROD, "Name": "payments-prod", "Status": "ACTIVE", "ParentId": PROD_OU},
            ]
        },
        "Policies": {
            "Policies": [
                _policy("FullAWSAccess", "SERVICE_CONTROL_POLICY", FULL, everywhere),
                _policy(
                    "ivs-scp-workloads-1", "SERVICE_CONTROL_POLICY", RESTRICT_PASS_ROLE, [WORKLOADS]
                ),
            ]
        },
    }


def _role(
    account: str, name: str, *, path: str = "/", trust: Any = None, **rest: Any
) -> dict[str, Any]:
    return {
        "Path": path,
        "RoleName": name,
        "RoleId": f"AROA{name.upper()}",
        "Arn": f"arn:aws:iam::{account}:role{path}{name}",
        "AssumeRolePolicyDocument": trust
        or _doc(
            {
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ),
        "InstanceProfileList": [],
        "RolePolicyList": rest.pop("inline", []),
        "AttachedManagedPolicies": rest.pop("attached", []),
        "Tags": rest.pop("tags", []),
        **rest,
    }


def _inline(name: str, *statements: dict[str, Any]) -> dict[str, Any]:
    return {"PolicyName": name, "PolicyDocument": _doc(*statements)}


ADMIN = {
    "PolicyName": "AdministratorAccess",
    "PolicyId": "ANPAADMIN",
    "Arn": "arn:aws:iam::aws:policy/AdministratorAccess",
    "Path": "/",
    "DefaultVersionId": "v1",
    "PolicyVersionList": [{"Document": FULL, "VersionId": "v1", "IsDefaultVersion": True}],
}


def dev_details() -> dict[str, Any]:
    """The raw GetAccountAuthorizationDetails of the dev account."""
    ci = _role(
        DEV,
        "dev-ci",
        inline=[
            _inline(
                "ci-deploy",
                {
                    "Sid": "Launch",
                    "Effect": "Allow",
                    "Action": ["ec2:RunInstances", "iam:PassRole"],
                    "Resource": "*",
                },
            )
        ],
        tags=[{"Key": "team", "Value": "ci"}],
    )
    linked = _role(DEV, "AWSServiceRoleForSupport", path="/aws-service-role/support.amazonaws.com/")
    linked["AttachedManagedPolicies"] = [
        {"PolicyName": "AdministratorAccess", "PolicyArn": ADMIN["Arn"]}
    ]
    developer = {
        "Path": "/",
        "UserName": "alice",
        "UserId": "AIDAALICE",
        "Arn": f"arn:aws:iam::{DEV}:user/alice",
        "UserPolicyList": [],
        "GroupList": ["developers"],
        "AttachedManagedPolicies": [],
        # a raw API answer: the boundary's policy is URL-encoded JSON text
        "PermissionsBoundary": {
            "PermissionsBoundaryType": "Policy",
            "PermissionsBoundaryArn": f"arn:aws:iam::{DEV}:policy/dev-boundary",
        },
        "Tags": [],
    }
    boundary = {
        "PolicyName": "dev-boundary",
        "Arn": f"arn:aws:iam::{DEV}:policy/dev-boundary",
        "DefaultVersionId": "v2",
        "PolicyVersionList": [
            {
                "Document": urllib.parse.quote(
                    json.dumps(_doc({"Effect": "Allow", "Action": "ssm:*", "Resource": "*"}))
                ),
                "VersionId": "v2",
                "IsDefaultVersion": True,
            }
        ],
    }
    group = {
        "GroupName": "developers",
        "Arn": f"arn:aws:iam::{DEV}:group/developers",
        "GroupPolicyList": [
            _inline(
                "send-command",
                {
                    "Effect": "Allow",
                    "Action": ["ssm:SendCommand", "ec2:StopInstances"],
                    "Resource": "*",
                },
            )
        ],
        "AttachedManagedPolicies": [],
    }
    return {
        "UserDetailList": [developer],
        "GroupDetailList": [group],
        "RoleDetailList": [ci, linked],
        "Policies": [ADMIN, boundary],
    }


def dev_account() -> AccountIam:
    return read_account(DEV, dev_details())


def prod_account() -> AccountIam:
    trusts_dev = _doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{DEV}:root"},
            "Action": "sts:AssumeRole",
        }
    )
    admin = _role(
        PROD,
        "prod-admin",
        trust=trusts_dev,
        attached=[{"PolicyName": "AdministratorAccess", "PolicyArn": ADMIN["Arn"]}],
    )
    return read_account(PROD, {"RoleDetailList": [admin], "Policies": [ADMIN]})


@pytest.fixture(scope="module")
def org() -> OrganizationView:
    return read_organization(organization_files())


@pytest.fixture(scope="module")
def accounts() -> dict[str, AccountIam]:
    return {DEV: dev_account(), PROD: prod_account()}


def decide(
    accounts: dict[str, AccountIam],
    org: OrganizationView,
    who: str,
    action: str,
    resource: str | None,
    **context: str,
) -> Any:
    account = who.split(":")[4]
    principal = accounts[account].by_arn()[who]
    request, applicable = ask(principal, action, resource, accounts, org, context)
    return evaluate(request, applicable)


CI = f"arn:aws:iam::{DEV}:role/dev-ci"


def test_the_tree_and_the_levels_of_an_account(org: OrganizationView) -> None:
    assert org.is_member(DEV) and not org.is_member(MGMT) and not org.is_member("999999999999")
    assert [level for level, _ in org.levels(DEV)] == [
        "root",
        "Workloads",
        "Workloads/NonProd",
        DEV,
    ]
    assert [p.name for p in org.levels(DEV)[1][1]] == ["FullAWSAccess", "ivs-scp-workloads-1"]
    assert org.org_paths(DEV) == f"{ORG}/{ROOT}/{WORKLOADS}/{NONPROD}/"


def test_an_scp_at_the_ou_denies_passing_an_unapproved_role(
    accounts: dict[str, AccountIam], org: OrganizationView
) -> None:
    admin = f"arn:aws:iam::{DEV}:role/admin"
    result = decide(accounts, org, CI, "iam:PassRole", admin)
    assert result.decision == "denied"
    (step,) = result.layers
    assert (step.layer, step.at, step.policy, step.statement) == (
        "scp",
        "Workloads",
        "ivs-scp-workloads-1",
        "IVS04RestrictPassRoleToApprovedPaths",
    )
    # the near miss: a role under the approved path passes, as the identity policy allows
    approved = decide(
        accounts, org, CI, "iam:PassRole", f"arn:aws:iam::{DEV}:role/ivs-approved/app"
    )
    assert approved.decision == "allowed"
    assert [(s.layer, s.effect) for s in approved.layers] == [
        ("scp", "allow"),
        ("scp", "allow"),
        ("scp", "allow"),
        ("scp", "allow"),
        ("identity", "allow"),
    ]


def test_the_pipeline_is_exempt_by_its_arn(
    accounts: dict[str, AccountIam], org: OrganizationView
) -> None:
    pipeline = read_account(
        DEV,
        {
            "RoleDetailList": [
                _role(
                    DEV,
                    "ivs-pipeline",
                    inline=[_inline("all", {"Effect": "Allow", "Action": "*", "Resource": "*"})],
                )
            ]
        },
    )
    both = {
        **accounts,
        DEV: AccountIam(
            DEV, accounts[DEV].principals + pipeline.principals, accounts[DEV].policies
        ),
    }
    who = f"arn:aws:iam::{DEV}:role/ivs-pipeline"
    assert (
        decide(both, org, who, "iam:PassRole", f"arn:aws:iam::{DEV}:role/admin").decision
        == "allowed"
    )


def test_a_service_linked_role_is_not_bound_by_scps(
    accounts: dict[str, AccountIam], org: OrganizationView
) -> None:
    linked = (
        f"arn:aws:iam::{DEV}:role/aws-service-role/support.amazonaws.com/AWSServiceRoleForSupport"
    )
    result = decide(accounts, org, linked, "iam:PassRole", f"arn:aws:iam::{DEV}:role/admin")
    assert result.decision == "allowed"
    assert {s.layer for s in result.layers} == {"identity"}


def test_groups_and_a_url_encoded_boundary(
    accounts: dict[str, AccountIam], org: OrganizationView
) -> None:
    alice = f"arn:aws:iam::{DEV}:user/alice"
    instance = f"arn:aws:ec2:us-east-1:{DEV}:instance/i-1"
    assert decide(accounts, org, alice, "ssm:SendCommand", instance).decision == "allowed"
    # the group allows it, the boundary does not
    stopped = decide(accounts, org, alice, "ec2:StopInstances", instance)
    assert stopped.decision == "denied"
    assert any(s.layer == "boundary" and s.effect == "no-match" for s in stopped.layers)


def test_a_cross_account_trust_needs_both_sides(
    accounts: dict[str, AccountIam], org: OrganizationView
) -> None:
    target = f"arn:aws:iam::{PROD}:role/prod-admin"
    # dev-ci's identity policy does not allow sts:AssumeRole: the trust alone is not enough
    assert decide(accounts, org, CI, "sts:AssumeRole", target).decision == "denied"
    granted = read_account(
        DEV,
        {
            "RoleDetailList": [
                _role(
                    DEV,
                    "jump",
                    inline=[
                        _inline(
                            "hop",
                            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": target},
                        )
                    ],
                )
            ]
        },
    )
    both = {**accounts, DEV: granted}
    result = decide(both, org, f"arn:aws:iam::{DEV}:role/jump", "sts:AssumeRole", target)
    assert result.decision == "allowed"
    assert {s.layer for s in result.layers} >= {"identity", "resource", "scp"}


def test_principal_keys_are_known_offline(
    accounts: dict[str, AccountIam], org: OrganizationView
) -> None:
    principal = accounts[DEV].by_arn()[CI]
    request, _ = ask(
        principal, "ec2:RunInstances", f"arn:aws:ec2:eu-west-1:{DEV}:instance/*", accounts, org
    )
    context = request.context
    assert context.lookup("aws:PrincipalOrgID") == (ORG,)
    assert context.lookup("aws:PrincipalTag/team") == ("ci",)
    assert context.lookup("aws:PrincipalTag/owner") is None  # known absent
    assert context.lookup("aws:RequestedRegion") == ("eu-west-1",)
    assert context.lookup("aws:SourceIp").value is None  # type: ignore[union-attr]
    outside = ask(principal, "ec2:RunInstances", None, accounts, None)[0].context
    assert outside.lookup("aws:PrincipalOrgID") is None  # no organization: absent
