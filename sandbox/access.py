"""Who can take over a VM in the demo organization: the IAM planted in the stand-in.

Created through ordinary IAM and EC2 calls, collected by the collector like any other
account's IAM and evaluated by ``graph.iam`` (moto's IAM does not evaluate SCPs: nothing
here needs it to, the evaluator is ours and works on the snapshot):

- ``ci-passes-admin-role`` (payments-dev): the CI role ``dev-ci`` may launch instances and
  pass any role; ``ivs-approved/build-admin``, a role on the approved path the SCPs leave
  open to role passing, holds ``*`` and sits in an instance profile: the CI role can make
  itself an administrator by launching an instance with it;
- ``internet-exposed-admin-role`` (payments-prod): the bastion that the internet reaches
  on SSH runs with the role ``bastion``, which holds ``*``: whoever gets onto it is
  administrator, and can run commands on every other instance of the account;
- ``ssm-to-developers`` (payments-prod): the group ``developers`` may ``ssm:SendCommand``
  on every instance of us-east-1, and ``alice.dev`` is in it;
- ``scp-blocks-instance-profiles`` (payments-prod, a trap): ``ops-profiles`` may create any
  instance profile by its identity policy, but the Workloads OU's SCP denies creating one
  outside the approved paths: it holds no broad permission.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import Any

from core.aws import Aws

EVERYTHING = {"Effect": "Allow", "Action": "*", "Resource": "*"}
#: Role names, by planted item (the ARNs are built from the account).
CI_ROLE, BUILD_ADMIN, BUILD_ADMIN_PATH = "dev-ci", "build-admin", "/ivs-approved/"
BASTION_ROLE, DEVELOPER, DEVELOPERS = "bastion", "alice.dev", "developers"
TRAP_ROLE = "ops-profiles"


def _document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _trust(**principal: str) -> str:
    return _document({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"})


def _role(iam: Any, name: str, trust: str, *, path: str = "/") -> str:
    return str(
        iam.create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    )


def _profile(iam: Any, name: str, role: str, *, path: str = "/") -> str:
    profile = iam.create_instance_profile(InstanceProfileName=name, Path=path)["InstanceProfile"]
    iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=role)
    return str(profile["Arn"])


def _admin_policy(iam: Any, account: str) -> str:
    """A customer managed policy granting everything (AdministratorAccess's document)."""
    name = "administrator"
    with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
        iam.create_policy(PolicyName=name, PolicyDocument=_document(EVERYTHING))
    return f"arn:aws:iam::{account}:policy/{name}"


def plant_ci_passes_admin_role(aws: Aws, account: str) -> dict[str, str]:
    iam = aws.client("iam")
    ci = _role(iam, CI_ROLE, _trust(Service="codebuild.amazonaws.com"))
    iam.put_role_policy(
        RoleName=CI_ROLE,
        PolicyName="ci-deploy",
        PolicyDocument=_document(
            {
                "Sid": "Deploy",
                "Effect": "Allow",
                "Action": ["ec2:RunInstances", "ec2:CreateTags", "ec2:Describe*"],
                "Resource": "*",
            },
            {"Sid": "PassRoles", "Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"},
        ),
    )
    admin = _role(iam, BUILD_ADMIN, _trust(Service="ec2.amazonaws.com"), path=BUILD_ADMIN_PATH)
    iam.attach_role_policy(RoleName=BUILD_ADMIN, PolicyArn=_admin_policy(iam, account))
    _profile(iam, BUILD_ADMIN, BUILD_ADMIN, path=BUILD_ADMIN_PATH)
    return {"iam.role.dev-ci": ci, "iam.role.build-admin": admin}


def plant_internet_exposed_admin_role(
    aws: Aws, account: str, region: str, bastion: str
) -> dict[str, str]:
    iam = aws.client("iam")
    role = _role(iam, BASTION_ROLE, _trust(Service="ec2.amazonaws.com"))
    iam.attach_role_policy(RoleName=BASTION_ROLE, PolicyArn=_admin_policy(iam, account))
    profile = _profile(iam, BASTION_ROLE, BASTION_ROLE)
    aws.client("ec2", region).associate_iam_instance_profile(
        IamInstanceProfile={"Arn": profile}, InstanceId=bastion
    )
    return {"iam.role.bastion": role}


def plant_ssm_to_developers(aws: Aws, account: str, region: str) -> dict[str, str]:
    iam = aws.client("iam")
    user = iam.create_user(UserName=DEVELOPER)["User"]["Arn"]
    iam.create_group(GroupName=DEVELOPERS)
    iam.add_user_to_group(GroupName=DEVELOPERS, UserName=DEVELOPER)
    iam.put_group_policy(
        GroupName=DEVELOPERS,
        PolicyName="run-commands",
        PolicyDocument=_document(
            {
                "Sid": "RunCommands",
                "Effect": "Allow",
                "Action": "ssm:SendCommand",
                "Resource": [
                    f"arn:aws:ec2:{region}:{account}:instance/*",
                    "arn:aws:ssm:*:*:document/AWS-RunShellScript",
                ],
            }
        ),
    )
    return {"iam.user.alice": str(user)}


def plant_scp_blocked_trap(aws: Aws) -> dict[str, str]:
    iam = aws.client("iam")
    role = _role(iam, TRAP_ROLE, _trust(Service="ssm.amazonaws.com"))
    iam.put_role_policy(
        RoleName=TRAP_ROLE,
        PolicyName="profiles",
        PolicyDocument=_document(
            {
                "Sid": "Profiles",
                "Effect": "Allow",
                "Action": ["iam:CreateInstanceProfile", "iam:AddRoleToInstanceProfile"],
                "Resource": "*",
            }
        ),
    )
    return {"iam.role.ops-profiles": role}


def plant_access(
    member: Callable[[str], Aws], dev: str, prod: str, region: str, bastion: str
) -> dict[str, str]:
    """Every IAM plant; the ids (ARNs) by logical name."""
    ids: dict[str, str] = {}
    ids |= plant_ci_passes_admin_role(member(dev), dev)
    ids |= plant_internet_exposed_admin_role(member(prod), prod, region, bastion)
    ids |= plant_ssm_to_developers(member(prod), prod, region)
    ids |= plant_scp_blocked_trap(member(prod))
    return ids
