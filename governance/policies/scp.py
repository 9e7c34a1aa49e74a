"""SCP statements of a target: every SCP control switched on there, in its order.

Each control builds its own statements (``governance.controls``); this module adds, in
one place, the exemption every Deny carries for the spec's pipeline and break-glass
principals (``ArnNotLike aws:PrincipalArn``).
"""

from __future__ import annotations

from typing import Any

from core.spec import Spec
from governance.controls import CONTROLS_BY_ID, Statement, parameters_for

__all__ = ["Statement", "exempt_principals", "statements_for"]


def exempt_principals(statement: Statement, principals: list[str]) -> Statement:
    """The statement with ``ArnNotLike aws:PrincipalArn`` for the exempt principals added.

    >>> deny = {"Effect": "Deny", "Action": "ec2:DeleteFlowLogs", "Resource": "*"}
    >>> exempt_principals(deny, ["arn:aws:iam::*:role/p"])["Condition"]
    {'ArnNotLike': {'aws:PrincipalArn': ['arn:aws:iam::*:role/p']}}
    """
    if statement.get("Effect") != "Deny" or not principals:
        return statement
    out = dict(statement)
    condition = {op: dict(keys) for op, keys in statement.get("Condition", {}).items()}
    arn_not_like = condition.setdefault("ArnNotLike", {})
    existing = arn_not_like.get("aws:PrincipalArn", [])
    existing = [existing] if isinstance(existing, str) else list(existing)
    arn_not_like["aws:PrincipalArn"] = list(dict.fromkeys([*existing, *principals]))
    out["Condition"] = condition
    return out


def statements_for(
    spec: Spec, target: str, controls: list[str], params: Any = None
) -> list[tuple[str, Statement]]:
    """(control id, statement) for every SCP control switched on at ``target``, in order.

    ``params`` are the parameters at ``target`` when the caller has them already.
    """
    params = parameters_for(spec, target) if params is None else params
    out: list[tuple[str, Statement]] = []
    for control_id in controls:
        control = CONTROLS_BY_ID[control_id]
        if control.kind != "scp" or control.statements is None:
            continue
        for statement in control.statements(params, spec):
            out.append((control_id, exempt_principals(statement, spec.principals.exempt)))
    return out
