"""Pass roles to services, and put them in instance profiles, only from approved paths
(an SCP)."""

from __future__ import annotations

from pydantic import Field, field_validator

from core.errors import shown
from core.spec import Spec
from governance.controls.base import Control, ParameterModel, Statement
from governance.controls.grammar import sid

ID = "restrict-pass-role"
CCM = ("IVS-04", "IAM-05")


class Parameters(ParameterModel):
    #: IAM paths of the roles that may be passed.
    approved_role_paths: list[str] = Field(["/ivs-approved/"])

    @field_validator("approved_role_paths")
    @classmethod
    def _paths(cls, values: list[str]) -> list[str]:
        for path in values:
            if not (path.startswith("/") and path.endswith("/")):
                raise ValueError(f"{shown(path)} must start and end with '/'")
        return values


def statements(params: Parameters, spec: Spec) -> list[Statement]:
    paths = list(params.approved_role_paths)
    return [
        {
            "Sid": sid(CCM, "RestrictPassRoleToApprovedPaths"),
            "Effect": "Deny",
            "Action": ["iam:PassRole"],
            "NotResource": [f"arn:aws:iam::*:role{path}*" for path in paths],
        },
        {
            "Sid": sid(CCM, "RestrictInstanceProfilesToApprovedPaths"),
            "Effect": "Deny",
            "Action": ["iam:CreateInstanceProfile"],
            "NotResource": [f"arn:aws:iam::*:instance-profile{path}*" for path in paths],
        },
    ]


def words(params: Parameters, spec: Spec) -> str:
    return "approved role paths: " + ", ".join(f"`{p}`" for p in params.approved_role_paths)


CONTROL = Control(
    ID,
    "scp",
    "Restrict role passing to approved paths",
    CCM,
    "Only roles under the approved paths are passed to services or put in instance profiles.",
    "Passing an arbitrary role to an instance escalates privilege.",
    parameters=Parameters,
    statements=statements,
    words=words,
)
