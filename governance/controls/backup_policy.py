"""Backup policy: plans that select resources by tag, with retention and a second-region copy.

AWS backup policy syntax: ``plans.<name>`` with ``regions``, ``rules`` (each with
``schedule_expression``, ``target_backup_vault_name``, windows, ``lifecycle`` and
``copy_actions``) and ``selections.tags`` (``iam_role_arn``, ``tag_key``, ``tag_value``).
Every value is set with ``@@assign``; numbers are strings as in AWS's examples; ``$account``
stands for the account that receives the effective policy.
"""

from __future__ import annotations

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
    return "backup plans: " + (", ".join(plans) if plans else "none")


CONTROL = Control(
    ID,
    "backup",
    "Backup plans by tag",
    CCM,
    "Tagged resources are backed up on the approved schedule, retained and copied to a "
    "second region.",
    "A compromised or failed virtual machine must be restorable.",
    parameters=Parameters,
    document=document,
    words=words,
)
