"""The audit of what the controls need in each member account, from Stubber-checked
answers: the backup vault and role where a backup policy is in force, and GuardDuty,
Inspector EC2 scanning and Security Hub where the org stack enables them. Each is pass,
drift, or not assessed when the call fails in any way (never pass, never the end of the
audit). moto serves these calls too: tests/test_audit.py reads them there end to end."""

from __future__ import annotations

from typing import Any

import pytest
from audit_support import (
    DETECTOR,
    activate,
    assert_all_answered,
    attached_response,
    queue_ec2,
    queue_guardduty,
    queue_inspector,
    queue_needs,
    queue_role,
    queue_securityhub,
    queue_vault,
    role_response,
    stubbed_member,
)
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from conftest import EXAMPLE_SPEC

from core.spec import Spec
from governance.audit import Check, audit_account, trusted_services
from governance.spec import spec_from_mapping

PROD = "400000000001"  # Workloads/Prod: backup policy in force
SANDBOX = "600000000001"  # no backup policy
KEY_ALIAS = "arn:aws:kms:us-east-1:300000000002:alias/ivs-ebs-default"
NEEDS = {
    "backup-vault",
    "backup-role",
    "guardduty-enabled",
    "inspector-ec2-enabled",
    "securityhub-enabled",
}


def _run(spec: Spec, account: str, queue: Any) -> dict[tuple[str, str], Check]:
    """Audit ``account`` with the EC2 settings passing and ``queue(stubs)`` for the rest;
    the records of what the controls need, by (region, control)."""
    aws, stubs = stubbed_member(spec)
    for region in spec.regions:
        queue_ec2(stubs[f"ec2:{region}"], kms_key=KEY_ALIAS if region == "us-east-1" else None)
    queue(stubs)
    activate(stubs)
    checks = audit_account(aws, spec, account)
    assert_all_answered(stubs)  # every queued answer was asked for, and nothing else
    ec2 = [c for c in checks if c.control not in NEEDS]
    assert ec2 and {c.status for c in ec2} == {"pass"}
    return {(c.region, c.control): c for c in checks if c.control in NEEDS}


def _error(stub: Stubber, operation: str, code: str, message: str = "no", **params: Any) -> None:
    stub.add_client_error(
        operation, service_error_code=code, service_message=message, expected_params=params
    )


def test_everything_in_place_passes_with_the_controls_named(spec: Spec) -> None:
    found = _run(spec, PROD, lambda stubs: queue_needs(stubs, spec, PROD))
    assert {check.status for check in found.values()} == {"pass"}
    assert set(found) == {("global", "backup-role")} | {
        (region, control) for region in spec.regions for control in NEEDS - {"backup-role"}
    }
    role = found[("global", "backup-role")]
    assert (role.resource, role.controls) == (
        "ivs-backup-role",
        ("account-baseline", "backup-policy"),
    )
    assert role.detail == "arn:aws:iam::400000000001:role/ivs-backup-role"
    vault = found[("eu-west-1", "backup-vault")]
    assert (vault.resource, vault.controls) == (
        "ivs-backup-vault",
        ("account-baseline", "backup-policy"),
    )
    guardduty = found[("us-east-1", "guardduty-enabled")]
    assert guardduty.controls == ("security-services",)
    assert guardduty.detail == f"detector {DETECTOR}"


def test_no_backup_policy_no_vault_or_role_read(spec: Spec) -> None:
    def queue(stubs: dict[str, Stubber]) -> None:
        queue_needs(stubs, spec, SANDBOX, backup=False)

    found = _run(spec, SANDBOX, queue)
    assert {control for _, control in found} == NEEDS - {"backup-vault", "backup-role"}


def test_no_delegated_administrator_no_service_read(spec_fields: dict[str, Any]) -> None:
    spec_fields.pop("fleet")
    spec = spec_from_mapping(spec_fields, "test.yaml", base_dir=str(EXAMPLE_SPEC.parent))

    def queue(stubs: dict[str, Stubber]) -> None:
        queue_role(stubs)
        for region in spec.regions:
            queue_vault(stubs, region)

    found = _run(spec, PROD, queue)
    assert {control for _, control in found} == {"backup-vault", "backup-role"}


def test_a_missing_vault_role_detector_and_hub_are_drift(spec: Spec) -> None:
    def queue(stubs: dict[str, Stubber]) -> None:
        iam = stubs["iam:global"]
        _error(iam, "get_role", "NoSuchEntity", "not found", RoleName="ivs-backup-role")
        us, eu = "us-east-1", "eu-west-1"
        queue_vault(stubs, us)
        _error(
            stubs[f"backup:{eu}"],
            "describe_backup_vault",
            "ResourceNotFoundException",
            "ivs-backup-vault",
            BackupVaultName="ivs-backup-vault",
        )
        stubs[f"guardduty:{us}"].add_response("list_detectors", {"DetectorIds": []}, {})
        queue_guardduty(stubs, eu, status="DISABLED")
        queue_inspector(stubs, us, PROD)
        queue_inspector(stubs, eu, PROD, status="DISABLED")
        queue_securityhub(stubs, us)
        message = "Account 400000000001 is not subscribed to AWS Security Hub"
        _error(stubs[f"securityhub:{eu}"], "describe_hub", "InvalidAccessException", message)

    found = _run(spec, PROD, queue)
    drift = {key: c for key, c in found.items() if c.status != "pass"}
    assert set(drift) == {
        ("global", "backup-role"),
        ("eu-west-1", "backup-vault"),
        ("us-east-1", "guardduty-enabled"),
        ("eu-west-1", "guardduty-enabled"),
        ("eu-west-1", "inspector-ec2-enabled"),
        ("eu-west-1", "securityhub-enabled"),
    }
    assert {c.status for c in drift.values()} == {"drift"}
    assert (drift[("global", "backup-role")].expected, drift[("global", "backup-role")].actual) == (
        "present",
        "missing",
    )
    assert drift[("eu-west-1", "backup-vault")].detail == "vault missing"
    assert drift[("us-east-1", "guardduty-enabled")].actual == "no detector"
    assert drift[("eu-west-1", "guardduty-enabled")].actual == {DETECTOR: "DISABLED"}
    inspector = drift[("eu-west-1", "inspector-ec2-enabled")]
    assert (inspector.expected, inspector.actual) == ("ENABLED", "DISABLED")
    hub = drift[("eu-west-1", "securityhub-enabled")]
    assert (hub.expected, hub.actual) == ("enabled", "not enabled")
    assert "not subscribed" in hub.detail


def test_a_role_that_backup_cannot_use_is_drift(spec: Spec) -> None:
    ec2_trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }

    def queue(stubs: dict[str, Stubber]) -> None:
        iam = stubs["iam:global"]
        name = {"RoleName": "ivs-backup-role"}
        iam.add_response("get_role", role_response(trust=ec2_trust), name)
        only_backup = attached_response(("AWSBackupServiceRolePolicyForBackup",))
        iam.add_response("list_attached_role_policies", only_backup, name)
        for region in spec.regions:
            queue_vault(stubs, region)
            queue_guardduty(stubs, region)
            queue_inspector(stubs, region, PROD)
            queue_securityhub(stubs, region)

    role = _run(spec, PROD, queue)[("global", "backup-role")]
    assert role.status == "drift"
    assert role.detail == (
        "not trusted by backup.amazonaws.com; AWSBackupServiceRolePolicyForRestores not attached"
    )
    assert role.actual == {
        "trusted_by": ["ec2.amazonaws.com"],
        "managed_policies": ["AWSBackupServiceRolePolicyForBackup"],
    }
    assert role.expected == {
        "trusted_by": "backup.amazonaws.com",
        "managed_policies": [
            "AWSBackupServiceRolePolicyForBackup",
            "AWSBackupServiceRolePolicyForRestores",
        ],
    }


@pytest.mark.parametrize(
    ("control", "queue_failure", "error"),
    [
        (
            "backup-vault",
            lambda s: _error(
                s["backup:eu-west-1"],
                "describe_backup_vault",
                "AccessDeniedException",
                "Insufficient privileges to perform this action.",
                BackupVaultName="ivs-backup-vault",
            ),
            "AccessDeniedException: Insufficient privileges",
        ),
        (
            "guardduty-enabled",
            lambda s: _error(s["guardduty:eu-west-1"], "list_detectors", "AccessDeniedException"),
            "AccessDeniedException: no",
        ),
        (
            "inspector-ec2-enabled",
            lambda s: _error(
                s["inspector2:eu-west-1"],
                "batch_get_account_status",
                "ThrottlingException",
                "Rate exceeded",
                accountIds=[PROD],
            ),
            "ThrottlingException: Rate exceeded",
        ),
        (
            "inspector-ec2-enabled",
            lambda s: s["inspector2:eu-west-1"].add_response(
                "batch_get_account_status",
                {
                    "accounts": [],
                    "failedAccounts": [
                        {
                            "accountId": PROD,
                            "errorCode": "ACCESS_DENIED",
                            "errorMessage": "not a member of the organization",
                        }
                    ],
                },
                {"accountIds": [PROD]},
            ),
            "ACCESS_DENIED: not a member of the organization",
        ),
        (
            "inspector-ec2-enabled",
            lambda s: s["inspector2:eu-west-1"].add_response(
                "batch_get_account_status",
                {"accounts": [], "failedAccounts": []},
                {"accountIds": [PROD]},
            ),
            "BatchGetAccountStatus did not answer for the account",
        ),
        (
            "securityhub-enabled",  # the same code, for another reason: not read as "off"
            lambda s: _error(
                s["securityhub:eu-west-1"],
                "describe_hub",
                "InvalidAccessException",
                "The security token included in the request is invalid",
            ),
            "InvalidAccessException: The security token",
        ),
    ],
)
def test_a_failed_read_is_not_assessed_and_the_rest_goes_on(
    spec: Spec, control: str, queue_failure: Any, error: str
) -> None:
    def queue(stubs: dict[str, Stubber]) -> None:
        answers = {
            "backup-vault": lambda region: queue_vault(stubs, region),
            "guardduty-enabled": lambda region: queue_guardduty(stubs, region),
            "inspector-ec2-enabled": lambda region: queue_inspector(stubs, region, PROD),
            "securityhub-enabled": lambda region: queue_securityhub(stubs, region),
        }
        queue_role(stubs)
        for region in spec.regions:
            for name, answer in answers.items():
                if (region, name) != ("eu-west-1", control):
                    answer(region)
        queue_failure(stubs)

    found = _run(spec, PROD, queue)
    failed = found[("eu-west-1", control)]
    assert failed.status == "not_assessed"
    assert failed.error is not None and failed.error.startswith(error)
    assert failed.controls  # still says which control it is about
    others = [c for key, c in found.items() if key != ("eu-west-1", control)]
    assert len(others) == len(found) - 1 and {c.status for c in others} == {"pass"}


def test_a_role_that_cannot_be_read_is_not_assessed(spec: Spec) -> None:
    def queue(stubs: dict[str, Stubber]) -> None:
        queue_needs(stubs, spec, PROD, backup=False)
        for region in spec.regions:
            queue_vault(stubs, region)
        iam = stubs["iam:global"]
        iam.add_response("get_role", role_response(), {"RoleName": "ivs-backup-role"})
        _error(iam, "list_attached_role_policies", "Throttling", RoleName="ivs-backup-role")

    role = _run(spec, PROD, queue)[("global", "backup-role")]
    assert (role.status, role.error) == ("not_assessed", "Throttling: no")


def test_an_account_that_cannot_be_reached_assesses_nothing(spec: Spec) -> None:
    aws, _ = stubbed_member(spec)

    def deny(account_id: str, role_name: str, session_name: str = "") -> Any:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "AssumeRole")

    aws.assume = deny  # type: ignore[method-assign]
    checks = audit_account(aws, spec, PROD)
    needs = [c for c in checks if c.control in NEEDS]
    assert len(needs) == 1 + len(spec.regions) * 4  # the role, and four per region
    assert {c.status for c in checks} == {"not_assessed"}
    assert all(c.error and c.error.startswith("cannot assume ") for c in checks)
    assert {c.controls for c in needs} == {
        ("account-baseline", "backup-policy"),
        ("security-services",),
    }


@pytest.mark.parametrize(
    ("document", "trusted"),
    [
        ('{"Statement": {"Effect": "Allow", "Action": "sts:*", '
         '"Principal": {"Service": "backup.amazonaws.com"}}}', ["backup.amazonaws.com"]),
        ({"Statement": [{"Effect": "Deny", "Action": "sts:AssumeRole",
                         "Principal": {"Service": "backup.amazonaws.com"}}]}, []),
        ({"Statement": [{"Effect": "Allow", "Action": "sts:TagSession",
                         "Principal": {"Service": "backup.amazonaws.com"}}]}, []),
        ({"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                         "Principal": {"AWS": "arn:aws:iam::400000000001:root"}}]}, []),
        ("%7B%22Statement%22%3A%5B%5D%7D", []),  # URL-encoded, as IAM sends it
    ],
)  # fmt: skip
def test_trusted_services(document: Any, trusted: list[str]) -> None:
    assert trusted_services(document) == trusted
