"""The built-in control catalogue, declared as data.

Each control has one id that the spec switches on per OU (or at the root), the kind of
organization policy that enforces it, the CCM v4 controls it serves, and the words the
written policy (``ivs policy-doc``), the lint report and the audit use. Builders in
``governance.policies`` are keyed by these ids; nothing else repeats this text.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.vocabulary import POLICY_TYPES, PolicyKind

__all__ = ["CONTROLS", "CONTROLS_BY_ID", "POLICY_TYPES", "Control", "PolicyKind"]


@dataclass(frozen=True)
class Control:
    id: str
    kind: PolicyKind
    title: str
    ccm: tuple[str, ...]
    statement: str  # the control in words, for the written policy
    rationale: str


CONTROLS: tuple[Control, ...] = (
    Control(
        "ebs-encryption-default",
        "scp",
        "Keep EBS encryption by default on, with the approved key",
        ("IVS-04", "CEK-03"),
        "EBS encryption by default stays enabled in every governed region and its default "
        "KMS key is changed only by the pipeline.",
        "A volume created while the default is off is stored unencrypted.",
    ),
    Control(
        "deny-unencrypted-volumes",
        "scp",
        "Deny unencrypted EBS volumes",
        ("IVS-04", "CEK-03"),
        "No EBS volume is created unencrypted, directly or at instance launch.",
        "Unencrypted volumes and their snapshots expose data at rest.",
    ),
    Control(
        "deny-public-images-snapshots",
        "scp",
        "Deny public AMIs and snapshots",
        ("IVS-04", "DSP-17"),
        "AMIs and EBS snapshots are never shared publicly, and image and snapshot block "
        "public access cannot be turned off.",
        "A public image or snapshot leaks the disk of a virtual machine to every AWS account.",
    ),
    Control(
        "deny-image-export",
        "scp",
        "Deny export of images, snapshots and instances",
        ("IVS-04", "DSP-17"),
        "Images, snapshots and instances are not exported out of AWS.",
        "An exported disk image leaves every control that protects it in the organization.",
    ),
    Control(
        "approved-ami-owners",
        "scp",
        "Launch only from approved AMI owners",
        ("IVS-04",),
        "Instances launch only from images owned by the approved publishers.",
        "A hardened baseline means nothing if any image may be launched.",
    ),
    Control(
        "require-imdsv2",
        "scp",
        "Require IMDSv2 on launch",
        ("IVS-04",),
        "Every instance is launched with IMDSv2 (session tokens) required.",
        "IMDSv1 lets a server-side request forgery read instance role credentials.",
    ),
    Control(
        "require-tags-on-launch",
        "scp",
        "Require classification tags on launch",
        ("IVS-05", "DSP-04"),
        "Instances and volumes carry the classification tags when they are created.",
        "Untagged workloads cannot be placed in a zone, separated or backed up by policy.",
    ),
    Control(
        "restrict-regions",
        "scp",
        "Restrict regions",
        ("IVS-03", "DSP-19"),
        "Regional services are used only in the governed regions; global services are exempt "
        "as AWS documents.",
        "Resources in ungoverned regions escape monitoring and the baseline.",
    ),
    Control(
        "deny-leave-organization",
        "scp",
        "Deny leaving the organization",
        ("IVS-01",),
        "Member accounts cannot leave the organization.",
        "An account that leaves takes its workloads out of every organization control.",
    ),
    Control(
        "protect-flow-logs",
        "scp",
        "Protect VPC flow logs",
        ("IVS-09", "LOG-05"),
        "VPC flow logs are not deleted except by the pipeline.",
        "Deleting flow logs blinds network defense and incident response.",
    ),
    Control(
        "protect-governance-roles",
        "scp",
        "Protect the governance roles",
        ("IVS-01", "IAM-05"),
        "The roles that deploy and audit the baseline are changed only by the pipeline.",
        "Whoever can change the governance roles can switch off every control.",
    ),
    Control(
        "restrict-pass-role",
        "scp",
        "Restrict role passing to approved paths",
        ("IVS-04", "IAM-05"),
        "Only roles under the approved paths are passed to services or put in instance profiles.",
        "Passing an arbitrary role to an instance escalates privilege.",
    ),
    Control(
        "deny-default-vpc",
        "scp",
        "Deny default VPCs",
        ("IVS-06", "IVS-08"),
        "Default VPCs and default subnets are not created.",
        "A default VPC has public subnets and an internet gateway that nobody designed.",
    ),
    Control(
        "restrict-igw-attach",
        "scp",
        "Internet gateways only in network accounts",
        ("IVS-03", "IVS-06", "IVS-09"),
        "Internet gateways are created and attached only in the network accounts.",
        "Every internet path must pass the network team's inspection.",
    ),
    Control(
        "tag-policy",
        "tag",
        "Classification tag policy",
        ("IVS-05", "DSP-04"),
        "Classification tags use the approved keys and values on instances, volumes, "
        "snapshots and images.",
        "Zones, backups and separation of production depend on correct tags.",
    ),
    Control(
        "backup-policy",
        "backup",
        "Backup plans by tag",
        ("BCR-08", "IVS-04"),
        "Tagged resources are backed up on the approved schedule, retained and copied to a "
        "second region.",
        "A compromised or failed virtual machine must be restorable.",
    ),
    Control(
        "ec2-declarative-policy",
        "declarative-ec2",
        "EC2 declarative baseline",
        ("IVS-04", "IVS-03"),
        "Image and snapshot block public access, IMDS defaults, serial console off, VPC block "
        "public access and allowed images are enforced by the EC2 service itself.",
        "A declarative policy holds even for actions an SCP cannot see.",
    ),
)

CONTROLS_BY_ID: dict[str, Control] = {c.id: c for c in CONTROLS}
