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
from core.vocabulary import POLICY_KIND_WORDS, POLICY_TYPES
from governance.controls import CONTROLS, CONTROLS_BY_ID, parameters_for
from governance.policies.model import PolicyDocument
from governance.policies.packing import PackingError, document, pack
from governance.policies.scp import statements_for

__all__ = [
    "FULL_AWS_ACCESS",
    "PackingError",
    "PolicyDocument",
    "build_documents",
    "limit_problems",
    "organization_policy_types",
    "slug",
]

#: The AWS-managed SCP attached to every root, OU and account; it counts against the quota.
FULL_AWS_ACCESS = "FullAWSAccess"

# SCPs stay enabled even if no document needs them: disabling the type on an adopted
# organization would detach every SCP it already has.
_ALWAYS_ENABLED = (POLICY_TYPES["scp"],)


def organization_policy_types(documents: Iterable[PolicyDocument]) -> list[str]:
    """The policy types enabled on the root: SCPs plus every type a document uses."""
    return sorted({*_ALWAYS_ENABLED, *(doc.policy_type for doc in documents)})


_SLUG = re.compile(r"[^a-z0-9]+")


def slug(target: str) -> str:
    """``Workloads/Prod`` -> ``workloads-prod``; ``root`` and account ids unchanged."""
    return _SLUG.sub("-", target.lower()).strip("-")


def _scp_documents(
    spec: Spec, target: str, controls: list[str], params: Any
) -> list[PolicyDocument]:
    pairs = statements_for(spec, target, controls, params)
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
                statement_controls=tuple(pairs[i][0] for i in group),
            )
        )
    return docs


def _describe(kind: str, target: str, controls: Iterable[str], number: int, total: int) -> str:
    part = f" ({number} of {total})" if total > 1 else ""
    titles = "; ".join(CONTROLS_BY_ID[c].title for c in controls)
    text = f"IVS baseline {kind} for {target}{part}: {titles}"
    return text if len(text) <= 512 else text[:509] + "..."


def _parent(target: str) -> str | None:
    if target == ROOT:
        return None
    parent, _, _ = target.rpartition("/")
    return parent or ROOT


def _management_documents(
    spec: Spec,
    target: str,
    controls: list[str],
    params: Any,
    in_force: dict[tuple[str, str], Any],
) -> list[PolicyDocument]:
    """Tag, backup and declarative documents for one target, one per control.

    Management policies inherit by override: an OU below one that switches a control on
    gets a document of its own only when its parameters give different content (a Prod
    OU that overrides ``vpc_block_public_access``, say); otherwise the parent's applies.
    A control that knows how (``child_document``) writes only what the child adds.
    """
    docs: list[PolicyDocument] = []
    parent = _parent(target)
    for control in CONTROLS:
        if control.document is None:
            continue
        inherited = in_force.get((parent, control.id)) if parent is not None else None
        own = control.id in controls
        if not own and inherited is None:
            continue
        content = control.document(params, spec)
        if content is None:
            if inherited is not None:
                in_force[(target, control.id)] = inherited
            continue
        in_force[(target, control.id)] = content
        if not own and content == inherited:
            continue
        body = content
        if not own and inherited is not None and control.child_document is not None:
            body = control.child_document(content, inherited)
        kind = control.kind
        docs.append(
            PolicyDocument(
                f"ivs-{kind}-{slug(target)}",
                kind,  # type: ignore[arg-type]  # a management kind: it has a document
                body,
                (target,),
                _describe(POLICY_KIND_WORDS[kind], target, [control.id], 1, 1),
                (control.id,),
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
        params = parameters_for(spec, target)
        docs.extend(_scp_documents(spec, target, controls, params))
        docs.extend(_management_documents(spec, target, controls, params, in_force))
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
