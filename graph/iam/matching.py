"""How the Action, Resource and Principal elements of a statement match a request.

- Actions: ``service:Name`` compared case-insensitively, ``*`` and ``?`` wildcards
  (IAM User Guide, "IAM JSON policy elements: Action"); ``NotAction`` matches every
  action its list does not.
- Resources: ARNs compared case-sensitively with ``*`` and ``?``; a ``*`` may run over
  ``/`` and, ending a segment, over ``:`` ("IAM JSON policy elements: Resource",
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html),
  so ``*`` is any run of characters here. Policy variables in a resource are replaced
  from the request's context, and a resource that depends on an unknown one is unknown.
  A request on no particular resource (``None``) matches ``*`` and is unknown for any
  narrower resource.
- Principals (resource-based policies, such as a role's trust policy): ``*``, an
  account (its id or ``arn:...:root``: the account delegates to its identity policies),
  a user, role or assumed-role ARN (no partial wildcards: AWS does not allow them), or a
  service ("IAM JSON policy elements: Principal").

>>> action_matches("ec2:Run*", "EC2:RunInstances"), action_matches("ec2:Run*", "ec2:StopInstances")
(True, False)
>>> instance = "arn:aws:ec2:eu-west-1:111122223333:instance/i-1"
>>> resource_verdict(["arn:aws:ec2:*:*:instance/*"], instance).value
True
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from graph.iam.conditions import FALSE, TRUE, Context, Verdict, any_of, glob, substitute

#: The request is on no resource in particular (``--resource`` not given).
ANY_RESOURCE = "resource"


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def action_matches(pattern: str, action: str) -> bool:
    """Whether an Action entry names ``action`` (case-insensitive, with wildcards)."""
    pattern = pattern.strip()
    if pattern == "*":
        return True
    return glob(pattern, ignore_case=True).fullmatch(action) is not None


def actions_match(entries: Iterable[Any], action: str) -> bool:
    return any(isinstance(e, str) and action_matches(e, action) for e in entries)


def resource_verdict(
    patterns: Iterable[Any], resource: str | None, context: Context | None = None
) -> Verdict:
    """Whether one of the Resource entries names ``resource``."""
    context = context or Context()
    verdicts = []
    for pattern in patterns:
        if not isinstance(pattern, str):
            continue
        if pattern == "*":
            return TRUE
        if resource is None:
            verdicts.append(Verdict(None, frozenset({ANY_RESOURCE})))
            continue
        expanded = substitute(pattern, context)
        if isinstance(expanded, Verdict):
            verdicts.append(expanded)
            continue
        verdicts.append(TRUE if glob(expanded).fullmatch(resource) else FALSE)
    return any_of(verdicts)


PrincipalMatch = Literal["named", "account", "any", "service"]


@dataclass(frozen=True)
class Caller:
    """Who makes a request, as a resource-based policy sees it."""

    arn: str  # the user or role ARN (a role's sessions act as the role)
    account: str
    kind: Literal["user", "role", "root", "service"] = "role"
    session_arn: str | None = None  # arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION
    service: str | None = None  # for a service principal (ec2.amazonaws.com)


def principal_match(principal: Any, caller: Caller) -> PrincipalMatch | None:
    """How a Principal element names ``caller``, or None when it does not.

    ``named``: the caller's own ARN (or session ARN); ``account``: the caller's account
    (its id or root ARN), which delegates to the account's identity policies; ``any``:
    ``*``; ``service``: the caller's service.
    """
    if principal == "*":
        return "any"
    if not isinstance(principal, dict):
        return None
    best: PrincipalMatch | None = None
    for kind, entries in principal.items():
        for entry in as_list(entries):
            if not isinstance(entry, str):
                continue
            if kind == "AWS":
                if entry == "*":
                    best = best or "any"
                elif entry in (caller.arn, caller.session_arn):
                    return "named"
                elif entry == caller.account or entry == _root(caller):
                    best = "account"
            elif kind == "Service" and caller.service and entry == caller.service:
                return "service"
    return best


def _root(caller: Caller) -> str:
    partition = caller.arn.split(":")[1] if caller.arn.count(":") >= 1 else "aws"
    return f"arn:{partition}:iam::{caller.account}:root"
