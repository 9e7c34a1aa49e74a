"""EC2 declarative policy: the EC2 service itself enforces the baseline attributes.

AWS declarative policy syntax: ``ec2_attributes`` with ``image_block_public_access``,
``snapshot_block_public_access``, ``instance_metadata_defaults``,
``serial_console_access``, ``vpc_block_public_access`` and ``allowed_images_settings``;
every value set with ``@@assign``. Account administrators cannot change an attribute a
declarative policy sets, which is what makes it hold for actions an SCP cannot see.
"""

from __future__ import annotations

from typing import Any, Literal

from core.spec import Spec
from governance.controls.base import Control
from governance.controls.grammar import assign
from governance.controls.parameters import ApprovedAmiOwners, ImdsDefaults

ID = "ec2-declarative-policy"
CCM = ("IVS-04", "IVS-03")

#: Owner aliases as allowed_image_providers spells them (ec2:Owner uses hyphens).
_PROVIDER_ALIASES = {"aws-marketplace": "aws_marketplace", "aws-backup-vault": "aws_backup_vault"}


class Parameters(ApprovedAmiOwners, ImdsDefaults):
    #: VPC block public access for internet gateways.
    vpc_block_public_access: Literal["block-bidirectional", "block-ingress", "off"] = (
        "block-ingress"
    )
    #: Whether the EC2 serial console may be used.
    serial_console: bool = False


def document(params: Parameters, spec: Spec) -> dict[str, Any]:
    imds = params.imds
    providers = [_PROVIDER_ALIASES.get(o, o) for o in params.approved_ami_owners]
    owner = spec.review.owner
    return {
        "ec2_attributes": {
            "exception_message": assign(
                f"Blocked by the IVS baseline (CSA CCM IVS-04). Ask the {owner} for an exception."
            ),
            "image_block_public_access": {"state": assign("block_new_sharing")},
            "snapshot_block_public_access": {"state": assign("block_all_sharing")},
            "instance_metadata_defaults": {
                "http_tokens": assign(imds.http_tokens),
                "http_put_response_hop_limit": assign(str(imds.http_put_response_hop_limit)),
                "http_endpoint": assign("enabled"),
                "instance_metadata_tags": assign(imds.instance_metadata_tags),
            },
            "serial_console_access": {
                "status": assign("enabled" if params.serial_console else "disabled")
            },
            "vpc_block_public_access": {
                "internet_gateway_block": {
                    "mode": assign(params.vpc_block_public_access.replace("-", "_")),
                    "exclusions_allowed": assign("enabled"),
                }
            },
            "allowed_images_settings": {
                "state": assign("enabled"),
                "image_criteria": {"criteria_1": {"allowed_image_providers": assign(providers)}},
            },
        }
    }


def words(params: Parameters, spec: Spec) -> str:
    console = "allowed" if params.serial_console else "off"
    return (
        f"VPC block public access {params.vpc_block_public_access}, serial console "
        f"{console}, IMDS tokens {params.imds.http_tokens}"
    )


CONTROL = Control(
    ID,
    "declarative-ec2",
    "EC2 declarative baseline",
    CCM,
    "Image and snapshot block public access, IMDS defaults, serial console off, VPC block "
    "public access and allowed images are enforced by the EC2 service itself.",
    "A declarative policy holds even for actions an SCP cannot see.",
    parameters=Parameters,
    document=document,
    words=words,
)
