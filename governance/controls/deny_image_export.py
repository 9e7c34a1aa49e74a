"""Deny export of images, snapshots and instances out of AWS (an SCP)."""

from __future__ import annotations

from core.spec import Spec
from governance.controls.base import Control, NoParameters, Statement
from governance.controls.grammar import deny

ID = "deny-image-export"
CCM = ("IVS-04", "DSP-17")


def statements(params: NoParameters, spec: Spec) -> list[Statement]:
    return [
        deny(
            CCM,
            "DenyImageExport",
            ["ec2:ExportImage", "ec2:CreateStoreImageTask", "ec2:CreateInstanceExportTask"],
        )
    ]


CONTROL = Control(
    ID,
    "scp",
    "Deny export of images, snapshots and instances",
    CCM,
    "Images, snapshots and instances are not exported out of AWS.",
    "An exported disk image leaves every control that protects it in the organization.",
    statements=statements,
)
