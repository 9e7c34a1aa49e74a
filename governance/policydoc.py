"""``ivs policy-doc``: the written Infrastructure and Virtualization Security policy (IVS-01).

CCM IVS-01 asks that the IVS policy be documented, approved, communicated, applied,
evaluated and reviewed at least yearly. This renders it from the spec, so the document
says exactly what ``pulumi up`` enforces: scope (organization, OUs, accounts, governed
regions), each control switched on in words (the catalogue's statement and rationale)
with its CCM ids and the technical enforcement behind it (the policy documents that
``governance.policies.build_documents`` builds, where they are attached, and the
per-account baseline stacks), exceptions, owners, approval, and the review dates. The
text is deterministic for a given spec and date, so it diffs cleanly in review.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from core.jsonio import atomic_write_text
from core.spec import ROOT, Parameters, Spec
from governance.catalog import CONTROLS, Control
from governance.policies.model import PolicyDocument

#: CSA CCM v4 control titles, for the ids the catalogue and this document use.
CCM_TITLES: dict[str, str] = {
    "IVS-01": "Infrastructure and Virtualization Security Policy and Procedures",
    "IVS-03": "Network Security",
    "IVS-04": "OS Hardening and Base Controls",
    "IVS-05": "Production and Non-Production Environments",
    "IVS-06": "Segmentation and Segregation",
    "IVS-08": "Network Architecture Documentation",
    "IVS-09": "Network Defense",
    "BCR-08": "Backup",
    "CEK-03": "Data Encryption",
    "DSP-04": "Data Classification",
    "DSP-17": "Sensitive Data Protection",
    "DSP-19": "Data Location",
    "IAM-05": "Least Privilege",
    "LOG-05": "Audit Logs Monitoring and Response",
}

_KIND_WORDS = {
    "scp": "service control policy",
    "rcp": "resource control policy",
    "tag": "tag policy",
    "backup": "backup policy",
    "declarative-ec2": "EC2 declarative policy",
}


def _key_words(params: Parameters, regions: list[str]) -> str:
    from governance.account_settings import ebs_kms_key_in_region

    key = params.ebs_kms_key_arn
    if not key:
        return "the AWS managed key (`alias/aws/ebs`)"
    served = [r for r in regions if ebs_kms_key_in_region(key, r) is not None]
    if served == regions:
        return f"`{key}`"
    others = [r for r in regions if r not in served]
    return (
        f"`{key}` in {', '.join(served) or 'no governed region'}; "
        f"the baseline sets no default key in {', '.join(others)} (a KMS key serves only "
        "its own region)"
    )


def _params_words(control: str, params: Parameters, regions: list[str]) -> str | None:
    """The parameters that give a control its meaning at one target, in words."""
    if control == "restrict-regions":
        return "allowed regions: " + ", ".join(params.allowed_regions or [])
    if control == "approved-ami-owners":
        return "approved AMI owners: " + ", ".join(params.approved_ami_owners)
    if control in ("require-tags-on-launch", "tag-policy"):
        tags = [
            f"`{key}` ({', '.join(values) if values else 'any value'})"
            for key, values in params.required_tags.items()
        ]
        return "required tags: " + (", ".join(tags) if tags else "none")
    if control == "ebs-encryption-default":
        return "default key: " + _key_words(params, regions)
    if control == "require-imdsv2":
        imds = params.imds
        return f"IMDS tokens {imds.http_tokens}, hop limit {imds.http_put_response_hop_limit}"
    if control == "restrict-pass-role":
        return "approved role paths: " + ", ".join(f"`{p}`" for p in params.approved_role_paths)
    if control == "restrict-igw-attach":
        return "network accounts: " + (", ".join(params.network_account_ids) or "none")
    if control == "protect-governance-roles":
        return "governance roles: " + ", ".join(
            params.governance_role_names or ["(the member role)"]
        )
    if control == "backup-policy":
        plans = [
            f"`{p.name}` ({p.schedule}, kept {p.retention_days} days"
            + (f", copied to {p.copy_to_region}" if p.copy_to_region else "")
            + ")"
            for p in params.backup.plans
        ]
        return "backup plans: " + (", ".join(plans) if plans else "none")
    if control == "ec2-declarative-policy":
        console = "allowed" if params.serial_console else "off"
        return (
            f"VPC block public access {params.vpc_block_public_access}, serial console "
            f"{console}, IMDS tokens {params.imds.http_tokens}"
        )
    return None


def _target_words(target: str) -> str:
    if target == ROOT:
        return "the root (every account)"
    if target.isdigit():
        return f"account {target}"
    return f"OU `{target}`"


def _ccm(ids: Iterable[str]) -> str:
    return ", ".join(f"{i} ({CCM_TITLES[i]})" if i in CCM_TITLES else i for i in ids)


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
    from governance.account_settings import IMAGE_BPA_STATE, SNAPSHOT_BPA_STATE

    if documents is None:
        from governance.policies import build_documents

        documents = build_documents(spec, check_limits=False)
    today = today or dt.date.today()
    review = spec.review
    org = spec.organization
    members = list(spec.accounts())
    units = list(spec.units())
    enabled = _enabled_controls(spec)
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
        "regions are denied where `restrict-regions` is switched on.",
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
            words = _params_words(control.id, spec.parameters_for(target), spec.regions)
            lines.append(f"- {_target_words(target)}" + (f": {words}" if words else ""))
        lines.append("")
        enforcing = docs_for.get(control.id, [])
        if enforcing:
            lines.append("**Enforced by:**")
            for doc in enforcing:
                attached = ", ".join(_target_words(t) for t in doc.targets)
                lines.append(
                    f"- {_KIND_WORDS.get(doc.kind, doc.kind)} `{doc.name}`, attached to {attached}"
                )
        else:
            lines.append("**Enforced by:** no document (nothing to enforce with these parameters).")
        lines.append("")

    number += 1
    lines += [
        f"### 3.{number} Per-account virtual machine baseline",
        "",
        "**Policy.** In every member account and every governed region: EBS encryption by "
        "default is on (with the approved KMS key where one serves the region), image block "
        f"public access is `{IMAGE_BPA_STATE}`, snapshot block public access is "
        f"`{SNAPSHOT_BPA_STATE}`, and the instance metadata defaults require the settings "
        "of the account's OU.",
        "",
        "**Why.** These defaults protect every new volume, image, snapshot and instance "
        "before anyone launches a virtual machine in a new account.",
        "",
        f"**CCM:** {_ccm(['IVS-04', 'CEK-03'])}.",
        "",
        "**Enforced by:** one Pulumi stack per member account (`baseline-<account-id>`, the "
        "`AccountBaseline` component), applied by `ivs baseline apply` and by `ivs vend` "
        "when an account is created or moved.",
        "",
    ]
    custom = [d for d in documents if d.custom]
    if custom:
        number += 1
        lines += [f"### 3.{number} The organization's own policies", ""]
        for doc in custom:
            attached = ", ".join(_target_words(t) for t in doc.targets)
            description = f": {doc.description}" if doc.description else ""
            kind = _KIND_WORDS.get(doc.kind, doc.kind)
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
        "accounts in their OUs, and the per-account baseline in every governed region. Each "
        "result is pass, drift or not assessed; drift fails the run.",
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
    for ccm in ("IVS-04", "CEK-03"):
        mapping[ccm].append("per-account baseline")
    lines += ["## 7. CCM mapping", "", "| CCM control | Implemented by |", "|---|---|"]
    for ccm in sorted(mapping, key=lambda c: (not c.startswith("IVS"), c)):
        title = f"{ccm} {CCM_TITLES[ccm]}" if ccm in CCM_TITLES else ccm
        lines.append(f"| {title} | {', '.join(mapping[ccm])} |")
    lines.append("")
    return "\n".join(lines)


def write_policy_doc(spec: Spec, out: str | os.PathLike[str], **options: Any) -> None:
    """Write the policy to ``out`` (Markdown), atomically."""
    atomic_write_text(out, render_policy_doc(spec, **options))
