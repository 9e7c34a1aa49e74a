"""Deny leaving the organization (an SCP)."""

from __future__ import annotations

from core.spec import Spec
from governance.controls.base import Control, NoParameters, Statement
from governance.controls.grammar import deny

ID = "deny-leave-organization"
CCM = ("IVS-01",)


def statements(params: NoParameters, spec: Spec) -> list[Statement]:
    return [deny(CCM, "DenyLeaveOrganization", ["organizations:LeaveOrganization"])]


CONTROL = Control(
    ID,
    "scp",
    "Deny leaving the organization",
    CCM,
    "Member accounts cannot leave the organization.",
    "An account that leaves takes its workloads out of every organization control.",
    statements=statements,
)
