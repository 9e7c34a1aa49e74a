"""A question for the evaluator, built from what the snapshot holds.

``ask(principal, action, resource, accounts, organization)`` gives the
:class:`~graph.iam.evaluate.Request` (who, what, on what, and every condition key known
offline) and the :class:`~graph.iam.evaluate.Applicable` policies (the principal's
identity policies and boundary, the resource's policy when it is a role being assumed,
the SCPs of the principal's path and the RCPs of the resource's) for one API call.

Keys known offline (IAM User Guide, "AWS global condition context keys"):
``aws:PrincipalArn``, ``aws:PrincipalAccount``, ``aws:PrincipalType``,
``aws:PrincipalIsAWSService``, ``aws:PrincipalTag/*`` (the principal's tags),
``aws:PrincipalOrgID`` and ``aws:PrincipalOrgPaths`` (absent outside the organization),
``aws:ResourceAccount``, ``aws:ResourceOrgID``, and ``aws:RequestedRegion`` from a regional
resource's ARN; ``context`` (``--context KEY=VALUE``) adds or overrides any key. Session
tags are not modelled.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from graph.iam.conditions import Context
from graph.iam.evaluate import RCP_SERVICES, Applicable, Policy, Request
from graph.iam.matching import Caller
from graph.iam.model import AccountIam, Principal
from graph.iam.organization import RCP, SCP, OrganizationView

_ASSUME = ("sts:assumerole", "sts:assumerolewithsaml", "sts:assumerolewithwebidentity")
_PRINCIPAL_KEYS = frozenset(
    {
        "aws:principalarn",
        "aws:principalaccount",
        "aws:principaltype",
        "aws:principalisawsservice",
        "aws:principalorgid",
        "aws:principalorgpaths",
        "aws:resourceaccount",
        "aws:resourceorgid",
    }
)


@dataclass(frozen=True)
class Arn:
    partition: str
    service: str
    region: str
    account: str
    resource: str


def parse_arn(text: str | None) -> Arn | None:
    if not text or not text.startswith("arn:"):
        return None
    parts = text.split(":", 5)
    if len(parts) != 6:
        return None
    return Arn(parts[1], parts[2], parts[3], parts[4], parts[5])


@dataclass(frozen=True)
class PrincipalSide:
    """What every request of one principal shares: its condition keys, identity policies,
    boundary and SCP levels (worked out once per principal by :func:`principal_side`)."""

    caller: Caller
    values: Mapping[str, tuple[str, ...]]
    identity: tuple[Policy, ...]
    boundary: Policy | None
    scp_levels: Sequence[tuple[str, Sequence[Policy]]]


def principal_side(principal: Principal, organization: OrganizationView | None) -> PrincipalSide:
    values: dict[str, tuple[str, ...]] = {
        "aws:principalarn": (principal.arn,),
        "aws:principalaccount": (principal.account,),
        "aws:principaltype": ("User" if principal.kind == "user" else "AssumedRole",),
        "aws:principalisawsservice": ("false",),
    }
    for key, value in principal.tags.items():
        values[f"aws:principaltag/{key.lower()}"] = (value,)
    org_member = organization is not None and principal.account in organization.accounts
    if organization is not None and org_member and organization.id:
        values["aws:principalorgid"] = (organization.id,)
        paths = organization.org_paths(principal.account)
        if paths:
            values["aws:principalorgpaths"] = (paths,)
    identity = tuple(
        Policy(d.name, "identity", principal.arn, d.document) for d in principal.identity
    )
    boundary = (
        Policy(principal.boundary.name, "boundary", principal.arn, principal.boundary.document)
        if principal.boundary
        else None
    )
    scp_levels: Sequence[tuple[str, Sequence[Policy]]] = ()
    if (
        organization is not None
        and organization.is_member(principal.account)
        and not principal.service_linked
    ):
        scp_levels = organization.levels(principal.account, SCP)
    caller = Caller(principal.arn, principal.account, principal.kind)
    return PrincipalSide(caller, values, identity, boundary, scp_levels)


def ask(
    principal: Principal,
    action: str,
    resource: str | None,
    accounts: Mapping[str, AccountIam],
    organization: OrganizationView | None,
    context: Mapping[str, str] | None = None,
    side: PrincipalSide | None = None,
) -> tuple[Request, Applicable]:
    """The request and the policies that bear on ``principal`` calling ``action``
    (``side``: the principal's :func:`principal_side`, when already worked out)."""
    side = side or principal_side(principal, organization)
    arn = parse_arn(resource)
    given = {k.lower(): v for k, v in (context or {}).items()}
    resource_account = given.get("aws:resourceaccount") or (
        arn.account if arn and arn.account else None
    )
    values = dict(side.values)
    if resource_account:
        values["aws:resourceaccount"] = (resource_account,)
        if (
            organization is not None
            and organization.id
            and resource_account in organization.accounts
        ):
            values["aws:resourceorgid"] = (organization.id,)
    if arn is not None and arn.region:
        values["aws:requestedregion"] = (arn.region,)
    for key, value in given.items():
        values[key] = (value,)
    known = set(_PRINCIPAL_KEYS) | set(values)
    if not resource_account:
        known -= {"aws:resourceaccount", "aws:resourceorgid"}
    request = Request(
        side.caller,
        action,
        resource,
        resource_account,
        Context(values, known=frozenset(known), known_prefixes=("aws:principaltag/",)),
    )
    resources: list[Policy] = []
    trust_required = False
    if action.lower() in _ASSUME and resource:
        trust_required = True
        owner = accounts.get(resource_account or "")
        target = owner.by_arn().get(resource) if owner else None
        if target is not None and target.trust is not None:
            resources.append(
                Policy(f"trust policy of {target.name}", "resource", resource, target.trust)
            )
    rcp_levels: list[tuple[str, Sequence[Policy]]] = []
    if organization is not None:
        service = action.split(":", 1)[0].lower()
        if (
            resource_account
            and organization.is_member(resource_account)
            and service in RCP_SERVICES
        ):
            rcp_levels = list(organization.levels(resource_account, RCP))
            if not any(policies for _, policies in rcp_levels):
                rcp_levels = []  # RCPs not enabled: nothing to pass
    return request, Applicable(
        side.identity, side.boundary, resources, side.scp_levels, rcp_levels, trust_required
    )
