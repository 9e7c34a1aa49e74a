"""Internet gateways only in the network accounts (an SCP)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from core.spec import Spec, account_id
from governance.controls.base import Control, ParameterModel, Statement
from governance.controls.grammar import deny

ID = "restrict-igw-attach"
CCM = ("IVS-03", "IVS-06", "IVS-09")


class Parameters(ParameterModel):
    #: Accounts whose principals may create and attach internet gateways.
    network_account_ids: list[str] = Field([])

    @field_validator("network_account_ids", mode="before")
    @classmethod
    def _ids(cls, values: Any) -> Any:
        return [account_id(v) for v in values] if isinstance(values, list) else values


def statements(params: Parameters, spec: Spec) -> list[Statement]:
    statement = deny(
        CCM,
        "DenyInternetGatewayOutsideNetworkAccounts",
        [
            "ec2:CreateInternetGateway",
            "ec2:AttachInternetGateway",
            "ec2:CreateEgressOnlyInternetGateway",
        ],
    )
    if params.network_account_ids:
        statement["Condition"] = {
            "StringNotEquals": {"aws:PrincipalAccount": list(params.network_account_ids)}
        }
    return [statement]


def words(params: Parameters, spec: Spec) -> str:
    return "network accounts: " + (", ".join(params.network_account_ids) or "none")


CONTROL = Control(
    ID,
    "scp",
    "Internet gateways only in network accounts",
    CCM,
    "Internet gateways are created and attached only in the network accounts.",
    "Every internet path must pass the network team's inspection.",
    parameters=Parameters,
    statements=statements,
    words=words,
)
