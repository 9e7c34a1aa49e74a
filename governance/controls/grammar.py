"""Building blocks of the documents the controls write: SCP statements and management
policy values, in the grammar AWS documents for each.

Every SCP statement's Sid starts with its control's first CCM id (``IVS04...``); the
exemption of the pipeline and break-glass principals is added to every Deny in one
place, by ``governance.policies.scp``, not here.
"""

from __future__ import annotations

import re
from typing import Any

from governance.controls.base import Statement

VERSION = "2012-10-17"

#: Resource ARN patterns the EC2 controls name.
VOLUMES = "arn:aws:ec2:*:*:volume/*"
INSTANCES = "arn:aws:ec2:*:*:instance/*"
IMAGES = "arn:aws:ec2:*::image/*"


def sid(ccm: tuple[str, ...], name: str) -> str:
    """``IVS04DenyUnencryptedVolumes``: the control's first CCM id, then what it does.

    >>> sid(("IVS-04", "CEK-03"), "DenyUnencryptedVolumes")
    'IVS04DenyUnencryptedVolumes'
    """
    return re.sub(r"[^A-Za-z0-9]", "", f"{ccm[0]}{name}")


def deny(ccm: tuple[str, ...], name: str, actions: list[str], **rest: Any) -> Statement:
    """A Deny statement on ``actions`` (``resource`` defaults to ``*``; other keys as given)."""
    statement: Statement = {"Sid": sid(ccm, name), "Effect": "Deny", "Action": actions}
    statement["Resource"] = rest.pop("resource", "*")
    statement.update(rest)
    return statement


def assign(value: Any) -> dict[str, Any]:
    """A management policy value: ``{"@@assign": value}``."""
    return {"@@assign": value}
