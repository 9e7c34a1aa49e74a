"""Policy documents built from the spec: plain data that lint, render, Pulumi and audit read.

>>> from governance.spec import load_spec
>>> docs = build_documents(load_spec("stacks/Pulumi.org.yaml"))
>>> sorted({d.kind for d in docs})
['backup', 'declarative-ec2', 'scp', 'tag']

Names are stable: ``ivs-scp-<target>-<n>`` (``ivs-scp-workloads-prod-1``),
``ivs-tag-<target>``, ``ivs-backup-<target>``, ``ivs-declarative-ec2-<target>``, where
``<target>`` is ``root``, the OU path in lower case with ``/`` as ``-``, or an account id.
The organization's own documents keep the names the spec gives them.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from core.errors import InputError
from core.jsonio import minify
from core.spec import ROOT, Spec
from governance.catalog import CONTROLS_BY_ID, PolicyKind
from governance.policies.backup import backup_policy
from governance.policies.declarative import declarative_policy
from governance.policies.model import PolicyDocument
from governance.policies.packing import PackingError, document, pack
from governance.policies.scp import statements_for
from governance.policies.tag import tag_policy

__all__ = [
    "FULL_AWS_ACCESS",
    "PackingError",
    "PolicyDocument",
    "build_documents",
    "limit_problems",
    "slug",
]

#: The AWS-managed SCP attached to every root, OU and account; it counts against the quota.
FULL_AWS_ACCESS = "FullAWSAccess"
_SLUG = re.compile(r"[^a-z0-9]+")


def slug(target: str) -> str:
    """``Workloads/Prod`` -> ``workloads-prod``; ``root`` and account ids unchanged."""
    return _SLUG.sub("-", target.lower()).strip("-")


def _scp_documents(spec: Spec, target: str, controls: list[str]) -> list[PolicyDocument]:
    pairs = statements_for(spec, target, controls)
    if not pairs:
        return []
    statements = [statement for _, statement in pairs]
    bins, too_big = pack(statements, spec.limits.max_chars("scp"))
    # A statement larger than a whole document goes alone, so lint can point at it.
    groups = [list(b.items) for b in bins] + [[i] for i in too_big]
    groups.sort(key=lambda g: g[0])
    docs = []
    for number, group in enumerate(groups, start=1):
        held = tuple(dict.fromkeys(pairs[i][0] for i in group))
        docs.append(
            PolicyDocument(
                name=f"ivs-scp-{slug(target)}-{number}",
                kind="scp",
                content=document([statements[i] for i in group]),
                targets=(target,),
                description=_describe("SCP", target, held, number, len(groups)),
                controls=held,
            )
        )
    return docs


def _describe(kind: str, target: str, controls: Iterable[str], number: int, total: int) -> str:
    part = f" ({number} of {total})" if total > 1 else ""
    titles = "; ".join(CONTROLS_BY_ID[c].title for c in controls)
    text = f"IVS baseline {kind} for {target}{part}: {titles}"
    return text if len(text) <= 512 else text[:509] + "..."


_MANAGEMENT: tuple[tuple[str, PolicyKind, str, str], ...] = (
    ("tag-policy", "tag", "ivs-tag", "tag policy"),
    ("backup-policy", "backup", "ivs-backup", "backup policy"),
    ("ec2-declarative-policy", "declarative-ec2", "ivs-declarative-ec2", "EC2 declarative policy"),
)


def _management_content(spec: Spec, control: str, target: str) -> dict[str, Any] | None:
    params = spec.parameters_for(target)
    if control == "tag-policy":
        return tag_policy(params)
    if control == "backup-policy":
        return backup_policy(params)
    return declarative_policy(params, spec.review.owner)


def _parent(target: str) -> str | None:
    if target == ROOT:
        return None
    parent, _, _ = target.rpartition("/")
    return parent or ROOT


def _child_content(kind: str, content: dict[str, Any], inherited: dict[str, Any]) -> dict[str, Any]:
    """What a child policy must say to turn the inherited content into ``content``.

    Tag keys whose capitalization the parent already locks (``@@none`` on ``tag_key``) are
    not re-assigned: the child sets only their values and resource types.
    """
    if kind != "tag":
        return content
    parent_tags = inherited.get("tags", {})
    tags: dict[str, Any] = {}
    for key, entry in content["tags"].items():
        if parent_tags.get(key) == entry:
            continue
        if key in parent_tags and parent_tags[key].get("tag_key") == entry.get("tag_key"):
            entry = {k: v for k, v in entry.items() if k != "tag_key"}
        tags[key] = entry
    return {"tags": tags}


def _management_documents(
    spec: Spec, target: str, controls: list[str], in_force: dict[tuple[str, str], Any]
) -> list[PolicyDocument]:
    """Tag, backup and declarative documents for one target.

    Management policies inherit by override: an OU below one that switches a control on
    gets a document of its own only when its parameters give different content (a Prod
    OU that overrides ``vpc_block_public_access``, say); otherwise the parent's applies.
    """
    docs: list[PolicyDocument] = []
    parent = _parent(target)
    for control, kind, prefix, label in _MANAGEMENT:
        inherited = in_force.get((parent, control)) if parent is not None else None
        own = control in controls
        if not own and inherited is None:
            continue
        content = _management_content(spec, control, target)
        if content is None:
            if inherited is not None:
                in_force[(target, control)] = inherited
            continue
        in_force[(target, control)] = content
        if not own and content == inherited:
            continue
        body = content if own or inherited is None else _child_content(kind, content, inherited)
        docs.append(
            PolicyDocument(
                f"{prefix}-{slug(target)}",
                kind,
                body,
                (target,),
                _describe(label, target, [control], 1, 1),
                (control,),
            )
        )
    return docs


def _custom_documents(spec: Spec) -> list[PolicyDocument]:
    return [
        PolicyDocument(
            name=policy.name,
            kind=policy.type,
            content=spec.policy_content(policy),
            targets=tuple(policy.targets),
            description=policy.description,
            custom=True,
        )
        for policy in spec.policies
    ]


def build_documents(spec: Spec, *, check_limits: bool = True) -> list[PolicyDocument]:
    """Every policy document of the spec, built-in (per target) then the spec's own.

    With ``check_limits`` (the default) a target whose documents do not fit the size and
    count limits, even packed, raises :class:`PackingError` naming the target and sizes;
    without it the documents are returned as built, for lint to report.
    """
    docs: list[PolicyDocument] = []
    in_force: dict[tuple[str, str], Any] = {}
    for target, controls in spec.targets():
        docs.extend(_scp_documents(spec, target, controls))
        docs.extend(_management_documents(spec, target, controls, in_force))
    custom = _custom_documents(spec)
    builtin_names = {d.name for d in docs}
    for doc in custom:
        if doc.name in builtin_names:
            raise InputError(
                "ivs.policies", f"policy name {doc.name!r} is used by a built-in document"
            )
    docs.extend(custom)
    if check_limits:
        problems = limit_problems(spec, docs)
        if problems:
            target, message = problems[0]
            raise PackingError(target, message)
    return docs


def _targets_by_kind(docs: Iterable[PolicyDocument]) -> dict[tuple[str, str], list[str]]:
    attached: dict[tuple[str, str], list[str]] = defaultdict(list)
    for doc in docs:
        for target in doc.targets:
            attached[(target, doc.kind)].append(doc.name)
    return attached


def limit_problems(spec: Spec, docs: list[PolicyDocument]) -> list[tuple[str, str]]:
    """(target, message) for every target whose documents break the size or count limits.

    SCP counts include the AWS-managed ``FullAWSAccess`` attached at every target.
    """
    problems: list[tuple[str, str]] = []
    for doc in docs:
        size = len(minify(doc.content))
        limit = spec.limits.max_chars(doc.kind)
        if size > limit:
            what = "one statement alone is" if not doc.custom else "the document is"
            problems.append(
                (
                    doc.targets[0] if doc.targets else ROOT,
                    f"{doc.name}: {what} {size} characters minified, over the {doc.kind} "
                    f"limit of {limit}",
                )
            )
    for (target, kind), names in sorted(_targets_by_kind(docs).items()):
        count = len(names) + (1 if kind == "scp" else 0)
        limit = spec.limits.max_per_target(kind)
        if count > limit:
            managed = f"{FULL_AWS_ACCESS} + " if kind == "scp" else ""
            sizes = ", ".join(
                f"{d.name} {len(minify(d.content))} chars" for d in docs if d.name in names
            )
            problems.append(
                (
                    target,
                    f"{count} {kind} policies would be attached to {target!r} "
                    f"({managed}{len(names)}: {sizes}), over the limit of {limit} per target "
                    f"even with statements packed into documents of up to "
                    f"{spec.limits.max_chars(kind)} characters",
                )
            )
    return problems
