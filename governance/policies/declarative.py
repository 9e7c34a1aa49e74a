"""EC2 declarative policy: the EC2 service itself enforces the baseline attributes.

AWS declarative policy syntax: ``ec2_attributes`` with ``image_block_public_access``,
``snapshot_block_public_access``, ``instance_metadata_defaults``,
``serial_console_access``, ``vpc_block_public_access`` and ``allowed_images_settings``;
every value set with ``@@assign``. Account administrators cannot change an attribute a
declarative policy sets, which is what makes it hold for actions an SCP cannot see.
"""

from __future__ import annotations

from typing import Any

from core.spec import Parameters

#: Owner aliases as allowed_image_providers spells them (ec2:Owner uses hyphens).
_PROVIDER_ALIASES = {"aws-marketplace": "aws_marketplace", "aws-backup-vault": "aws_backup_vault"}


def _assign(value: Any) -> dict[str, Any]:
    return {"@@assign": value}


def declarative_policy(params: Parameters, owner: str) -> dict[str, Any]:
    imds = params.imds
    providers = [_PROVIDER_ALIASES.get(o, o) for o in params.approved_ami_owners]
    return {
        "ec2_attributes": {
            "exception_message": _assign(
                f"Blocked by the IVS baseline (CSA CCM IVS-04). Ask the {owner} for an exception."
            ),
            "image_block_public_access": {"state": _assign("block_new_sharing")},
            "snapshot_block_public_access": {"state": _assign("block_all_sharing")},
            "instance_metadata_defaults": {
                "http_tokens": _assign(imds.http_tokens),
                "http_put_response_hop_limit": _assign(str(imds.http_put_response_hop_limit)),
                "http_endpoint": _assign("enabled"),
                "instance_metadata_tags": _assign(imds.instance_metadata_tags),
            },
            "serial_console_access": {
                "status": _assign("enabled" if params.serial_console else "disabled")
            },
            "vpc_block_public_access": {
                "internet_gateway_block": {
                    "mode": _assign(params.vpc_block_public_access.replace("-", "_")),
                    "exclusions_allowed": _assign("enabled"),
                }
            },
            "allowed_images_settings": {
                "state": _assign("enabled"),
                "image_criteria": {"criteria_1": {"allowed_image_providers": _assign(providers)}},
            },
        }
    }
