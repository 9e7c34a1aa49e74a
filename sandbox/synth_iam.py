"""A synthetic organization's IAM, written as a snapshot: the benchmark of the IAM analysis.

``write_iam_snapshot(root, accounts=1000, roles=200)`` writes ``organization/`` (a root,
``ous`` OUs of ``accounts / ous`` accounts each, FullAWSAccess everywhere and one SCP per OU
that denies regions outside the governed two, role passing outside the approved path and
sessions without a team tag), ``<account>/global/AccountAuthorizationDetails.json`` with
``roles`` roles per account sharing AWS-managed-like and customer managed policies, and
``<account>/us-east-1/Reservations.json`` with a few instances per account (prod in even
OUs), some with an instance profile. The mix of roles per account, in order:

==========  =====================================================================
share       roles
==========  =====================================================================
2.5 %       administrators (AdministratorAccess), trusted by the account
2.5 %       instance roles of applications (SSM core, read-only), in profiles
2.5 %       CI: run instances, pass approved roles, assume any role
10 %        operators: SendCommand / StartSession, some behind a tag condition
2.5 %       PowerUser (every action but IAM's), trusted by the account
80 %        services (Lambda): two or three shared policies and an inline one
==========  =====================================================================

Deterministic for given sizes (``random.Random(seed)``), stdlib only.
"""

from __future__ import annotations

import json
import random
import zlib
from pathlib import Path
from typing import Any

REGIONS = ("us-east-1", "eu-west-1")
APPROVED = "/ivs-approved/"
MANAGEMENT = "700000000000"


def _doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _allow(actions: Any, resource: Any = "*", **rest: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": actions, "Resource": resource, **rest}


AWS_MANAGED: dict[str, dict[str, Any]] = {
    "AdministratorAccess": _doc(_allow("*")),
    "PowerUserAccess": _doc(
        {
            "Effect": "Allow",
            "NotAction": ["iam:*", "organizations:*", "account:*"],
            "Resource": "*",
        },
        _allow(
            ["iam:CreateServiceLinkedRole", "iam:ListRoles", "organizations:DescribeOrganization"]
        ),
    ),
    "ReadOnlyAccess": _doc(
        _allow(["ec2:Describe*", "s3:Get*", "s3:List*", "iam:Get*", "iam:List*"])
    ),
    "AmazonSSMManagedInstanceCore": _doc(
        _allow(["ssm:UpdateInstanceInformation", "ssmmessages:*", "ec2messages:*"])
    ),
    "AmazonS3ReadOnlyAccess": _doc(_allow(["s3:Get*", "s3:List*"])),
    "AmazonDynamoDBFullAccess": _doc(_allow(["dynamodb:*", "cloudwatch:*"])),
    "CloudWatchLogsFullAccess": _doc(_allow("logs:*")),
    "AWSLambdaBasicExecutionRole": _doc(
        _allow(["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"])
    ),
    "AmazonSQSFullAccess": _doc(_allow("sqs:*")),
    "AmazonSNSFullAccess": _doc(_allow("sns:*")),
    "AmazonEC2ReadOnlyAccess": _doc(_allow(["ec2:Describe*", "elasticloadbalancing:Describe*"])),
    "SecretsManagerReadWrite": _doc(_allow(["secretsmanager:*", "kms:Decrypt"])),
}
CUSTOMER_MANAGED = {
    f"team-{n}": _doc(
        _allow(
            [f"dynamodb:{a}" for a in ("GetItem", "PutItem", "Query")],
            f"arn:aws:dynamodb:*:*:table/team-{n}-*",
        ),
        _allow(["s3:GetObject", "s3:PutObject"], f"arn:aws:s3:::team-{n}-*/*"),
    )
    for n in range(8)
}
SERVICE_POOL = [p for p in AWS_MANAGED if p not in ("AdministratorAccess", "PowerUserAccess")]


def _managed(arn: str, name: str, document: dict[str, Any]) -> dict[str, Any]:
    return {
        "PolicyName": name,
        "Arn": arn,
        "Path": "/",
        "DefaultVersionId": "v1",
        "AttachmentCount": 1,
        "IsAttachable": True,
        "PolicyVersionList": [{"Document": document, "VersionId": "v1", "IsDefaultVersion": True}],
    }


def _trust(**principal: Any) -> dict[str, Any]:
    return _doc({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"})


def _role(
    account: str,
    name: str,
    trust: dict[str, Any],
    attached: list[str],
    inline: list[dict[str, Any]] | None = None,
    *,
    path: str = "/",
    profile: bool = False,
) -> dict[str, Any]:
    arn = f"arn:aws:iam::{account}:role{path}{name}"
    role: dict[str, Any] = {
        "Path": path,
        "RoleName": name,
        "RoleId": f"AROA{zlib.crc32(arn.encode()) % 10**12:012d}",
        "Arn": arn,
        "AssumeRolePolicyDocument": trust,
        "InstanceProfileList": [],
        "RolePolicyList": [
            {"PolicyName": f"{name}-inline-{n}", "PolicyDocument": d}
            for n, d in enumerate(inline or [])
        ],
        "AttachedManagedPolicies": [
            {"PolicyName": p.rsplit("/", 1)[1], "PolicyArn": p} for p in attached
        ],
        "Tags": [{"Key": "Team", "Value": f"team-{zlib.crc32(name.encode()) % 8}"}],
    }
    if profile:
        role["InstanceProfileList"] = [
            {
                "InstanceProfileName": name,
                "Path": path,
                "Arn": f"arn:aws:iam::{account}:instance-profile{path}{name}",
                "Roles": [],
            }
        ]
    return role


def account_details(account: str, roles: int, rng: random.Random) -> dict[str, Any]:
    """One account's GetAccountAuthorizationDetails with ``roles`` roles."""
    aws = {name: f"arn:aws:iam::aws:policy/{name}" for name in AWS_MANAGED}
    own = {name: f"arn:aws:iam::{account}:policy/{name}" for name in CUSTOMER_MANAGED}
    by_account = _trust(AWS=f"arn:aws:iam::{account}:root")
    lambda_trust, ec2_trust = (
        _trust(Service="lambda.amazonaws.com"),
        _trust(Service="ec2.amazonaws.com"),
    )
    share = max(1, roles // 40)
    out: list[dict[str, Any]] = []
    for n in range(share):
        out.append(_role(account, f"admin-{n}", by_account, [aws["AdministratorAccess"]]))
    for n in range(share):
        attached = [aws["AmazonSSMManagedInstanceCore"], aws["AmazonS3ReadOnlyAccess"]]
        out.append(_role(account, f"app-{n}", ec2_trust, attached, path=APPROVED, profile=True))
    for n in range(share):
        ci = _doc(
            _allow(["ec2:RunInstances", "ec2:CreateTags", "ec2:Describe*"]),
            _allow("iam:PassRole", f"arn:aws:iam::{account}:role{APPROVED}*"),
            _allow("sts:AssumeRole", "arn:aws:iam::*:role/deploy-*"),
        )
        out.append(_role(account, f"ci-{n}", _trust(Service="codebuild.amazonaws.com"), [], [ci]))
    for n in range(4 * share):
        tagged = {"StringEquals": {"ssm:resourceTag/Team": "${aws:PrincipalTag/Team}"}}
        ops = _doc(
            _allow(
                ["ssm:SendCommand", "ssm:StartSession"],
                "arn:aws:ec2:*:*:instance/*",
                **({"Condition": tagged} if n % 2 else {}),
            ),
            _allow("ssm:SendCommand", "arn:aws:ssm:*::document/AWS-RunShellScript"),
            _allow("sts:AssumeRole", f"arn:aws:iam::{account}:role/admin-0")
            if n == 0
            else _allow("ec2:Describe*"),
        )
        out.append(_role(account, f"ops-{n}", by_account, [aws["ReadOnlyAccess"]], [ops]))
    for n in range(share):
        out.append(_role(account, f"power-{n}", by_account, [aws["PowerUserAccess"]]))
    n = 0
    while len(out) < roles:
        attached = [*rng.sample(SERVICE_POOL, rng.randint(2, 3)), rng.choice(list(own))]
        inline = _doc(
            _allow(["sqs:SendMessage", "sqs:ReceiveMessage"], f"arn:aws:sqs:*:{account}:svc-{n}")
        )
        out.append(
            _role(
                account,
                f"svc-{n}",
                lambda_trust,
                [aws.get(p) or own[p] for p in attached],
                [inline],
            )
        )
        n += 1
    policies = [_managed(aws[p], p, d) for p, d in AWS_MANAGED.items()]
    policies += [_managed(own[p], p, d) for p, d in CUSTOMER_MANAGED.items()]
    return {
        "UserDetailList": [],
        "GroupDetailList": [],
        "RoleDetailList": out,
        "Policies": policies,
    }


def organization_files(accounts: list[str], ous: int) -> dict[str, Any]:
    root = "r-bnch"
    units = [f"ou-bnch-{n:08d}" for n in range(ous)]
    per = max(1, len(accounts) // ous)
    parents = {a: units[min(i // per, ous - 1)] for i, a in enumerate(accounts)}
    full = _doc(_allow("*"))
    policies = [
        {
            "PolicySummary": {
                "Id": "p-FullAWSAccess",
                "Name": "FullAWSAccess",
                "Type": "SERVICE_CONTROL_POLICY",
                "AwsManaged": True,
            },
            "Content": json.dumps(full),
            "Targets": [{"TargetId": t} for t in [root, *units, MANAGEMENT, *accounts]],
        }
    ]
    exempt = {
        "ArnNotLike": {
            "aws:PrincipalArn": [
                "arn:aws:iam::*:role/ivs-pipeline",
                "arn:aws:iam::*:role/BreakGlass",
            ]
        }
    }
    for n, unit in enumerate(units):
        guard = _doc(
            {
                "Sid": "DenyOutsideRegions",
                "Effect": "Deny",
                "NotAction": [
                    "iam:*",
                    "sts:*",
                    "organizations:*",
                    "support:*",
                    "cloudfront:*",
                    "route53:*",
                ],
                "Resource": "*",
                "Condition": {"StringNotEquals": {"aws:RequestedRegion": list(REGIONS)}, **exempt},
            },
            {
                "Sid": "RestrictPassRole",
                "Effect": "Deny",
                "Action": "iam:PassRole",
                "NotResource": [
                    f"arn:aws:iam::*:role{APPROVED}*",
                    "arn:aws:iam::*:role/service-role/*",
                ],
                "Condition": exempt,
            },
            {
                "Sid": "SessionsNeedATeam",
                "Effect": "Deny",
                "Action": "ssm:StartSession",
                "Resource": "*",
                "Condition": {"Null": {"aws:PrincipalTag/Team": "true"}},
            },
        )
        policies.append(
            {
                "PolicySummary": {
                    "Id": f"p-guard{n:04d}",
                    "Name": f"ivs-scp-unit-{n}",
                    "Type": "SERVICE_CONTROL_POLICY",
                    "AwsManaged": False,
                },
                "Content": json.dumps(guard),
                "Targets": [{"TargetId": unit}],
            }
        )
    return {
        "Organization": {
            "Organization": {
                "Id": "o-bench00001",
                "MasterAccountId": MANAGEMENT,
                "FeatureSet": "ALL",
            }
        },
        "Roots": {"Roots": [{"Id": root, "Name": "Root", "PolicyTypes": []}]},
        "OrganizationalUnits": {
            "OrganizationalUnits": [
                {"Id": u, "Name": f"unit-{n}", "ParentId": root} for n, u in enumerate(units)
            ]
        },
        "Accounts": {
            "Accounts": [
                {"Id": MANAGEMENT, "Name": "management", "Status": "ACTIVE", "ParentId": root}
            ]
            + [
                {"Id": a, "Name": f"bench-{i}", "Status": "ACTIVE", "ParentId": parents[a]}
                for i, a in enumerate(accounts)
            ]
        },
        "Policies": {"Policies": policies},
        "_parents": parents,
    }


def reservations(account: str, prod: bool, count: int) -> dict[str, Any]:
    instances = []
    for n in range(count):
        item: dict[str, Any] = {
            "InstanceId": f"i-{int(account):012x}{n:05x}",
            "State": {"Name": "running", "Code": 16},
            "Tags": [{"Key": "Environment", "Value": "prod" if prod else "dev"}],
            "NetworkInterfaces": [],
        }
        if n % 2 == 0:
            item["IamInstanceProfile"] = {
                "Arn": f"arn:aws:iam::{account}:instance-profile{APPROVED}app-{n % 5}",
                "Id": "AIPA",
            }
        instances.append(item)
    return {
        "Reservations": [
            {"ReservationId": f"r-{account}", "OwnerId": account, "Instances": instances}
        ]
    }


def write_iam_snapshot(
    root: Path,
    accounts: int = 1000,
    roles: int = 200,
    ous: int = 100,
    instances: int = 5,
    seed: int = 7,
) -> dict[str, Any]:
    """Write the synthetic snapshot under ``root``; its shape."""
    rng = random.Random(seed)
    ids = [f"7{n + 1:011d}" for n in range(accounts)]
    org = organization_files(ids, min(ous, accounts))
    parents = org.pop("_parents")
    units = {u: n for n, u in enumerate(sorted(set(parents.values())))}
    (root / "organization").mkdir(parents=True, exist_ok=True)
    for key, document in org.items():
        (root / "organization" / f"{key}.json").write_text(json.dumps(document))
    regions_of: dict[str, Any] = {}
    for account in ids:
        folder = root / account / "global"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "AccountAuthorizationDetails.json").write_text(
            json.dumps(account_details(account, roles, rng))
        )
        regional = root / account / "us-east-1"
        regional.mkdir(parents=True, exist_ok=True)
        prod = units[parents[account]] % 2 == 0
        (regional / "Reservations.json").write_text(
            json.dumps(reservations(account, prod, instances))
        )
        regions_of[account] = {
            "regions": {"us-east-1": {"status": "ok"}, "global": {"status": "ok"}}
        }
    manifest = {
        "format": 1,
        "collected_at": "2026-12-01T00:00:00Z",
        "complete": True,
        "accounts": regions_of,
        "organization": {"status": "ok"},
    }
    (root / "manifest.json").write_text(json.dumps(manifest))
    return {
        "accounts": accounts,
        "roles": roles,
        "principals": accounts * roles,
        "ous": min(ous, accounts),
        "instances": accounts * instances,
    }
