"""Protect VPC flow logs and the log groups that hold them (an SCP)."""

from __future__ import annotations

from core.spec import Spec
from governance.controls.base import Control, NoParameters, Statement
from governance.controls.grammar import deny

ID = "protect-flow-logs"
CCM = ("IVS-09", "LOG-05")

#: Log groups that hold VPC flow logs, by the naming convention of the network baseline.
FLOW_LOG_GROUPS = "arn:aws:logs:*:*:log-group:*flow-log*"


def statements(params: NoParameters, spec: Spec) -> list[Statement]:
    return [
        deny(CCM, "DenyDeleteFlowLogs", ["ec2:DeleteFlowLogs"]),
        deny(
            CCM,
            "DenyDeleteFlowLogGroups",
            ["logs:DeleteLogGroup", "logs:DeleteLogStream", "logs:DeleteRetentionPolicy"],
            resource=FLOW_LOG_GROUPS,
        ),
    ]


CONTROL = Control(
    ID,
    "scp",
    "Protect VPC flow logs",
    CCM,
    "VPC flow logs are not deleted except by the pipeline.",
    "Deleting flow logs blinds network defense and incident response.",
    statements=statements,
)
