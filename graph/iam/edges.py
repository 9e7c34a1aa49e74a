"""Who can take control of a virtual machine: the edges of the VM-control graph.

Each kind of edge is one function from the IAM records to edges, as PMapper builds its
escalation edges, and each edge keeps the decision of every call it rests on (with the
policies and statements behind it):

- ``can-assume``: a principal assumes a role (``sts:AssumeRole``: the trust policy and the
  caller's side both allow, after SCPs);
- ``launch-with-role``: a principal starts an instance that acts as a role:
  ``ec2:RunInstances`` with ``iam:PassRole`` of a role in an instance profile, or
  ``iam:CreateInstanceProfile`` and ``iam:AddRoleToInstanceProfile`` first for a role
  that trusts EC2;
- ``run-command`` (``ssm:SendCommand``) and ``session`` (``ssm:StartSession``) on an
  instance;
- ``log-in``: ``ec2-instance-connect:SendSSHPublicKey`` or ``ec2:GetPasswordData``;
- ``user-data``: ``ec2:ModifyInstanceAttribute`` with ``ec2:StopInstances`` and
  ``ec2:StartInstances`` (new user data runs at the next start);
- ``copy-disks``: ``ec2:CreateImage`` of the instance with ``ec2:ModifyImageAttribute``,
  or ``ec2:CreateSnapshot`` with ``ec2:ModifySnapshotAttribute`` (share the copy out);
- ``instance-role``: an instance acts as the role of its instance profile.

An edge is ``allowed`` when every call of one of its ways is allowed, ``conditional``
when some call of the best way is; a way with a denied call gives no edge.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from graph.iam.evaluate import Result, evaluate
from graph.iam.matching import actions_match, as_list
from graph.iam.model import AccountIam, Principal
from graph.iam.organization import OrganizationView
from graph.iam.requests import ask

EdgeKind = Literal[
    "can-assume",
    "launch-with-role",
    "run-command",
    "session",
    "log-in",
    "user-data",
    "copy-disks",
    "instance-role",
]


@dataclass(frozen=True)
class Call:
    """One API call an edge rests on, and the organization's answer to it."""

    action: str
    resource: str | None
    result: Result


@dataclass(frozen=True)
class Edge:
    source: str  # a principal ARN, or an instance id
    target: str  # a role ARN, or an instance id
    kind: EdgeKind
    decision: Literal["allowed", "conditional"]
    calls: tuple[Call, ...] = ()
    region: str | None = None


@dataclass(frozen=True)
class InstanceRef:
    """An instance as the VM-control graph needs it."""

    id: str
    account: str
    region: str
    zone: str
    role: str | None = None  # the ARN of its instance profile's role

    @property
    def arn(self) -> str:
        return f"arn:aws:ec2:{self.region}:{self.account}:instance/{self.id}"


#: Ways of taking an instance over, per edge kind: each way is the calls it needs, with
#: the resource each is made on (``{instance}``, ``{account}``, ``{region}`` filled in).
INSTANCE_WAYS: dict[EdgeKind, tuple[tuple[tuple[str, str], ...], ...]] = {
    "run-command": ((("ssm:SendCommand", "{instance}"),),),
    "session": ((("ssm:StartSession", "{instance}"),),),
    "log-in": (
        (("ec2-instance-connect:SendSSHPublicKey", "{instance}"),),
        (("ec2:GetPasswordData", "{instance}"),),
    ),
    "user-data": (
        (
            ("ec2:ModifyInstanceAttribute", "{instance}"),
            ("ec2:StopInstances", "{instance}"),
            ("ec2:StartInstances", "{instance}"),
        ),
    ),
    "copy-disks": (
        (
            ("ec2:CreateImage", "{instance}"),
            ("ec2:ModifyImageAttribute", "arn:aws:ec2:{region}::image/*"),
        ),
        (
            ("ec2:CreateSnapshot", "arn:aws:ec2:{region}:{account}:volume/*"),
            ("ec2:ModifySnapshotAttribute", "arn:aws:ec2:{region}::snapshot/*"),
        ),
    ),
}


class Grants:
    """Which actions a principal's identity policies could allow at all.

    Within an account no EC2 instance, SSM document or IAM role but a role's trust policy
    has a resource-based policy, so a call on them is allowed only if some identity
    statement allows its action (IAM User Guide, "Policy evaluation logic"): a principal
    none of whose Allow statements names the action has no edge that needs it, and is not
    evaluated for it. Managed policies are shared by many principals: each document is
    looked at once per action.
    """

    def __init__(self) -> None:
        self._memo: dict[tuple[int, str], bool] = {}
        self._documents: dict[int, object] = {}  # keeps each memoized document alive

    def may_allow(self, principal: Principal, action: str) -> bool:
        return any(self._document_allows(d.document, action) for d in principal.identity)

    def _document_allows(self, document: Mapping[str, object], action: str) -> bool:
        key = (id(document), action)
        known = self._memo.get(key)
        if known is None:
            self._documents[id(document)] = document
            known = self._memo[key] = any(
                _names(statement, action) for statement in _statements(document)
            )
        return known


def _names(statement: Mapping[str, object], action: str) -> bool:
    """An Allow statement's Action (or NotAction) covers ``action``."""
    if "Action" in statement:
        return actions_match(as_list(statement["Action"]), action)
    if "NotAction" in statement:
        return not actions_match(as_list(statement["NotAction"]), action)
    return False


class Asker:
    """Evaluates calls against one snapshot's IAM and organization, remembering answers."""

    def __init__(
        self, accounts: Mapping[str, AccountIam], organization: OrganizationView | None
    ) -> None:
        self.accounts = accounts
        self.organization = organization
        self.grants = Grants()
        self._memo: dict[tuple[str, str, str | None, str | None], Result] = {}

    def principal(self, arn: str) -> Principal | None:
        """The user or role of the snapshot with this ARN."""
        parts = arn.split(":")
        held = self.accounts.get(parts[4]) if len(parts) > 5 else None
        return held.by_arn().get(arn) if held is not None else None

    def __call__(
        self, principal: Principal, action: str, resource: str | None, region: str | None = None
    ) -> Call:
        key = (principal.arn, action, resource, region)
        found = self._memo.get(key)
        if found is None:
            context = {"aws:RequestedRegion": region} if region else None
            request, applicable = ask(
                principal, action, resource, self.accounts, self.organization, context
            )
            found = self._memo[key] = evaluate(request, applicable)
        return Call(action, resource, found)


def _best(
    ways: Iterable[Sequence[Call]],
) -> tuple[Literal["allowed", "conditional"], tuple[Call, ...]] | None:
    """The first way whose calls are all allowed, else one that is at worst conditional."""
    conditional: tuple[Call, ...] | None = None
    for calls in ways:
        decisions = {c.result.decision for c in calls}
        if "denied" in decisions:
            continue
        if decisions == {"allowed"}:
            return "allowed", tuple(calls)
        conditional = conditional or tuple(calls)
    return ("conditional", conditional) if conditional else None


def can_assume(
    principals: Iterable[Principal], roles: Iterable[Principal], asker: Asker
) -> Iterator[Edge]:
    """``can-assume`` edges: each role's trust policy, tried by each principal it names
    (directly, by its account, or ``*``).

    A trust policy that names the caller's ARN allows on its own within the account; one
    that names an account (or ``*``) delegates to that account's identity policies, so a
    caller none of whose statements allows ``sts:AssumeRole`` is not tried ("Cross-account
    policy evaluation logic", IAM User Guide)."""
    callers = list(principals)
    by_arn = {p.arn: p for p in callers}
    by_account: dict[str, list[Principal]] = {}
    for caller in callers:
        by_account.setdefault(caller.account, []).append(caller)
    for role in roles:
        if role.kind != "role" or not role.trust:
            continue
        named, accounts, everyone = _named_by_trust(role)
        tried: dict[str, Principal] = {arn: by_arn[arn] for arn in named if arn in by_arn}
        delegated = callers if everyone else [c for a in accounts for c in by_account.get(a, ())]
        for caller in delegated:
            if caller.arn not in tried and asker.grants.may_allow(caller, "sts:AssumeRole"):
                tried[caller.arn] = caller
        for principal in tried.values():
            if principal.arn == role.arn:
                continue
            call = asker(principal, "sts:AssumeRole", role.arn)
            best = _best([[call]])
            if best is not None:
                yield Edge(principal.arn, role.arn, "can-assume", best[0], best[1])


def _named_by_trust(role: Principal) -> tuple[set[str], set[str], bool]:
    """(principal ARNs, account ids, whether ``*``) that a role's trust policy names."""
    named: set[str] = set()
    accounts: set[str] = set()
    everyone = False
    for statement in _statements(role.trust):
        principal = statement.get("Principal")
        if principal == "*":
            everyone = True
            continue
        if not isinstance(principal, Mapping):
            continue
        entries = principal.get("AWS", [])
        for entry in entries if isinstance(entries, list) else [entries]:
            if entry == "*":
                everyone = True
            elif isinstance(entry, str) and entry.endswith(":root"):
                accounts.add(entry.split(":")[4])
            elif isinstance(entry, str) and entry.isdigit():
                accounts.add(entry)
            elif isinstance(entry, str):
                named.add(entry)
    return named, accounts, everyone


def _statements(document: Mapping[str, object] | None) -> list[Mapping[str, object]]:
    statements = (document or {}).get("Statement")
    items = statements if isinstance(statements, list) else [statements]
    return [s for s in items if isinstance(s, Mapping) and s.get("Effect") == "Allow"]


def _trusts_ec2(role: Principal) -> bool:
    for statement in _statements(role.trust):
        principal = statement.get("Principal")
        if isinstance(principal, Mapping):
            services = principal.get("Service", [])
            services = services if isinstance(services, list) else [services]
            if "ec2.amazonaws.com" in services:
                return True
    return False


def launch_with_role(
    principals: Iterable[Principal],
    roles: Iterable[Principal],
    regions: Sequence[str],
    asker: Asker,
) -> Iterator[Edge]:
    """``launch-with-role`` edges: a principal starts an instance acting as a role of its
    own account, in some region."""
    launchable = [r for r in roles if r.kind == "role" and (r.instance_profiles or _trusts_ec2(r))]
    by_account: dict[str, list[Principal]] = {}
    for role in launchable:
        by_account.setdefault(role.account, []).append(role)
    may = asker.grants.may_allow
    for principal in principals:
        if not (may(principal, "ec2:RunInstances") and may(principal, "iam:PassRole")):
            continue
        for role in by_account.get(principal.account, ()):
            if role.account != principal.account or role.arn == principal.arn:
                continue
            for region in regions:
                instance = f"arn:aws:ec2:{region}:{principal.account}:instance/*"
                run = asker(principal, "ec2:RunInstances", instance, region)
                if run.result.decision == "denied":
                    continue
                passed = asker(principal, "iam:PassRole", role.arn, region)
                ways: list[list[Call]] = []
                if role.instance_profiles:
                    ways.append([run, passed])
                if _trusts_ec2(role):
                    profile = f"arn:aws:iam::{principal.account}:instance-profile/*"
                    create = asker(principal, "iam:CreateInstanceProfile", profile, region)
                    add = asker(principal, "iam:AddRoleToInstanceProfile", profile, region)
                    ways.append([run, passed, create, add])
                best = _best(ways)
                if best is not None:
                    yield Edge(
                        principal.arn, role.arn, "launch-with-role", best[0], best[1], region
                    )
                    break


def instance_control(
    principals: Iterable[Principal], instances: Iterable[InstanceRef], asker: Asker
) -> Iterator[Edge]:
    """``run-command``, ``session``, ``log-in``, ``user-data`` and ``copy-disks`` edges from
    each principal to the instances of its account."""
    by_account: dict[str, list[InstanceRef]] = {}
    for instance in instances:
        by_account.setdefault(instance.account, []).append(instance)
    may = asker.grants.may_allow
    for principal in principals:
        kinds = [
            (kind, ways)
            for kind, ways in INSTANCE_WAYS.items()
            if any(all(may(principal, action) for action, _ in way) for way in ways)
        ]
        if not kinds:
            continue
        for instance in by_account.get(principal.account, []):
            fill = {
                "instance": instance.arn,
                "account": instance.account,
                "region": instance.region,
            }
            for kind, ways in kinds:
                tried = [
                    [
                        asker(principal, action, resource.format(**fill), instance.region)
                        for action, resource in way
                    ]
                    for way in ways
                ]
                best = _best(tried)
                if best is not None:
                    yield Edge(principal.arn, instance.id, kind, best[0], best[1], instance.region)


def instance_roles(instances: Iterable[InstanceRef]) -> Iterator[Edge]:
    """``instance-role`` edges: an instance acts as the role of its instance profile."""
    for instance in instances:
        if instance.role:
            yield Edge(instance.id, instance.role, "instance-role", "allowed", (), instance.region)
