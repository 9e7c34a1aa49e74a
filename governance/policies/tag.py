"""Tag policy: the classification keys with their allowed values, enforced on EC2.

AWS tag policy syntax: under ``tags``, one entry per key whose policy key is the tag key
in lower case; ``tag_key`` gives the capitalization resources must use (children may not
change it: ``@@operators_allowed_for_child_policies: ["@@none"]``), ``tag_value`` the
allowed values (left out when any value is allowed), and ``enforced_for`` the resource
types on which a noncompliant tagging operation is refused.
"""

from __future__ import annotations

from typing import Any

from core.spec import Parameters

#: EC2 resource types the tag policy is enforced on.
ENFORCED_FOR: tuple[str, ...] = ("ec2:instance", "ec2:volume", "ec2:snapshot", "ec2:image")


def tag_policy(params: Parameters) -> dict[str, Any] | None:
    """The tag policy for these parameters, or None when no tag is required."""
    if not params.required_tags:
        return None
    tags: dict[str, Any] = {}
    for key, values in params.required_tags.items():
        entry: dict[str, Any] = {
            "tag_key": {"@@assign": key, "@@operators_allowed_for_child_policies": ["@@none"]}
        }
        if values:
            entry["tag_value"] = {"@@assign": list(values)}
        entry["enforced_for"] = {"@@assign": list(ENFORCED_FOR)}
        tags[key.lower()] = entry
    return {"tags": tags}
