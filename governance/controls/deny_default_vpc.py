"""Deny default VPCs and default subnets (an SCP)."""

from __future__ import annotations

from core.spec import Spec
from governance.controls.base import Control, NoParameters, Statement
from governance.controls.grammar import deny

ID = "deny-default-vpc"
CCM = ("IVS-06", "IVS-08")


def statements(params: NoParameters, spec: Spec) -> list[Statement]:
    return [deny(CCM, "DenyDefaultVpc", ["ec2:CreateDefaultVpc", "ec2:CreateDefaultSubnet"])]


CONTROL = Control(
    ID,
    "scp",
    "Deny default VPCs",
    CCM,
    "Default VPCs and default subnets are not created.",
    "A default VPC has public subnets and an internet gateway that nobody designed.",
    statements=statements,
)
