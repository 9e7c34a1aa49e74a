"""``ivs simulate`` and ``ivs who-can``: the organization's answer to an API call, layer by
layer, from a collected snapshot, or with the spec's own SCPs and RCPs in place of the
collected ones (``--with-spec``: try a change before ``pulumi up``).

Both exit 0 whatever the decision and 2 on bad input.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.errors import InputError
from core.jsonio import pretty
from core.memory import without_gc
from graph.iam.evaluate import Layer, Policy, Result
from graph.iam.organization import RCP, SCP, OrganizationView
from graph.iam.queries import (
    check_action,
    find_principal,
    parse_context,
    simulate,
    simulation_document,
    who_can,
    who_can_document,
)
from graph.iam.snapshot import IamSnapshot, load_iam

ALLOW_ALL = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


def _load(snapshot: Path) -> IamSnapshot:
    if not snapshot.is_dir():
        raise InputError(str(snapshot), "not a snapshot directory")
    with without_gc(freeze=True):  # a large organization's IAM: millions of objects
        iam = load_iam(snapshot)
    if not iam.accounts:
        raise InputError(str(snapshot), "holds no account's IAM (collect it with `ivs collect`)")
    return iam


def organization_with_spec(view: OrganizationView, spec_path: Path) -> OrganizationView:
    """``view`` with the spec's SCPs and RCPs attached where the spec attaches them (and
    AWS's FullAWSAccess / RCPFullAWSAccess everywhere, as Organizations does)."""
    from governance.policies import build_documents
    from governance.spec import load_spec

    spec = load_spec(spec_path)
    nodes = [n for n in (view.root_id, *view.names, *view.accounts) if n]
    by_label = {view.label(node): node for node in nodes}
    attached: dict[tuple[str, str], list[Policy]] = {}
    documents = [d for d in build_documents(spec) if d.kind in ("scp", "rcp")]
    kinds: tuple[tuple[str, Layer, str], ...] = (
        (SCP, "scp", "FullAWSAccess"),
        (RCP, "rcp", "RCPFullAWSAccess"),
    )
    for policy_type, layer, managed in kinds:
        if layer == "rcp" and not any(d.kind == "rcp" for d in documents):
            continue  # RCPs not in use: none applies
        for node in nodes:
            attached[(node, policy_type)] = [Policy(managed, layer, view.label(node), ALLOW_ALL)]
    for doc in documents:
        policy_type, layer = (SCP, "scp") if doc.kind == "scp" else (RCP, "rcp")
        for target in doc.targets:
            found = by_label.get(target)
            if found is None:
                raise InputError(
                    str(spec_path),
                    f"{doc.name} is attached to {target!r}, which the collected organization lacks",
                )
            attached.setdefault((found, policy_type), []).append(
                Policy(doc.name, layer, target, doc.content)
            )
    frozen = {key: tuple(found) for key, found in attached.items()}
    return OrganizationView(
        view.id,
        view.management_account,
        view.root_id,
        view.parents,
        view.names,
        view.accounts,
        frozen,
    )


def _layers_text(result: Result) -> list[str]:
    lines = []
    for step in result.layers:
        where = f"{step.policy or '(no policy)'}" + (f" {step.statement}" if step.statement else "")
        lines.append(f"  {step.layer:<9} {step.at:<28} {where:<60} {step.effect}")
    return lines


def _write(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def run_simulate(
    snapshot: Path,
    *,
    principal: str,
    action: str,
    resource: str | None,
    context: Sequence[str],
    fmt: str,
    with_spec: Path | None = None,
) -> int:
    iam = _load(snapshot)
    action = check_action(action)
    known = parse_context(context)
    who = find_principal(iam, principal)
    view = None
    if with_spec is not None:
        if iam.organization is None:
            raise InputError(str(snapshot), "holds no organization to put the spec's policies in")
        view = organization_with_spec(iam.organization, with_spec)
    result = simulate(iam, who, action, resource, known, view)
    if fmt == "json":
        _write(pretty(simulation_document(who.arn, action, resource, result)))
        return 0
    lines = [
        f"{who.arn} {action}" + (f" on {resource}" if resource else ""),
        f"decision: {result.decision}",
    ]
    if result.depends_on:
        lines.append(f"depends on: {', '.join(result.depends_on)}")
    lines += _layers_text(result)
    _write("\n".join(lines))
    return 0


def run_who_can(
    snapshot: Path,
    *,
    action: str,
    resource: str | None,
    account: str | None,
    context: Sequence[str],
    fmt: str,
) -> int:
    iam = _load(snapshot)
    action = check_action(action)
    known = parse_context(context)
    if account is not None and account not in iam.accounts:
        raise InputError("--account", f"{account} has no IAM in the snapshot")
    answers = who_can(iam, action, resource, known, account)
    if fmt == "json":
        _write(pretty(who_can_document(action, resource, answers)))
        return 0
    lines: list[Any] = []
    for principal, result in answers:
        depends = f" (depends on {', '.join(result.depends_on)})" if result.depends_on else ""
        lines.append(f"{result.decision:<12} {principal.arn}{depends}")
    allowed = sum(1 for _, r in answers if r.decision == "allowed")
    lines.append(f"{allowed} allowed, {len(answers) - allowed} conditional: {action}")
    _write("\n".join(lines))
    return 0
