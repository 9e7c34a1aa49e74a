"""Require IMDSv2 on launch, bound the hop limit, and keep the options fixed (an SCP)."""

from __future__ import annotations

from core.spec import Spec
from governance.controls.base import Control, Statement
from governance.controls.grammar import INSTANCES, deny
from governance.controls.parameters import ImdsDefaults

ID = "require-imdsv2"
CCM = ("IVS-04",)


class Parameters(ImdsDefaults):
    pass


def statements(params: Parameters, spec: Spec) -> list[Statement]:
    imds = params.imds
    out = []
    if imds.http_tokens == "required":
        out.append(
            deny(
                CCM,
                "RequireImdsv2",
                ["ec2:RunInstances"],
                resource=INSTANCES,
                Condition={"StringNotEquals": {"ec2:MetadataHttpTokens": "required"}},
            )
        )
    out.append(
        deny(
            CCM,
            "LimitImdsHopLimit",
            ["ec2:RunInstances"],
            resource=INSTANCES,
            Condition={
                "NumericGreaterThan": {
                    "ec2:MetadataHttpPutResponseHopLimit": str(imds.http_put_response_hop_limit)
                }
            },
        )
    )
    out.append(deny(CCM, "DenyModifyImdsOptions", ["ec2:ModifyInstanceMetadataOptions"]))
    return out


def words(params: Parameters, spec: Spec) -> str:
    imds = params.imds
    return f"IMDS tokens {imds.http_tokens}, hop limit {imds.http_put_response_hop_limit}"


CONTROL = Control(
    ID,
    "scp",
    "Require IMDSv2 on launch",
    CCM,
    "Every instance is launched with IMDSv2 (session tokens) required.",
    "IMDSv1 lets a server-side request forgery read instance role credentials.",
    parameters=Parameters,
    statements=statements,
    words=words,
)
