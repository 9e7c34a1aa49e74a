"""Who can take over a virtual machine: the IAM rules, decided by walking the VM-control
graph (``graph.iam.edges``) once the organization's SCPs and RCPs are applied.

- ``vm-admin-permission-broad``: a principal outside the VM administrators holds ``ec2:*``,
  ``iam:PassRole`` on every role, or ``iam:CreateInstanceProfile``;
- ``vm-takeover-path``: a principal outside the VM administrators of a protected zone can
  run code on, log in to, or copy the disks of an instance of that zone, directly or
  through roles it can assume or launch instances with;
- ``instance-role-escalation``: an instance's role reaches an administrator-equivalent
  role, or a role of another account;
- ``internet-exposed-instance-escalation``: both, on an instance the internet reaches.

Every finding's path lists each step with the calls, policies and statements behind it.
"""

from __future__ import annotations

import fnmatch
import itertools
from collections import deque
from collections.abc import Callable, Container, Iterable, Iterator, Mapping, Sequence
from typing import Any

from core.spec import Iam, Zones
from graph.iam.control import ControlGraph
from graph.iam.edges import Call, Edge, InstanceRef
from graph.rules.base import NETWORK_KINDS, ExposureRule, Found
from graph.rules.internet import INTERNET_RULE_IDS

#: What the IAM rules read: each account's principals and the organization's policies.
IAM_KINDS = ("AccountAuthorizationDetails", "Accounts", "Policies")

RULES: tuple[ExposureRule, ...] = (
    ExposureRule(
        "vm-admin-permission-broad",
        "A principal outside the VM administrators holds broad VM permissions",
        "high",
        ("IAM-05", "IVS-04"),
        "ec2:*, iam:PassRole on every role and iam:CreateInstanceProfile are the permissions "
        "that give full control of virtual machines: held outside the administrators, one "
        "leaked credential controls the fleet.",
        "Remove the grant, or narrow it to the instances (by tag or ARN) and roles (by path) "
        "the principal needs; keep such permissions to the spec's VM administrators.",
        reads=("iam.vm_administrators",),
        needs=IAM_KINDS,
    ),
    ExposureRule(
        "vm-takeover-path",
        "A principal outside the VM administrators can take over a protected instance",
        "high",
        ("IAM-05", "IVS-05"),
        "Running commands on, logging in to, or copying the disks of a production instance "
        "is control of it; a path there from outside its administrators defeats the "
        "separation of production.",
        "Break the path at its weakest step: narrow the trust policy or the identity grant "
        "named in the path, or deny the call with an SCP at the OU of the source account.",
        reads=("iam.vm_administrators", "zones.protected"),
        needs=IAM_KINDS,
    ),
    ExposureRule(
        "instance-role-escalation",
        "An instance's role escalates",
        "high",
        ("IAM-05", "IVS-04"),
        "Whoever runs code on the instance acts as its role; a role that reaches an "
        "administrator-equivalent role, or a role in another account, turns one compromised "
        "instance into the organization.",
        "Give the instance a role with only what its workload needs, and remove the trust or "
        "permission that lets it reach the other role.",
        needs=IAM_KINDS,
    ),
    ExposureRule(
        "internet-exposed-instance-escalation",
        "An instance the internet reaches has a role that escalates",
        "critical",
        ("IAM-05", "IVS-03", "IVS-04"),
        "The internet reaches the instance and its role escalates: the single finding an "
        "attacker hopes for, a foothold that becomes administrator.",
        "First close the internet path (see its exposure finding), then narrow the role.",
        needs=(*IAM_KINDS, *NETWORK_KINDS),
    ),
)
RULES_BY_ID = {rule.id: rule for rule in RULES}

#: Edges that act as another principal (the walk follows them).
BECOME = ("can-assume", "launch-with-role", "instance-role")
#: Edges that take an instance over.
TAKE_OVER = ("run-command", "session", "log-in", "user-data", "copy-disks")


def is_administrator(arn: str, patterns: Iterable[str]) -> bool:
    """``arn`` matches one of the patterns (``aws:PrincipalArn`` style, case-sensitive)."""
    return any(fnmatch.fnmatchcase(arn, pattern) for pattern in patterns)


def call_words(call: Call) -> str:
    """One call of a path step: what was asked, the answer, and the statements behind it:
    the identity or resource policy that allowed, the SCPs and RCPs that let it through
    at each level, and any statement that would deny under conditions not known offline.

    >>> from graph.iam.evaluate import Result, Step
    >>> steps = (
    ...     Step("scp", "root", "FullAWSAccess", "Statement[0]", "allow"),
    ...     Step("scp", "Workloads", "FullAWSAccess", "Statement[0]", "allow"),
    ...     Step("scp", "Workloads", "guard", "RequireImdsV2", "conditional", deny=True),
    ...     Step("identity", "arn:aws:iam::1:role/ci", "ci-deploy", "Deploy", "allow"),
    ... )
    >>> result = Result("conditional", ("ec2:metadatahttptokens",), steps)
    >>> for part in call_words(Call("ec2:RunInstances", None, result)).split("; "):
    ...     print(part)
    ec2:RunInstances conditional (identity ci-deploy Deploy
    SCPs FullAWSAccess at root, Workloads
    unless SCP guard RequireImdsV2 at Workloads denies) depending on ec2:metadatahttptokens
    """
    target = f" on {call.resource}" if call.resource else ""
    result = call.result
    said = [
        f"{s.layer} {s.policy} {s.statement}".strip()
        for s in result.layers
        if s.layer in ("identity", "resource", "boundary")
        and s.effect in ("allow", "conditional")
        and not s.deny
    ]
    for layer in ("scp", "rcp"):
        levels: dict[str, list[str]] = {}
        for s in result.layers:
            if s.layer == layer and s.effect in ("allow", "conditional") and not s.deny:
                levels.setdefault(str(s.policy), []).append(s.at)
        said += [f"{layer.upper()}s {policy} at {', '.join(at)}" for policy, at in levels.items()]
    said += [
        f"unless {s.layer.upper() if s.layer in ('scp', 'rcp') else s.layer} {s.policy} "
        f"{s.statement} at {s.at} denies"
        for s in result.layers
        if s.effect == "conditional" and s.deny
    ]
    words = f"{call.action}{target} {result.decision}"
    if said:
        words += f" ({'; '.join(said)})"
    if result.depends_on:
        words += f" depending on {', '.join(result.depends_on)}"
    return words


def edge_words(edge: Edge) -> str:
    """An edge as a step of a path: each call, and what allowed it."""
    if edge.kind == "instance-role":
        return f"acts as {edge.target}"
    return f"{edge.kind}: " + "; ".join(call_words(call) for call in edge.calls)


def walk(start: str, edges_from: Mapping[str, Sequence[Edge]]) -> dict[str, list[Edge]]:
    """Every principal ``start`` can act as, with the shortest chain of edges to it."""
    chains: dict[str, list[Edge]] = {start: []}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for edge in edges_from.get(node, ()):
            if edge.kind in BECOME and edge.target not in chains:
                chains[edge.target] = [*chains[node], edge]
                queue.append(edge.target)
    return chains


def _index(edges: Iterable[Edge]) -> dict[str, list[Edge]]:
    out: dict[str, list[Edge]] = {}
    for edge in edges:
        out.setdefault(edge.source, []).append(edge)
    return out


def takeover_paths(
    sources: Iterable[str],
    edges: Iterable[Edge],
    instances: Iterable[InstanceRef],
    administrators: Mapping[str, Sequence[str]],
    protected: Iterable[str],
) -> list[dict[str, Any]]:
    """``vm-takeover-path`` findings: (source principal, protected instance) with a path."""
    edges_from = _index(edges)
    protected_zones = set(protected)
    everywhere = "*" in protected_zones
    by_id = {i.id: i for i in instances if everywhere or i.zone in protected_zones}
    found: list[dict[str, Any]] = []
    for source in sources:
        chains = walk(source, edges_from)
        seen: set[str] = set()
        for actor, chain in chains.items():
            for edge in edges_from.get(actor, ()):
                instance = by_id.get(edge.target)
                if edge.kind not in TAKE_OVER or instance is None or instance.id in seen:
                    continue
                if is_administrator(source, administrators.get(instance.zone, ())):
                    continue
                if instance.role == source:
                    continue  # an instance acting on itself takes nothing over
                seen.add(instance.id)
                steps = [*chain, edge]
                decision = (
                    "conditional" if any(e.decision == "conditional" for e in steps) else "allowed"
                )
                found.append(
                    {
                        "rule": "vm-takeover-path",
                        "resource": instance.id,
                        "account": instance.account,
                        "region": instance.region,
                        "source": source,
                        "decision": decision,
                        "path": [
                            *({"hop": e.source, "why": edge_words(e)} for e in steps),
                            {"hop": instance.id, "why": f"instance in zone {instance.zone}"},
                        ],
                    }
                )
    return found


def role_escalations(
    edges: Iterable[Edge],
    instances: Iterable[InstanceRef],
    admin_equivalent: Container[str],
    explain: Callable[[str], str] | None = None,
) -> list[dict[str, Any]]:
    """``instance-role-escalation`` findings: an instance's role reaches an
    administrator-equivalent role (itself included) or a role of another account."""
    edges_from = _index(edges)
    found = []
    for instance in instances:
        if not instance.role:
            continue
        chains = walk(instance.role, edges_from)
        reached = None
        for role, chain in chains.items():
            other_account = role.split(":")[4:5] != [instance.account]
            if role in admin_equivalent or (other_account and role.startswith("arn:")):
                reached = (role, chain)
                break
        if reached is None:
            continue
        role, chain = reached
        why = "administrator-equivalent" if role in admin_equivalent else "in another account"
        if explain is not None and role in admin_equivalent:
            why += f": {explain(role)}"
        decision = "conditional" if any(e.decision == "conditional" for e in chain) else "allowed"
        found.append(
            {
                "rule": "instance-role-escalation",
                "resource": instance.id,
                "account": instance.account,
                "region": instance.region,
                "source": instance.role,
                "decision": decision,
                "path": [
                    {"hop": instance.id, "why": f"acts as {instance.role}"},
                    *({"hop": e.source, "why": edge_words(e)} for e in chain),
                    {"hop": role, "why": why},
                ],
            }
        )
    return found


def exposed_escalations(
    escalations: Iterable[Mapping[str, Any]], internet_findings: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """``internet-exposed-instance-escalation``: an escalation on an instance that an
    internet exposure finding names."""
    exposed: dict[str, Mapping[str, Any]] = {}
    for finding in internet_findings:
        if finding.get("rule") in INTERNET_RULE_IDS:
            exposed.setdefault(str(finding.get("resource")), finding)
    out = []
    for escalation in escalations:
        network = exposed.get(str(escalation["resource"]))
        if network is None:
            continue
        out.append(
            {
                **escalation,
                "rule": "internet-exposed-instance-escalation",
                "source": "internet",
                "path": [*network.get("path", []), *escalation["path"]],
            }
        )
    return out


# ---- broad permissions -------------------------------------------------------------------

#: What "broad VM permissions" are (DESIGN.md): each asked as one call whose action or
#: resource is itself the wildcard, so that only a statement covering every action (every
#: role, every profile) matches it: ``ec2:RunInstances`` does not cover ``ec2:*``, and
#: ``role/app-*`` does not cover ``role/*``.
BROAD: tuple[tuple[str, str], ...] = (
    ("ec2:*", "*"),
    ("iam:PassRole", "arn:{partition}:iam::{account}:role/*"),
    ("iam:CreateInstanceProfile", "arn:{partition}:iam::{account}:instance-profile/*"),
)


def broad_permissions(control: ControlGraph, administrators: Iterable[str]) -> list[dict[str, Any]]:
    """``vm-admin-permission-broad``: each principal outside the VM administrators (of any
    zone) that holds one of :data:`BROAD` after the organization's policies, or can launch
    an instance with an administrator-equivalent role (``iam:PassRole`` of that role: the
    form of role passing that hands over everything, even where SCPs keep "every role"
    out of reach)."""
    patterns = list(administrators)
    asker = control.asker
    regions: list[str | None] = [*control.regions] or [None]
    out = []
    for principal in control.principals:
        if principal.service_linked or is_administrator(principal.arn, patterns):
            continue
        fill = {"partition": principal.arn.split(":")[1], "account": principal.account}
        held = []
        for action, resource in BROAD:
            if asker.grants.may_allow(principal, action):
                asked = [
                    asker(principal, action, resource.format(**fill), region) for region in regions
                ]
                best = _best_call(asked)
                if best is not None:
                    held.append(best)
        steps = [{"hop": principal.arn, "why": call_words(call)} for call in held]
        decisions = {call.result.decision for call in held}
        # passing an administrator-equivalent role to a new instance is the broad
        # permission that matters, whatever the SCPs leave of "every role"
        for edge in control.edges_from(principal.arn):
            if edge.kind != "launch-with-role":
                continue
            admin = control.administrator_equivalent(edge.target)
            if admin is None:
                continue
            decisions.add(edge.decision)
            steps.append({"hop": principal.arn, "why": edge_words(edge)})
            steps.append(
                {"hop": edge.target, "why": f"administrator-equivalent: {call_words(admin)}"}
            )
        if not steps:
            continue
        out.append(
            {
                "rule": "vm-admin-permission-broad",
                "resource": principal.arn,
                "account": principal.account,
                "region": "global",
                "source": principal.arn,
                "decision": "allowed" if "allowed" in decisions else "conditional",
                "path": steps,
            }
        )
    return out


def _best_call(calls: Sequence[Call]) -> Call | None:
    """The first allowed call, else the first conditional one (None: all denied)."""
    for wanted in ("allowed", "conditional"):
        for call in calls:
            if call.result.decision == wanted:
                return call
    return None


class _Administrators:
    """``role in admins``: whether the role is administrator-equivalent (asked lazily)."""

    def __init__(self, control: ControlGraph) -> None:
        self.control = control

    def __contains__(self, arn: object) -> bool:
        return isinstance(arn, str) and self.control.administrator_equivalent(arn) is not None


def decide(
    control: ControlGraph,
    iam: Iam,
    zones: Zones,
    network: Sequence[Mapping[str, Any]],
) -> Iterator[Found]:
    """Every IAM finding of one VM-control graph; ``network`` are the written network
    findings (the internet-exposed instances)."""
    edges = [edge for _, _, edge in control.graph.edges(data="edge")]
    administrators = [p for patterns in iam.vm_administrators.values() for p in patterns]
    sources = [p.arn for p in control.principals if not p.service_linked]

    def explain(arn: str) -> str:
        call = control.administrator_equivalent(arn)
        return call_words(call) if call is not None else ""

    escalations = role_escalations(edges, control.instances, _Administrators(control), explain)
    for item in itertools.chain(
        broad_permissions(control, administrators),
        takeover_paths(sources, edges, control.instances, iam.vm_administrators, zones.protected),
        escalations,
        exposed_escalations(escalations, network),
    ):
        yield Found(
            item["rule"],
            item["resource"],
            item["account"],
            item["region"],
            None,
            item["source"],
            path=item["path"],
            extra={"decision": item["decision"]},
        )
