"""Classification tag policy: the required keys with their allowed values, enforced on EC2.

AWS tag policy syntax: under ``tags``, one entry per key whose policy key is the tag key
in lower case; ``tag_key`` gives the capitalization resources must use (children may not
change it: ``@@operators_allowed_for_child_policies: ["@@none"]``), ``tag_value`` the
allowed values (left out when any value is allowed), and ``enforced_for`` the resource
types on which a noncompliant tagging operation is refused.
"""

from __future__ import annotations

from typing import Any

from core.spec import Spec
from governance.controls.base import Control
from governance.controls.grammar import assign
from governance.controls.parameters import RequiredTags

ID = "tag-policy"
CCM = ("IVS-05", "DSP-04")

#: EC2 resource types the tag policy is enforced on.
ENFORCED_FOR: tuple[str, ...] = ("ec2:instance", "ec2:volume", "ec2:snapshot", "ec2:image")


class Parameters(RequiredTags):
    pass


def document(params: Parameters, spec: Spec) -> dict[str, Any] | None:
    """The tag policy for these parameters, or None when no tag is required."""
    if not params.required_tags:
        return None
    tags: dict[str, Any] = {}
    for key, values in params.required_tags.items():
        entry: dict[str, Any] = {
            "tag_key": {"@@assign": key, "@@operators_allowed_for_child_policies": ["@@none"]}
        }
        if values:
            entry["tag_value"] = assign(list(values))
        entry["enforced_for"] = assign(list(ENFORCED_FOR))
        tags[key.lower()] = entry
    return {"tags": tags}


def child_document(content: dict[str, Any], inherited: dict[str, Any]) -> dict[str, Any]:
    """What a child policy must say to turn the inherited content into ``content``.

    Tag keys whose capitalization the parent already locks (``@@none`` on ``tag_key``) are
    not re-assigned: the child sets only their values and resource types.
    """
    parent_tags = inherited.get("tags", {})
    tags: dict[str, Any] = {}
    for key, entry in content["tags"].items():
        if parent_tags.get(key) == entry:
            continue
        if key in parent_tags and parent_tags[key].get("tag_key") == entry.get("tag_key"):
            entry = {k: v for k, v in entry.items() if k != "tag_key"}
        tags[key] = entry
    return {"tags": tags}


def words(params: Parameters, spec: Spec) -> str:
    return params.tag_words()


CONTROL = Control(
    ID,
    "tag",
    "Classification tag policy",
    CCM,
    "Classification tags use the approved keys and values on instances, volumes, "
    "snapshots and images.",
    "Zones, backups and separation of production depend on correct tags.",
    parameters=Parameters,
    document=document,
    child_document=child_document,
    words=words,
)
