"""Launch only from approved AMI owners (an SCP on ``ec2:Owner`` of the image)."""

from __future__ import annotations

from core.spec import Spec
from governance.controls.base import Control, Statement
from governance.controls.grammar import IMAGES, deny
from governance.controls.parameters import ApprovedAmiOwners

ID = "approved-ami-owners"
CCM = ("IVS-04",)


class Parameters(ApprovedAmiOwners):
    pass


def statements(params: Parameters, spec: Spec) -> list[Statement]:
    return [
        deny(
            CCM,
            "DenyUnapprovedAmiOwners",
            ["ec2:RunInstances"],
            resource=IMAGES,
            Condition={"StringNotEquals": {"ec2:Owner": list(params.approved_ami_owners)}},
        )
    ]


def words(params: Parameters, spec: Spec) -> str:
    return "approved AMI owners: " + ", ".join(params.approved_ami_owners)


CONTROL = Control(
    ID,
    "scp",
    "Launch only from approved AMI owners",
    CCM,
    "Instances launch only from images owned by the approved publishers.",
    "A hardened baseline means nothing if any image may be launched.",
    parameters=Parameters,
    statements=statements,
    words=words,
)
