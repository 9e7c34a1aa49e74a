"""Deny public AMIs and snapshots (an SCP).

IAM has no condition key that sees "launch permission for group all" on
``ec2:ModifyImageAttribute`` (``ec2:Add/group`` exists for snapshots only), so public AMI
sharing is stopped by image block public access, which this SCP keeps switched on (and
which the account baseline and the EC2 declarative policy set).
"""

from __future__ import annotations

from core.spec import Spec
from governance.controls.base import Control, NoParameters, Statement
from governance.controls.grammar import deny

ID = "deny-public-images-snapshots"
CCM = ("IVS-04", "DSP-17")


def statements(params: NoParameters, spec: Spec) -> list[Statement]:
    return [
        deny(
            CCM,
            "DenyPublicSnapshots",
            ["ec2:ModifySnapshotAttribute"],
            Condition={"StringEquals": {"ec2:Add/group": "all"}},
        ),
        deny(
            CCM,
            "DenyDisableBlockPublicAccess",
            ["ec2:DisableImageBlockPublicAccess", "ec2:DisableSnapshotBlockPublicAccess"],
        ),
    ]


CONTROL = Control(
    ID,
    "scp",
    "Deny public AMIs and snapshots",
    CCM,
    "AMIs and EBS snapshots are never shared publicly, and image and snapshot block "
    "public access cannot be turned off.",
    "A public image or snapshot leaks the disk of a virtual machine to every AWS account.",
    statements=statements,
)
