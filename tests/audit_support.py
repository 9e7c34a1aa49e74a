"""Stubbed AWS for the audit tests: botocore's Stubber, which checks every request and
response against the real service models, behind the ``core.aws.Aws`` interface.

``stubbed_member(spec)`` hands out one stubbed client per (service, region) a member
account's audit reads; ``queue_needs`` queues the answers of an account whose backup
vault, backup role and security services are all as the spec expects.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import boto3
from botocore.stub import Stubber

from core.aws import Aws
from core.spec import Spec

#: Services a member account's audit reads, per governed region (IAM: once, us-east-1).
MEMBER_SERVICES = ("ec2", "kms", "backup", "guardduty", "inspector2", "securityhub")
BACKUP_POLICIES = (
    "AWSBackupServiceRolePolicyForBackup",
    "AWSBackupServiceRolePolicyForRestores",
)
BACKUP_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "backup.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}
DETECTOR = "12abc34d567e8fa901bc2d34e56789f0"


@dataclass
class StubbedAws(Aws):
    """Hands out pre-built (stubbed) clients; assuming a role returns itself."""

    clients: dict[tuple[str, str], Any] = field(default_factory=dict)
    assumed: list[str] = field(default_factory=list)

    def client(self, service: str, region: str | None = None) -> Any:
        return self.clients[(service, region or self.region)]

    def assume(self, account_id: str, role_name: str, session_name: str = "") -> Aws:
        self.assumed.append(f"{account_id}/{role_name}")
        return self


#: One session for every stubbed client: it parses each service model once.
_SESSION = boto3.session.Session()


def stubbed(service: str, region: str) -> tuple[Any, Stubber]:
    client = _SESSION.client(
        service,  # type: ignore[call-overload]
        region_name=region,
        aws_access_key_id="stub",
        aws_secret_access_key="stub",
    )
    return client, Stubber(client)


def stubbed_member(spec: Spec) -> tuple[StubbedAws, dict[str, Stubber]]:
    """Stubs named ``service:region`` (``iam:global``)."""
    aws = StubbedAws()
    stubs: dict[str, Stubber] = {}
    for region in spec.regions:
        for service in MEMBER_SERVICES:
            client, stub = stubbed(service, region)
            aws.clients[(service, region)] = client
            stubs[f"{service}:{region}"] = stub
    client, stub = stubbed("iam", "us-east-1")
    aws.clients[("iam", "us-east-1")] = client
    stubs["iam:global"] = stub
    return aws, stubs


def queue_ec2(
    stub: Stubber,
    *,
    kms_key: str | None,
    encryption: bool = True,
    image: str = "block-new-sharing",
    snapshot: str = "block-all-sharing",
    tokens: str = "required",
    managed_by: str = "account",
) -> None:
    stub.add_response("get_ebs_encryption_by_default", {"EbsEncryptionByDefault": encryption}, {})
    if kms_key is not None:
        stub.add_response("get_ebs_default_kms_key_id", {"KmsKeyId": kms_key}, {})
    stub.add_response(
        "get_image_block_public_access_state",
        {"ImageBlockPublicAccessState": image, "ManagedBy": "account"},
        {},
    )
    stub.add_response(
        "get_snapshot_block_public_access_state", {"State": snapshot, "ManagedBy": "account"}, {}
    )
    stub.add_response(
        "get_instance_metadata_defaults",
        {
            "AccountLevel": {
                "HttpTokens": tokens,
                "HttpPutResponseHopLimit": 2,
                "InstanceMetadataTags": "disabled",
                "HttpEndpoint": "enabled",
                "ManagedBy": managed_by,
            }
        },
        {},
    )


def role_response(name: str = "ivs-backup-role", trust: Any = None) -> dict[str, Any]:
    """GetRole's answer; IAM sends the trust policy URL-encoded, as the model says."""
    document = BACKUP_TRUST if trust is None else trust
    return {
        "Role": {
            "Path": "/",
            "RoleName": name,
            "RoleId": "AROAEXAMPLEEXAMPLE01",
            "Arn": f"arn:aws:iam::400000000001:role/{name}",
            "CreateDate": "2026-11-01T00:00:00Z",
            "AssumeRolePolicyDocument": quote(json.dumps(document)),
        }
    }


def attached_response(names: tuple[str, ...] = BACKUP_POLICIES) -> dict[str, Any]:
    return {
        "AttachedPolicies": [
            {"PolicyName": n, "PolicyArn": f"arn:aws:iam::aws:policy/service-role/{n}"}
            for n in names
        ]
    }


def queue_role(stubs: dict[str, Stubber], name: str = "ivs-backup-role") -> None:
    stubs["iam:global"].add_response("get_role", role_response(name), {"RoleName": name})
    stubs["iam:global"].add_response(
        "list_attached_role_policies", attached_response(), {"RoleName": name}
    )


def queue_vault(stubs: dict[str, Stubber], region: str, name: str = "ivs-backup-vault") -> None:
    stubs[f"backup:{region}"].add_response(
        "describe_backup_vault",
        {
            "BackupVaultName": name,
            "BackupVaultArn": f"arn:aws:backup:{region}:400000000001:backup-vault:{name}",
        },
        {"BackupVaultName": name},
    )


def queue_guardduty(stubs: dict[str, Stubber], region: str, status: str = "ENABLED") -> None:
    stub = stubs[f"guardduty:{region}"]
    stub.add_response("list_detectors", {"DetectorIds": [DETECTOR]}, {})
    stub.add_response(
        "get_detector",
        {"ServiceRole": "arn:aws:iam::400000000001:role/aws-service-role/x", "Status": status},
        {"DetectorId": DETECTOR},
    )


def queue_inspector(
    stubs: dict[str, Stubber], region: str, account: str, status: str = "ENABLED"
) -> None:
    def state(value: str) -> dict[str, Any]:
        # the model requires a code and a message with every state, whatever it is
        code = "ALREADY_ENABLED" if value == "ENABLED" else "RESOURCE_NOT_FOUND"
        return {"status": value, "errorCode": code, "errorMessage": value.lower()}

    stubs[f"inspector2:{region}"].add_response(
        "batch_get_account_status",
        {
            "accounts": [
                {
                    "accountId": account,
                    "state": state("ENABLED"),
                    "resourceState": {"ec2": state(status), "ecr": state("DISABLED")},
                }
            ],
            "failedAccounts": [],
        },
        {"accountIds": [account]},
    )


def queue_securityhub(stubs: dict[str, Stubber], region: str) -> None:
    stubs[f"securityhub:{region}"].add_response(
        "describe_hub",
        {"HubArn": f"arn:aws:securityhub:{region}:400000000001:hub/default"},
        {},
    )


def queue_needs(
    stubs: dict[str, Stubber], spec: Spec, account: str, *, backup: bool = True
) -> None:
    """Passing answers for the vault and role (``backup``) and the security services."""
    if backup:
        queue_role(stubs)
    for region in spec.regions:
        if backup:
            queue_vault(stubs, region)
        queue_guardduty(stubs, region)
        queue_inspector(stubs, region, account)
        queue_securityhub(stubs, region)


def activate(stubs: dict[str, Stubber]) -> None:
    for stub in stubs.values():
        stub.activate()


def assert_all_answered(stubs: dict[str, Stubber]) -> None:
    for stub in stubs.values():
        stub.assert_no_pending_responses()
