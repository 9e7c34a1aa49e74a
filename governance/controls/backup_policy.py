"""Backup policy: plans that select resources by tag, with retention and a second-region copy.

AWS backup policy syntax: ``plans.<name>`` with ``regions``, ``rules`` (each with
``schedule_expression``, ``target_backup_vault_name``, windows, ``lifecycle`` and
``copy_actions``) and ``selections.tags`` (``iam_role_arn``, ``tag_key``, ``tag_value``).
Every value is set with ``@@assign``; numbers are strings as in AWS's examples; ``$account``
stands for the account that receives the effective policy.

The policy only names a vault and a role; AWS creates neither. "The IAM role must exist when
creating a backup plan for the first time", and the vault "must exist in each of the
specified AWS Regions before the backup plan can run" and "for each AWS account that
receives the effective policy" (AWS Organizations User Guide, *Backup policy syntax and
examples*, Considerations). :func:`needs` says which vault, role and regions an account
needs; the account baseline creates them and the audit reads them back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import Field

from core.spec import Spec
from governance.controls.base import Control, ParameterModel
from governance.controls.grammar import assign
from governance.controls.parameters import AllowedRegions

ID = "backup-policy"
CCM = ("BCR-08", "IVS-04")


class BackupPlan(ParameterModel):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,50}$")
    schedule: str = "cron(0 3 ? * * *)"
    start_window_minutes: int = Field(60, ge=60)
    complete_window_minutes: int = Field(720, ge=60)
    retention_days: int = Field(35, ge=1)
    copy_to_region: str | None = None
    copy_retention_days: int | None = None
    selection_tag_key: str = "BackupPlan"
    selection_tag_values: list[str] = Field(min_length=1)


class Backup(ParameterModel):
    vault_name: str = "ivs-backup-vault"
    role_name: str = "ivs-backup-role"
    plans: list[BackupPlan] = Field([])


class Parameters(AllowedRegions):
    #: The vault and role the plans use, and the plans themselves (none: no policy).
    backup: Backup = Backup()


#: The principal the backup role trusts, and the AWS managed policies it carries: the
#: permissions AWS Backup's own default service role has, to back up and to restore (AWS
#: Backup Developer Guide, *IAM service roles* and *AWS managed policies for AWS Backup*).
SERVICE_PRINCIPAL = "backup.amazonaws.com"
ROLE_MANAGED_POLICIES: tuple[str, ...] = (
    "AWSBackupServiceRolePolicyForBackup",
    "AWSBackupServiceRolePolicyForRestores",
)


def managed_policy_arn(name: str, partition: str = "aws") -> str:
    """The ARN of one of :data:`ROLE_MANAGED_POLICIES` (they live under ``service-role/``).

    >>> managed_policy_arn("AWSBackupServiceRolePolicyForBackup")
    'arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup'
    """
    return f"arn:{partition}:iam::aws:policy/service-role/{name}"


def trust_policy() -> dict[str, Any]:
    """The backup role's trust policy: AWS Backup may assume it."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": SERVICE_PRINCIPAL},
                "Action": "sts:AssumeRole",
            }
        ],
    }


@dataclass(frozen=True)
class BackupNeeds:
    """What one account needs for the backup policy in force on it to run."""

    vault_name: str
    role_name: str
    #: Governed regions where a plan runs or copies to: each needs the vault.
    regions: tuple[str, ...]


def needs(params: Parameters, spec: Spec) -> BackupNeeds | None:
    """The vault, role and regions the backup policy built from ``params`` needs in an
    account, or None when these parameters give no policy (no plan).

    The vault is needed where a plan runs (its ``regions``) and where a rule copies to
    (the copy's target vault has the same name); of those, the governed regions, where
    the account baseline acts.

    >>> from governance.controls import parameters_for
    >>> from governance.spec import load_spec
    >>> spec = load_spec("stacks/Pulumi.org.yaml")
    >>> wanted = needs(parameters_for(spec, "Workloads"), spec)
    >>> wanted.vault_name, wanted.role_name, wanted.regions
    ('ivs-backup-vault', 'ivs-backup-role', ('us-east-1', 'eu-west-1'))
    """
    if document(params, spec) is None:
        return None
    wanted = set(params.regions(spec))
    wanted.update(p.copy_to_region for p in params.backup.plans if p.copy_to_region)
    return BackupNeeds(
        vault_name=params.backup.vault_name,
        role_name=params.backup.role_name,
        regions=tuple(r for r in spec.regions if r in wanted),
    )


def vault_arn(region: str, vault_name: str) -> str:
    return f"arn:aws:backup:{region}:$account:backup-vault:{vault_name}"


def _rule(plan: BackupPlan, vault: str) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "schedule_expression": assign(plan.schedule),
        "start_backup_window_minutes": assign(str(plan.start_window_minutes)),
        "complete_backup_window_minutes": assign(str(plan.complete_window_minutes)),
        "target_backup_vault_name": assign(vault),
        "lifecycle": {"delete_after_days": assign(str(plan.retention_days))},
    }
    if plan.copy_to_region:
        arn = vault_arn(plan.copy_to_region, vault)
        retention = plan.copy_retention_days or plan.retention_days
        rule["copy_actions"] = {
            arn: {
                "target_backup_vault_arn": assign(arn),
                "lifecycle": {"delete_after_days": assign(str(retention))},
            }
        }
    return rule


def document(params: Parameters, spec: Spec) -> dict[str, Any] | None:
    """The backup policy for these parameters, or None when no plan is given."""
    backup = params.backup
    if not backup.plans:
        return None
    role_arn = f"arn:aws:iam::$account:role/{backup.role_name}"
    plans: dict[str, Any] = {}
    for plan in backup.plans:
        plans[plan.name] = {
            "regions": assign(params.regions(spec)),
            "rules": {plan.name: _rule(plan, backup.vault_name)},
            "selections": {
                "tags": {
                    plan.name: {
                        "iam_role_arn": assign(role_arn),
                        "tag_key": assign(plan.selection_tag_key),
                        "tag_value": assign(list(plan.selection_tag_values)),
                    }
                }
            },
        }
    return {"plans": plans}


def words(params: Parameters, spec: Spec) -> str:
    plans = [
        f"`{p.name}` ({p.schedule}, kept {p.retention_days} days"
        + (f", copied to {p.copy_to_region}" if p.copy_to_region else "")
        + ")"
        for p in params.backup.plans
    ]
    text = "backup plans: " + (", ".join(plans) if plans else "none")
    wanted = needs(params, spec)
    if wanted is None:
        return text
    return (
        f"{text}; into vault `{wanted.vault_name}` "
        f"({', '.join(wanted.regions) or 'no governed region'}) with role "
        f"`{wanted.role_name}` (trusted by AWS Backup, with "
        + " and ".join(f"`{name}`" for name in ROLE_MANAGED_POLICIES)
        + "), which each account's stack creates"
    )


CONTROL = Control(
    ID,
    "backup",
    "Backup plans by tag",
    CCM,
    "Tagged resources are backed up on the approved schedule, retained and copied to a "
    "second region, into a backup vault and with a backup role that exist in every account "
    "the policy applies to.",
    "A compromised or failed virtual machine must be restorable.",
    parameters=Parameters,
    document=document,
    words=words,
)
