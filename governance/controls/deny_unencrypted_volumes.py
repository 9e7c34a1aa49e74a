"""Deny unencrypted EBS volumes (an SCP): at ``CreateVolume`` and at instance launch."""

from __future__ import annotations

from core.spec import Spec
from governance.controls.base import Control, NoParameters, Statement
from governance.controls.grammar import VOLUMES, deny

ID = "deny-unencrypted-volumes"
CCM = ("IVS-04", "CEK-03")


def statements(params: NoParameters, spec: Spec) -> list[Statement]:
    return [
        deny(
            CCM,
            "DenyUnencryptedVolumes",
            ["ec2:CreateVolume", "ec2:RunInstances"],
            resource=VOLUMES,
            Condition={"Bool": {"ec2:Encrypted": "false"}},
        )
    ]


CONTROL = Control(
    ID,
    "scp",
    "Deny unencrypted EBS volumes",
    CCM,
    "No EBS volume is created unencrypted, directly or at instance launch.",
    "Unencrypted volumes and their snapshots expose data at rest.",
    statements=statements,
)
