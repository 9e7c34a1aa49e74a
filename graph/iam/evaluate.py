"""One API call through every policy that applies to it: allowed, denied or conditional.

The order and the rules are AWS's (IAM User Guide, "Policy evaluation logic",
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html,
and "Cross-account policy evaluation logic"):

1. an explicit Deny that applies, in any policy of any layer, denies;
2. RCPs, for the resources of member accounts in the services RCPs govern: at the root,
   at every OU on the account's path and at the account, some attached RCP must allow;
3. SCPs, for the principals of member accounts (not the management account, not
   service-linked roles): likewise at every level, some attached SCP must allow;
4. the grant: within one account, an identity policy that allows (limited by a
   permission boundary when the principal has one), or a resource-based policy that
   names the principal; across accounts, both the principal's side (identity, and
   boundary) and the resource's policy must allow. A role's trust policy must allow
   ``sts:AssumeRole`` even within the account; naming the account (``:root``) there
   delegates to the caller's identity policies.

A statement applies when its action, resource (and, in a resource-based policy,
principal) match and its conditions hold; when a condition's key is not known offline
the statement is *conditional*, and so is any decision that rests on it. The result says
which keys it depends on, and lists the layers that decided, each with its policy and
statement.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from graph.iam.conditions import FALSE, TRUE, Context, Verdict, all_of, any_of, condition_verdict
from graph.iam.matching import (
    Caller,
    PrincipalMatch,
    actions_match,
    as_list,
    principal_match,
    resource_verdict,
)

Layer = Literal["scp", "rcp", "boundary", "identity", "resource", "session"]
Decision = Literal["allowed", "denied", "conditional"]
Effect = Literal["allow", "deny", "no-match", "conditional"]

#: Services whose resources RCPs govern (AWS Organizations User Guide, "Resource control
#: policies": the services that support RCPs). Elsewhere an RCP has no effect.
RCP_SERVICES = frozenset(
    {"s3", "sts", "kms", "sqs", "secretsmanager", "cognito-idp", "logs", "dynamodb", "ecr", "aoss"}
)


@dataclass(frozen=True)
class Policy:
    """A policy document where it applies: ``at`` is the target for SCPs and RCPs
    (``root``, an OU path, an account id), the principal for identity policies and
    boundaries, the resource for resource-based policies."""

    name: str
    layer: Layer
    at: str
    document: Mapping[str, Any]


@dataclass(frozen=True)
class Step:
    """One layer's say in a decision, for a person to follow."""

    layer: Layer
    at: str
    policy: str | None
    statement: str | None
    effect: Effect
    #: the statement is a Deny (what a ``conditional`` step would do if it applied)
    deny: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "layer": self.layer,
            "at": self.at,
            "policy": self.policy,
            "statement": self.statement,
            "effect": self.effect,
        }


@dataclass(frozen=True)
class Request:
    caller: Caller
    action: str
    resource: str | None = None  # None: no resource in particular
    resource_account: str | None = None  # None: the caller's own
    context: Context = field(default_factory=Context)


@dataclass(frozen=True)
class Applicable:
    """Every policy that bears on one request, as the organization and accounts hold them.

    ``scp_levels`` and ``rcp_levels`` are ordered root, OUs, account: ``(level, the
    policies attached there)``; empty when that kind does not apply (the management
    account, a service-linked role, a service RCPs do not govern).
    """

    identity: Sequence[Policy] = ()
    boundary: Policy | None = None
    resource: Sequence[Policy] = ()
    scp_levels: Sequence[tuple[str, Sequence[Policy]]] = ()
    rcp_levels: Sequence[tuple[str, Sequence[Policy]]] = ()
    #: the resource is a role and the action assumes it: its trust policy must allow
    trust_required: bool = False


@dataclass(frozen=True)
class Result:
    decision: Decision
    depends_on: tuple[str, ...]
    layers: tuple[Step, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "decision": self.decision,
            "depends_on": list(self.depends_on),
            "layers": [step.as_dict() for step in self.layers],
        }


# ---- statements -------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    """A statement that applies (``verdict`` true) or may apply (unknown)."""

    policy: Policy
    label: str
    deny: bool
    verdict: Verdict
    principal: PrincipalMatch | None = None


def _label(statement: Mapping[str, Any], index: int) -> str:
    sid = statement.get("Sid")
    return str(sid) if isinstance(sid, str) and sid else f"Statement[{index}]"


class Compiled:
    """One statement as the evaluator reads it again and again: its label, its effect, and
    whether its Action (or NotAction) names each action asked so far."""

    __slots__ = ("effect", "label", "memo", "names_key", "patterns", "statement")

    def __init__(self, label: str, statement: Mapping[str, Any]) -> None:
        self.label = label
        self.statement = statement
        self.effect = statement.get("Effect")
        self.names_key = (
            "Action" if "Action" in statement else "NotAction" if "NotAction" in statement else None
        )
        self.patterns = as_list(statement.get(self.names_key)) if self.names_key else []
        self.memo: dict[str, bool] = {}

    def names(self, action: str) -> bool:
        """The statement's Action (or NotAction) covers ``action``."""
        known = self.memo.get(action)
        if known is None:
            if self.names_key is None:
                known = False
            else:
                matched = actions_match(self.patterns, action)
                known = matched if self.names_key == "Action" else not matched
            self.memo[action] = known
        return known


#: Compiled statements by document (kept with the document, so that an id is never
#: reused while its entry lives); emptied when it grows past ``_COMPILED_MAX``.
_COMPILED: dict[int, tuple[Mapping[str, Any], tuple[Compiled, ...]]] = {}
_COMPILED_MAX = 1_000_000


def compiled(document: Mapping[str, Any]) -> tuple[Compiled, ...]:
    """The statements of a policy document; what is not a statement object is skipped."""
    entry = _COMPILED.get(id(document))
    if entry is not None and entry[0] is document:
        return entry[1]
    if len(_COMPILED) >= _COMPILED_MAX:
        _COMPILED.clear()
    found = tuple(
        Compiled(_label(statement, index), statement)
        for index, statement in enumerate(as_list(document.get("Statement")))
        if isinstance(statement, Mapping)
    )
    _COMPILED[id(document)] = (document, found)
    return found


def statements_of(policy: Policy) -> list[tuple[str, Mapping[str, Any]]]:
    """(label, statement) of a policy document; what is not a statement object is skipped."""
    return [(c.label, c.statement) for c in compiled(policy.document)]


def statement_hit(
    policy: Policy, label: str, statement: Mapping[str, Any], request: Request
) -> Hit | None:
    """The statement's say on ``request``, or None when it certainly does not apply."""
    return _hit(policy, Compiled(label, statement), request)


def _hit(policy: Policy, statement: Compiled, request: Request) -> Hit | None:
    if statement.effect not in ("Allow", "Deny") or not statement.names(request.action):
        return None
    body = statement.statement
    verdicts = []
    if "Resource" in body:
        verdicts.append(
            resource_verdict(as_list(body["Resource"]), request.resource, request.context)
        )
    elif "NotResource" in body:
        inside = resource_verdict(as_list(body["NotResource"]), request.resource, request.context)
        verdicts.append(inside if inside.unknown else Verdict(not inside.value))
    elif policy.layer != "resource":  # a resource-based policy may leave Resource out
        return None
    named: PrincipalMatch | None = None
    if policy.layer == "resource":
        if "Principal" in body:
            named = principal_match(body["Principal"], request.caller)
            if named is None:
                return None
        elif "NotPrincipal" in body:
            if principal_match(body["NotPrincipal"], request.caller) is not None:
                return None
            named = "any"
        else:
            return None
    condition = body.get("Condition")
    if condition:
        verdicts.append(condition_verdict(condition, request.context))
    verdict = all_of(verdicts)
    if verdict.value is False:
        return None
    return Hit(policy, statement.label, statement.effect == "Deny", verdict, named)


def hits(policies: Iterable[Policy], request: Request) -> list[Hit]:
    out = []
    for policy in policies:
        for statement in compiled(policy.document):
            hit = _hit(policy, statement, request)
            if hit is not None:
                out.append(hit)
    return out


def _step(hit: Hit) -> Step:
    if hit.verdict.unknown:
        effect: Effect = "conditional"
    else:
        effect = "deny" if hit.deny else "allow"
    return Step(hit.policy.layer, hit.policy.at, hit.policy.name, hit.label, effect, hit.deny)


def _allow(found: Sequence[Hit]) -> tuple[Verdict, list[Hit]]:
    """Whether the allows among ``found`` allow: the best of them, with the ones shown."""
    allows = [h for h in found if not h.deny]
    sure = [h for h in allows if not h.verdict.unknown]
    if sure:
        return TRUE, sure[:1]
    if allows:
        return any_of(h.verdict for h in allows), allows
    return FALSE, []


# ---- the decision -----------------------------------------------------------------------


def evaluate(request: Request, applicable: Applicable) -> Result:
    """The organization's answer to ``request``, layer by layer."""
    steps: list[Step] = []
    pending: list[Verdict] = []  # what an allowed decision still rests on

    # 1. explicit denies, everywhere
    every = [
        *applicable.identity,
        *([applicable.boundary] if applicable.boundary else []),
        *applicable.resource,
        *(p for _, level in applicable.scp_levels for p in level),
        *(p for _, level in applicable.rcp_levels for p in level),
    ]
    found = hits(every, request)
    by_policy: dict[int, list[Hit]] = {}
    for hit in found:
        by_policy.setdefault(id(hit.policy), []).append(hit)

    def hits_of(policies: Iterable[Policy]) -> list[Hit]:
        return [h for p in policies for h in by_policy.get(id(p), ())]

    denies = [h for h in found if h.deny]
    for hit in denies:
        if not hit.verdict.unknown:
            return Result("denied", (), (_step(hit),))
    for hit in denies:  # a Deny that may apply: allowed only if it does not
        steps.append(_step(hit))
        pending.append(Verdict(None, hit.verdict.keys))

    # 2 and 3. every level of the organization must allow
    organization: tuple[tuple[Layer, Sequence[tuple[str, Sequence[Policy]]]], ...] = (
        ("rcp", applicable.rcp_levels),
        ("scp", applicable.scp_levels),
    )
    for layer, levels in organization:
        for level, policies in levels:
            verdict, allowing = _allow(hits_of(policies))
            if verdict.value is False:
                return Result("denied", (), (*steps, Step(layer, level, None, None, "no-match")))
            steps.extend(_step(h) for h in allowing)
            pending.append(verdict)

    # 4. the grant
    identity, identity_shown = _allow(hits_of(applicable.identity))
    shown: list[Hit | Step] = [*identity_shown]
    bounded = TRUE
    if applicable.boundary is not None:
        bounded, bounded_shown = _allow(hits_of([applicable.boundary]))
        shown += bounded_shown or [_boundary_miss(applicable.boundary)]
    identity_side = all_of([identity, bounded])
    resource_hits = [h for h in hits_of(applicable.resource) if not h.deny]
    by_name, named_shown = _allow([h for h in resource_hits if h.principal != "account"])
    by_account, delegated_shown = _allow([h for h in resource_hits if h.principal == "account"])
    shown += [*named_shown, *delegated_shown]
    # A boundary limits a resource-based grant to a role (not to a user or a session).
    if request.caller.kind == "role":
        by_name = all_of([by_name, bounded])
    same_account = request.resource_account in (None, request.caller.account)
    if not same_account:
        grant = all_of([any_of([by_name, by_account]), identity_side])
    elif applicable.trust_required:
        grant = any_of([by_name, all_of([by_account, identity_side])])
    else:
        grant = any_of([identity_side, by_name])
    if grant.value is False:
        missing: list[Hit | Step] = shown or [_nothing_allows(applicable, request)]
        return Result("denied", (), (*steps, *_as_steps(missing)))
    steps.extend(_as_steps(shown))
    pending.append(grant)
    final = all_of(pending)
    if final.value is True:
        return Result("allowed", (), tuple(steps))
    return Result("conditional", tuple(sorted(final.keys)), tuple(steps))


def _as_steps(items: Iterable[Hit | Step]) -> list[Step]:
    return [item if isinstance(item, Step) else _step(item) for item in items]


def _boundary_miss(boundary: Policy) -> Step:
    return Step("boundary", boundary.at, boundary.name, None, "no-match")


def _nothing_allows(applicable: Applicable, request: Request) -> Step:
    layer: Layer = "resource" if applicable.trust_required else "identity"
    return Step(layer, request.caller.arn, None, None, "no-match")
