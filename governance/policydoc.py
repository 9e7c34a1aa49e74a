"""``ivs policy-doc``: the written Infrastructure and Virtualization Security policy (IVS-01).

CCM IVS-01 asks that the IVS policy be documented, approved, communicated, applied,
evaluated and reviewed at least yearly. This renders it from the spec, so the document
says exactly what ``pulumi up`` enforces: scope (organization, OUs, accounts, governed
regions), each control switched on in words (the catalogue's statement and rationale)
with its CCM ids and the technical enforcement behind it (the policy documents that
``governance.policies.build_documents`` builds, where they are attached, and the
per-account baseline stacks), the controls the stacks apply without a policy document
(the per-account baseline, and the delegated administration of the security services
when the spec names an administrator), exceptions, owners, approval, and the review
dates. The text is deterministic for a given spec and date, so it diffs cleanly in
review.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from core.jsonio import atomic_write_text
from core.spec import ROOT, Spec
from core.vocabulary import CCM_TITLES, POLICY_KIND_WORDS, ccm_title
from governance.controls import (
    ACCOUNT_CONTROLS,
    CONTROLS,
    ORGANIZATION_CONTROLS,
    Control,
    parameters_for,
)
from governance.policies.model import PolicyDocument


def _target_words(target: str) -> str:
    if target == ROOT:
        return "the root (every account)"
    if target.isdigit():
        return f"account {target}"
    return f"OU `{target}`"


def _ccm(ids: Iterable[str]) -> str:
    return ", ".join(ccm_title(i) for i in ids)


def _enabled_controls(spec: Spec) -> list[tuple[Control, list[str]]]:
    where: dict[str, list[str]] = defaultdict(list)
    for target, controls in spec.targets():
        for control in controls:
            where[control].append(target)
    return [(c, where[c.id]) for c in CONTROLS if c.id in where]


def render_policy_doc(
    spec: Spec, documents: list[PolicyDocument] | None = None, *, today: dt.date | None = None
) -> str:
    """The policy as Markdown."""
    if documents is None:
        from governance.policies import build_documents

        documents = build_documents(spec, check_limits=False)
    today = today or dt.date.today()
    review = spec.review
    org = spec.organization
    members = list(spec.accounts())
    units = list(spec.units())
    enabled = _enabled_controls(spec)
    # controls of the org stack that this spec uses, with their words
    fleet = [
        (control, words)
        for control in ORGANIZATION_CONTROLS
        if (words := control.words(parameters_for(spec, ROOT), spec)) is not None
    ]
    docs_for: dict[str, list[PolicyDocument]] = defaultdict(list)
    for doc in documents:
        for control_id in doc.controls:
            docs_for[control_id].append(doc)

    due = (
        review.last_reviewed + dt.timedelta(days=review.review_interval_days)
        if review.last_reviewed
        else None
    )
    last = review.last_reviewed.isoformat() if review.last_reviewed else "never"
    lines: list[str] = ["# Infrastructure and Virtualization Security Policy", ""]
    lines += [
        "| | |",
        "|---|---|",
        f"| Organization | AWS Organization of management account {org.management_account_id} |",
        f"| Policy owner | {review.owner} |",
        f"| Approved by | {review.approver}"
        + (
            f", on {review.approved_on.isoformat()}"
            if review.approved_on
            else " (approval date not recorded)"
        )
        + " |",
        f"| Last reviewed | {last} |",
        f"| Next review due | {due.isoformat() if due else 'now: no review recorded'}"
        f" (at least every {review.review_interval_days} days) |",
        "| Framework | CSA Cloud Controls Matrix v4, domain IVS |",
        "",
        "This document is generated from the governance spec by `ivs policy-doc`; the same spec "
        "is deployed by `pulumi up` and checked by `ivs audit`, so the words below and the "
        "enforcement cannot drift apart unnoticed.",
        "",
    ]
    if due is None or today > due:
        lines += [
            f"> **Review overdue.** The policy must be reviewed at least every "
            f"{review.review_interval_days} days"
            + (f"; it was due on {due.isoformat()}." if due else "; no review is recorded."),
            "",
        ]

    # 1. Purpose
    lines += [
        "## 1. Purpose",
        "",
        "This policy sets the security baseline for the infrastructure and virtual machines "
        "of the organization's AWS accounts: how accounts are separated and governed, how "
        "virtual machines are hardened, how disks, images and snapshots are protected, and "
        "how the network is segmented and defended. It implements CCM IVS-01: it is "
        "documented here, approved by the approver named above, applied by code, evaluated "
        "by a drift audit, and reviewed at least yearly.",
        "",
    ]

    # 2. Scope
    lines += ["## 2. Scope", ""]
    lines += [
        f"- **Organization:** management account {org.management_account_id}, "
        f"{len(members)} member accounts in {len(units)} organizational units.",
        f"- **Governed regions:** {', '.join(spec.regions)}. Regional services outside these "
        "regions are denied where a control of section 3 restricts regions.",
        f"- **Member access:** the baseline and the audit reach member accounts through the "
        f"`{spec.member_role_name}` role.",
        "",
        "Organizational units and accounts:",
        "",
    ]
    if org.root.accounts:
        lines.append("- *(root)*")
        for account in org.root.accounts:
            lines.append(f"  - {account.name} ({account.id})")
    for path, unit in units:
        depth = path.count("/")
        lines.append(f"{'  ' * depth}- **{unit.name}**" + (f" (`{path}`)" if depth else ""))
        for account in unit.accounts:
            lines.append(f"{'  ' * (depth + 1)}- {account.name} ({account.id})")
    lines.append("")

    # 3. Controls
    lines += [
        "## 3. Controls",
        "",
        "Each control below is switched on in the spec at the targets named; a control at "
        "an OU holds for every account below it. Deny statements exempt only the principals "
        "listed in section 4.",
        "",
    ]
    number = 0
    for control, targets in enabled:
        number += 1
        lines += [f"### 3.{number} {control.title} (`{control.id}`)", ""]
        lines += [f"**Policy.** {control.statement}", ""]
        lines += [f"**Why.** {control.rationale}", ""]
        lines += [f"**CCM:** {_ccm(control.ccm)}.", ""]
        lines.append("**Applies to:**")
        for target in targets:
            words = control.words(parameters_for(spec, target), spec)
            lines.append(f"- {_target_words(target)}" + (f": {words}" if words else ""))
        lines.append("")
        enforcing = docs_for.get(control.id, [])
        if enforcing:
            lines.append("**Enforced by:**")
            for doc in enforcing:
                attached = ", ".join(_target_words(t) for t in doc.targets)
                kind = POLICY_KIND_WORDS.get(doc.kind, doc.kind)
                lines.append(f"- {kind} `{doc.name}`, attached to {attached}")
        else:
            lines.append("**Enforced by:** no document (nothing to enforce with these parameters).")
        lines.append("")

    for control in ACCOUNT_CONTROLS:
        number += 1
        lines += [f"### 3.{number} {control.title}", ""]
        lines += [f"**Policy.** {control.statement}", ""]
        lines += [f"**Why.** {control.rationale}", ""]
        lines += [f"**CCM:** {_ccm(control.ccm)}.", ""]
        lines += [f"**Enforced by:** {control.enforcement}", ""]
    for control, words in fleet:
        number += 1
        lines += [f"### 3.{number} {control.title} (`{control.id}`)", ""]
        lines += [f"**Policy.** {control.statement}", ""]
        lines += [f"**Why.** {control.rationale}", ""]
        lines += [f"**CCM:** {_ccm(control.ccm)}.", ""]
        lines += [f"**Applies to:** every member account: {words}.", ""]
        lines += [f"**Enforced by:** {control.enforcement}", ""]
    custom = [d for d in documents if d.custom]
    if custom:
        number += 1
        lines += [f"### 3.{number} The organization's own policies", ""]
        for doc in custom:
            attached = ", ".join(_target_words(t) for t in doc.targets)
            description = f": {doc.description}" if doc.description else ""
            kind = POLICY_KIND_WORDS.get(doc.kind, doc.kind)
            lines.append(f"- {kind} `{doc.name}`{description}; attached to {attached}")
        lines.append("")

    # 4. Exceptions
    lines += [
        "## 4. Exceptions",
        "",
        "Only these principals are exempt from the deny statements, so that the baseline "
        "itself can be deployed and an emergency handled:",
        "",
    ]
    lines += [f"- pipeline: `{arn}`" for arn in spec.principals.pipeline]
    lines += [f"- break-glass: `{arn}`" for arn in spec.principals.break_glass]
    lines += [
        "",
        "Any other exception is a change to the spec, reviewed and approved like this document.",
        "",
    ]

    # 5. Roles
    lines += [
        "## 5. Roles and responsibilities",
        "",
        f"- **Policy owner ({review.owner}):** keeps this policy and the spec current, runs "
        "the drift audit, and leads the yearly review.",
        f"- **Approver ({review.approver}):** approves this policy and every exception.",
        "- **Deployment pipeline:** the only principal that changes the baseline (`pulumi up`).",
        "- **Account vendors:** create accounts only with `ivs vend`, which places the account "
        "in its OU, records it in the spec, applies its baseline and audits it.",
        "",
    ]

    # 6. Evaluation and review
    lines += [
        "## 6. Evaluation and review",
        "",
        "- `ivs audit` reads the organization back and compares it with the spec: policy "
        "types enabled, each policy's content, attachments (missing, extra, over the limit), "
        "accounts in their OUs, and the per-account baseline in every governed region, with "
        "the backup vault and role wherever a backup policy applies"
        + (
            " and the security services the delegated administrator enables in every member "
            "account and region"
            if fleet
            else ""
        )
        + ". Each result is pass, drift or not assessed; drift fails the run.",
        f"- This policy is reviewed at least every {review.review_interval_days} days; the "
        "audit reports `review-overdue` when the last review is older.",
        f"- Last review: {last}; next review due: {due.isoformat() if due else 'now'}.",
        "",
    ]

    # 7. CCM mapping
    mapping: dict[str, list[str]] = defaultdict(list)
    mapping["IVS-01"] += ["this document and its yearly review", "`ivs audit`"]
    for control, _ in enabled:
        for ccm in control.ccm:
            mapping[ccm].append(f"`{control.id}`")
    for control in ACCOUNT_CONTROLS:
        for ccm in control.ccm:
            mapping[ccm].append(control.title[0].lower() + control.title[1:])
    for control, _ in fleet:
        for ccm in control.ccm:
            mapping[ccm].append(f"`{control.id}`")
    lines += ["## 7. CCM mapping", "", "| CCM control | Implemented by |", "|---|---|"]
    for ccm in sorted(mapping, key=lambda c: (not c.startswith("IVS"), c)):
        title = f"{ccm} {CCM_TITLES[ccm]}" if ccm in CCM_TITLES else ccm
        lines.append(f"| {title} | {', '.join(mapping[ccm])} |")
    lines.append("")
    return "\n".join(lines)


def write_policy_doc(spec: Spec, out: str | os.PathLike[str], **options: Any) -> None:
    """Write the policy to ``out`` (Markdown), atomically."""
    atomic_write_text(out, render_policy_doc(spec, **options))
