"""Protect the roles that deploy and audit the baseline (an SCP)."""

from __future__ import annotations

from pydantic import Field

from core.spec import Spec
from governance.controls.base import Control, ParameterModel, Statement
from governance.controls.grammar import deny

ID = "protect-governance-roles"
CCM = ("IVS-01", "IAM-05")

#: IAM calls that change a role; denied on the governance roles.
ROLE_MUTATIONS: tuple[str, ...] = (
    "iam:AttachRolePolicy",
    "iam:DeleteRole",
    "iam:DeleteRolePermissionsBoundary",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy",
    "iam:TagRole",
    "iam:UntagRole",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateRole",
    "iam:UpdateRoleDescription",
)


class Parameters(ParameterModel):
    #: Roles protected besides the member role (the pipeline's, the auditor's...).
    governance_role_names: list[str] = Field([])


def statements(params: Parameters, spec: Spec) -> list[Statement]:
    names = [spec.member_role_name, *params.governance_role_names]
    roles = [f"arn:aws:iam::*:role/{name}" for name in dict.fromkeys(names)]
    return [deny(CCM, "ProtectGovernanceRoles", list(ROLE_MUTATIONS), resource=roles)]


def words(params: Parameters, spec: Spec) -> str:
    return "governance roles: " + ", ".join(params.governance_role_names or ["(the member role)"])


CONTROL = Control(
    ID,
    "scp",
    "Protect the governance roles",
    CCM,
    "The roles that deploy and audit the baseline are changed only by the pipeline.",
    "Whoever can change the governance roles can switch off every control.",
    parameters=Parameters,
    statements=statements,
    words=words,
)
