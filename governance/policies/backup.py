"""Backup policy: plans that select resources by tag, with retention and a second-region copy.

AWS backup policy syntax: ``plans.<name>`` with ``regions``, ``rules`` (each with
``schedule_expression``, ``target_backup_vault_name``, windows, ``lifecycle`` and
``copy_actions``) and ``selections.tags`` (``iam_role_arn``, ``tag_key``, ``tag_value``).
Every value is set with ``@@assign``; numbers are strings as in AWS's examples; ``$account``
stands for the account that receives the effective policy.
"""

from __future__ import annotations

from typing import Any

from core.spec import BackupPlan, Parameters


def _assign(value: Any) -> dict[str, Any]:
    return {"@@assign": value}


def vault_arn(region: str, vault_name: str) -> str:
    return f"arn:aws:backup:{region}:$account:backup-vault:{vault_name}"


def _rule(plan: BackupPlan, vault: str) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "schedule_expression": _assign(plan.schedule),
        "start_backup_window_minutes": _assign(str(plan.start_window_minutes)),
        "complete_backup_window_minutes": _assign(str(plan.complete_window_minutes)),
        "target_backup_vault_name": _assign(vault),
        "lifecycle": {"delete_after_days": _assign(str(plan.retention_days))},
    }
    if plan.copy_to_region:
        arn = vault_arn(plan.copy_to_region, vault)
        retention = plan.copy_retention_days or plan.retention_days
        rule["copy_actions"] = {
            arn: {
                "target_backup_vault_arn": _assign(arn),
                "lifecycle": {"delete_after_days": _assign(str(retention))},
            }
        }
    return rule


def backup_policy(params: Parameters) -> dict[str, Any] | None:
    """The backup policy for these parameters, or None when no plan is given."""
    backup = params.backup
    if not backup.plans:
        return None
    role_arn = f"arn:aws:iam::$account:role/{backup.role_name}"
    plans: dict[str, Any] = {}
    for plan in backup.plans:
        plans[plan.name] = {
            "regions": _assign(list(params.allowed_regions or [])),
            "rules": {plan.name: _rule(plan, backup.vault_name)},
            "selections": {
                "tags": {
                    plan.name: {
                        "iam_role_arn": _assign(role_arn),
                        "tag_key": _assign(plan.selection_tag_key),
                        "tag_value": _assign(list(plan.selection_tag_values)),
                    }
                }
            },
        }
    return {"plans": plans}
