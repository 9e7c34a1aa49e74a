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
from graph.iam.matching import action_matches, actions_match, as_list, resource_verdict
from graph.iam.model import AccountIam, Principal
from graph.iam.organization import RCP, SCP, OrganizationView
from graph.iam.requests import PrincipalSide, ask, principal_side

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


#: The actions the VM-control graph and the IAM rules ask about: ``Grants`` knows, for
#: each principal, which of them some Allow statement names (one bit each).
CONTROL_ACTIONS: tuple[str, ...] = (
    *sorted({action for ways in INSTANCE_WAYS.values() for way in ways for action, _ in way}),
    "ec2:RunInstances",
    "iam:PassRole",
    "iam:CreateInstanceProfile",
    "iam:AddRoleToInstanceProfile",
    "sts:AssumeRole",
    "ec2:*",
    "iam:*",
    "iam:PutRolePolicy",
    "iam:AttachRolePolicy",
    "iam:PutUserPolicy",
    "iam:AttachUserPolicy",
)
_BITS: dict[str, int] = {action: 1 << n for n, action in enumerate(CONTROL_ACTIONS)}
_ALL_BITS = (1 << len(CONTROL_ACTIONS)) - 1


class Grants:
    """Which calls a principal's identity policies could allow at all, and which answers
    are the same for every instance of an account-region.

    Within an account no EC2 instance, SSM document or IAM role but a role's trust policy
    has a resource-based policy, so a call on them is allowed only if some identity
    statement allows its action on a resource that may be the one asked (IAM User Guide,
    "Policy evaluation logic"): a principal none of whose Allow statements could cover the
    call has no edge that needs it, and is not evaluated for it. Managed policies are
    shared by many principals: each document is looked at once per action.
    """

    def __init__(self) -> None:
        # (document id, action) -> (document, its Allow statements naming the action)
        self._naming: dict[tuple[int, str], tuple[object, list[Mapping[str, object]]]] = {}
        self._uniform: dict[tuple[int, str], tuple[object, bool]] = {}
        # which of CONTROL_ACTIONS each document (by id, kept alive) and principal allow
        self._document_masks: dict[int, tuple[object, int]] = {}
        self._principal_masks: dict[str, int] = {}
        self._patterns: dict[str, int] = {}

    def may_allow(self, principal: Principal, action: str, resource: str | None = None) -> bool:
        bit = _BITS.get(action)
        if bit is not None:
            mask = self._principal_masks.get(principal.arn)
            if mask is None:
                mask = self._principal_masks[principal.arn] = self._mask(principal)
            if not mask & bit:
                return False
            if resource is None:
                return True
        for named in principal.identity:
            for statement in self._allows(named.document, action):
                if resource is None or _may_cover(statement, resource):
                    return True
        return False

    def _mask(self, principal: Principal) -> int:
        mask = 0
        for named in principal.identity:
            document = named.document
            known = self._document_masks.get(id(document))
            if known is None:
                bits = 0
                for statement in _statements(document):
                    if "Action" in statement:
                        bits |= self._pattern_mask(statement["Action"])
                    elif "NotAction" in statement:
                        bits |= _ALL_BITS & ~self._pattern_mask(statement["NotAction"])
                known = self._document_masks[id(document)] = (document, bits)
            mask |= known[1]
        return mask

    def _pattern_mask(self, patterns: object) -> int:
        """The CONTROL_ACTIONS an Action list names (each pattern looked at once)."""
        bits = 0
        for pattern in as_list(patterns):
            if not isinstance(pattern, str):
                continue
            known = self._patterns.get(pattern)
            if known is None:
                known = self._patterns[pattern] = sum(
                    bit for action, bit in _BITS.items() if action_matches(pattern, action)
                )
            bits |= known
        return bits

    def _allows(self, document: Mapping[str, object], action: str) -> list[Mapping[str, object]]:
        key = (id(document), action)
        known = self._naming.get(key)
        if known is None:
            found = [s for s in _statements(document) if _names(s, action)]
            known = self._naming[key] = (document, found)
        return known[1]

    def uniform(self, documents: Iterable[Mapping[str, object]], action: str) -> bool:
        """Every statement of ``documents`` naming ``action`` says the same of every
        instance of one account-region: its Resource (or NotResource) patterns name every
        instance or none (``instance/*``, ``*``, another service's or type's ARNs)."""
        for document in documents:
            key = (id(document), action)
            known = self._uniform.get(key)
            if known is None:
                same = all(
                    _uniform_over_instances(pattern)
                    for statement in _every_statement(document)
                    if _names(statement, action)
                    for pattern in _resource_patterns(statement)
                )
                known = self._uniform[key] = (document, same)
            if not known[1]:
                return False
        return True


def _names(statement: Mapping[str, object], action: str) -> bool:
    """A statement's Action (or NotAction) covers ``action``."""
    if "Action" in statement:
        return actions_match(as_list(statement["Action"]), action)
    if "NotAction" in statement:
        return not actions_match(as_list(statement["NotAction"]), action)
    return False


def _may_cover(statement: Mapping[str, object], resource: str) -> bool:
    """An Allow statement's Resource (or NotResource) may name ``resource`` (conditions
    and policy variables aside)."""
    if "Resource" in statement:
        return resource_verdict(as_list(statement["Resource"]), resource).value is not False
    if "NotResource" in statement:
        inside = resource_verdict(as_list(statement["NotResource"]), resource)
        return inside.unknown or not inside.value
    return False


def _every_statement(document: Mapping[str, object] | None) -> list[Mapping[str, object]]:
    statements = (document or {}).get("Statement")
    items = statements if isinstance(statements, list) else [statements]
    return [s for s in items if isinstance(s, Mapping)]


def _resource_patterns(statement: Mapping[str, object]) -> list[object]:
    return as_list(statement.get("Resource", statement.get("NotResource")))


def _uniform_over_instances(pattern: object) -> bool:
    """Whether an ARN pattern names every EC2 instance of an account-region or none.

    >>> [_uniform_over_instances(p) for p in (
    ...     "*", "arn:aws:ec2:*:*:instance/*", "arn:aws:ssm:*::document/AWS-RunShellScript",
    ...     "arn:aws:ec2:*:*:volume/vol-1", "arn:aws:ec2:*:*:instance/i-0abc",
    ...     "arn:aws:ec2:*:*:instance/${aws:username}", "arn:aws:ec2:*:*:*")]
    [True, True, True, True, False, False, True]
    """
    if not isinstance(pattern, str):
        return True  # ignored by the evaluator too
    if set(pattern) <= {"*"}:
        return True
    literal = pattern.split("*", 1)[0].split("?", 1)[0].split("$", 1)[0]
    spelled = literal.split(":")
    if len(spelled) > 3 and spelled[2] != "ec2":
        return True  # the service is spelled out, and is not EC2: never an instance
    if "$" in pattern:
        return False
    fields = pattern.split(":", 5)
    if len(fields) == 6:
        kind, slash, rest = fields[5].partition("/")
        if slash and not set(kind) & set("*?") and kind != "instance":
            return True  # another resource type: never an instance
        if slash and kind == "instance":
            return set(rest) <= {"*"}
        return set(fields[5]) <= {"*"}
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
        self._classes: dict[tuple[str, str, str, str], Result] = {}
        self._sides: dict[str, PrincipalSide] = {}
        self._uniform: dict[tuple[str, str, str], bool] = {}

    def on_instance(self, principal: Principal, action: str, instance: InstanceRef) -> Call:
        """``action`` on ``instance``: asked once per account-region when no policy that
        names the action can tell its instances apart (then every instance has the
        answer of the first one asked)."""
        key = (principal.arn, action, instance.account, instance.region)
        found = self._classes.get(key)
        if found is not None:
            return Call(action, instance.arn, found)
        same = self._uniform.get(key[:3])
        if same is None:
            documents = self._documents(principal, instance.account)
            same = self._uniform[key[:3]] = self.grants.uniform(documents, action)
        call = self(principal, action, instance.arn, instance.region)
        if same:
            self._classes[key] = call.result
        return call

    def _documents(self, principal: Principal, account: str) -> list[Mapping[str, object]]:
        """Every document that may bear on ``principal``'s calls in ``account``."""
        documents = [d.document for d in principal.identity]
        if principal.boundary is not None:
            documents.append(principal.boundary.document)
        if self.organization is not None:
            for held in (principal.account, account):
                for kind in (SCP, RCP):
                    for _, policies in self.organization.levels(held, kind):
                        documents.extend(p.document for p in policies)
        return documents

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
            side = self._sides.get(principal.arn)
            if side is None:
                side = self._sides[principal.arn] = principal_side(principal, self.organization)
            request, applicable = ask(
                principal, action, resource, self.accounts, self.organization, context, side
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
    may = asker.grants.may_allow
    assumers = [c for c in callers if may(c, "sts:AssumeRole")]  # who may be delegated to
    by_account: dict[str, list[Principal]] = {}
    for caller in assumers:
        by_account.setdefault(caller.account, []).append(caller)
    for role in roles:
        if role.kind != "role" or not role.trust:
            continue
        named, accounts, everyone = _named_by_trust(role)
        tried: dict[str, Principal] = {arn: by_arn[arn] for arn in named if arn in by_arn}
        delegated = assumers if everyone else [c for a in accounts for c in by_account.get(a, ())]
        for caller in delegated:
            if caller.arn not in tried and may(caller, "sts:AssumeRole", role.arn):
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
    """The Allow statements of a document."""
    return [s for s in _every_statement(document) if s.get("Effect") == "Allow"]


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
            if role.arn == principal.arn or not may(principal, "iam:PassRole", role.arn):
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
        held = by_account.get(principal.account)
        if not held:
            continue
        kinds = [
            (kind, ways)
            for kind, ways in INSTANCE_WAYS.items()
            if any(all(may(principal, action) for action, _ in way) for way in ways)
        ]
        for instance in held if kinds else ():
            fill = {"account": instance.account, "region": instance.region}
            for kind, ways in kinds:
                best = _best(_tried(principal, ways, instance, fill, asker))
                if best is not None:
                    yield Edge(principal.arn, instance.id, kind, best[0], best[1], instance.region)


def _tried(
    principal: Principal,
    ways: Sequence[Sequence[tuple[str, str]]],
    instance: InstanceRef,
    fill: Mapping[str, str],
    asker: Asker,
) -> Iterator[list[Call]]:
    """Each way's calls, asked in order; a way stops at its first denied call."""
    for way in ways:
        calls = []
        for action, resource in way:
            if resource == "{instance}":
                call = asker.on_instance(principal, action, instance)
            else:
                call = asker(principal, action, resource.format(**fill), instance.region)
            calls.append(call)
            if call.result.decision == "denied":
                break
        yield calls
        if calls and all(c.result.decision == "allowed" for c in calls) and len(calls) == len(way):
            return


def instance_roles(instances: Iterable[InstanceRef]) -> Iterator[Edge]:
    """``instance-role`` edges: an instance acts as the role of its instance profile."""
    for instance in instances:
        if instance.role:
            yield Edge(instance.id, instance.role, "instance-role", "allowed", (), instance.region)
