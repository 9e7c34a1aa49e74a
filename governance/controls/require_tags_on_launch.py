"""Require the classification tags on instances and volumes when they are created (an SCP)."""

from __future__ import annotations

from typing import Any

from core.spec import Spec
from governance.controls.base import Control, Statement
from governance.controls.grammar import INSTANCES, VOLUMES, deny
from governance.controls.parameters import RequiredTags

ID = "require-tags-on-launch"
CCM = ("IVS-05", "DSP-04")


class Parameters(RequiredTags):
    pass


def statements(params: Parameters, spec: Spec) -> list[Statement]:
    out = []
    for key, values in params.required_tags.items():
        request_tag = f"aws:RequestTag/{key}"
        condition: dict[str, Any]
        # StringNotEquals is true when the tag is absent too, so it covers both cases.
        if values:
            condition = {"StringNotEquals": {request_tag: list(values)}}
        else:
            condition = {"Null": {request_tag: "true"}}
        out.append(
            deny(
                CCM,
                f"RequireTag{key}",
                ["ec2:RunInstances", "ec2:CreateVolume"],
                resource=[INSTANCES, VOLUMES],
                Condition=condition,
            )
        )
    return out


def words(params: Parameters, spec: Spec) -> str:
    return params.tag_words()


CONTROL = Control(
    ID,
    "scp",
    "Require classification tags on launch",
    CCM,
    "Instances and volumes carry the classification tags when they are created.",
    "Untagged workloads cannot be placed in a zone, separated or backed up by policy.",
    parameters=Parameters,
    statements=statements,
    words=words,
)
