"""``ivs policy-doc``: the written Infrastructure and Virtualization Security policy (IVS-01).

CCM IVS-01 asks that the IVS policy be documented, approved, communicated, applied,
evaluated and reviewed at least yearly. This renders it from the spec, as a document a
compliance officer reviews and signs, so that it says exactly what the baseline enforces
and the analysis checks:

- document control: id, version, status, owner, approver, effective date, review dates
  and change history (``spec.review``);
- purpose, scope (the organization, its OUs and accounts by name, the governed regions),
  definitions, and roles and responsibilities;
- the policy statements: the network segmentation between zones (``spec.zones``), the
  ports never open to the internet and where sensitive data may sit (``spec.exposure``),
  flow logs on every VPC, network hygiene, the fleet's expectations (``spec.fleet``), who
  may administer virtual machines (``spec.iam``), and each control switched on, in the
  catalogue's words with its CCM ids and where it is attached;
- exceptions: the exempt principals, the accepted-risk process and the register
  (``spec.accepted``, each entry active or expired on the document's date);
- compliance: evaluation, remediation deadlines by severity (``review.remediation_days``),
  non-compliance, review; references;
- appendix A: each statement with the controls that prevent a breach, the audit records
  and the exposure rules that detect one (:data:`CHECKS`); appendix B: the CCM mapping;
- the approval block with signature lines.

The text holds no command line: how the document is produced is said in words. It is
deterministic for a given spec and date, so it diffs cleanly in review.
``governance.policyprint`` prints it as HTML and PDF for signing.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from core.accepted import accept
from core.jsonio import atomic_write_text
from core.spec import ROOT, Spec
from core.vocabulary import CCM_TITLES, POLICY_KIND_WORDS, SEVERITIES, ccm_title
from governance import audit
from governance.controls import (
    ACCOUNT_CONTROLS,
    CONTROLS,
    ORGANIZATION_CONTROLS,
    Control,
    account_baseline,
    approved_ami_owners,
    backup_policy,
    deny_default_vpc,
    deny_image_export,
    deny_leave_organization,
    deny_public_images_snapshots,
    deny_unencrypted_volumes,
    ebs_encryption_default,
    ec2_declarative_policy,
    parameters_for,
    protect_flow_logs,
    protect_governance_roles,
    require_imdsv2,
    require_tags_on_launch,
    restrict_igw_attach,
    restrict_pass_role,
    restrict_regions,
    security_services,
    tag_policy,
)
from governance.policies.model import PolicyDocument

TITLE = "Infrastructure and Virtualization Security Policy"
FRAMEWORK = "CSA Cloud Controls Matrix (CCM) v4.0.10"

# ---- what checks each statement ---------------------------------------------------------


@dataclass(frozen=True)
class Checks:
    """What stands behind one statement: the controls that prevent a breach (for the
    policy's own statements; a control's section is its own prevention), the audit records
    (``governance.audit`` record ids) and the exposure rules (``graph.rules`` ids) that
    detect one."""

    audit: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    controls: tuple[str, ...] = ()


#: Every audit record a control held in an organization policy document is checked by.
DOCUMENT_RECORDS = (audit.POLICY_CONTENT, audit.POLICY_ATTACHMENT)

#: The checks behind each statement of the policy, keyed by the policy's own statements
#: (``scope``, ``segmentation``, ...) and by control id (each control's module spells its
#: own). Rule ids are plain strings here (governance does not import graph); the tests hold
#: each to ``graph.rules.RULES_BY_ID`` and every control to an entry.
CHECKS: dict[str, Checks] = {
    # the policy's own statements
    "scope": Checks(
        audit=(
            audit.MANAGEMENT_ACCOUNT,
            audit.POLICY_TYPE_ENABLED,
            audit.OU_EXISTS,
            audit.OU_IN_SPEC,
            audit.ACCOUNT_OU,
            audit.ACCOUNT_IN_SPEC,
            audit.ATTACHMENT_COUNT,
        )
    ),
    "segmentation": Checks(rules=("cross-zone-path", "flat-network")),
    "internet": Checks(
        rules=(
            "internet-exposed-admin-port",
            "internet-exposed-database-port",
            "internet-exposed-port",
            "sensitive-in-public-subnet",
            "internet-exposed-instance-escalation",
        ),
        controls=(restrict_igw_attach.ID, deny_default_vpc.ID, ec2_declarative_policy.ID),
    ),
    "flow-logs": Checks(rules=("vpc-flow-logs-missing",), controls=(protect_flow_logs.ID,)),
    "hygiene": Checks(
        rules=("default-sg-has-rules", "nacl-allow-all-ingress", "unrestricted-egress")
    ),
    "fleet": Checks(
        rules=(
            "instance-image-outdated",
            "instance-no-recent-backup",
            "instance-not-managed",
            "snapshot-shared-outside-organization",
            "image-shared-outside-organization",
            "guardduty-disabled",
            "inspector-ec2-disabled",
            "securityhub-disabled",
            "config-recorder-off",
        ),
        controls=(backup_policy.ID, security_services.ID),
    ),
    "vm-administration": Checks(
        rules=(
            "vm-admin-permission-broad",
            "vm-takeover-path",
            "instance-role-escalation",
            "internet-exposed-instance-escalation",
        ),
        controls=(restrict_pass_role.ID, protect_governance_roles.ID),
    ),
    "custom-policies": Checks(audit=DOCUMENT_RECORDS),
    "review": Checks(audit=(audit.REVIEW_OVERDUE,)),
    # the controls (a control in a policy document is also checked by DOCUMENT_RECORDS)
    ebs_encryption_default.ID: Checks(rules=("ebs-volume-unencrypted",)),
    deny_unencrypted_volumes.ID: Checks(rules=("ebs-volume-unencrypted",)),
    deny_public_images_snapshots.ID: Checks(rules=("snapshot-public", "image-public")),
    deny_image_export.ID: Checks(),
    approved_ami_owners.ID: Checks(rules=("instance-unapproved-image",)),
    require_imdsv2.ID: Checks(rules=("instance-imdsv1-allowed",)),
    require_tags_on_launch.ID: Checks(rules=("instance-missing-required-tags",)),
    restrict_regions.ID: Checks(),
    deny_leave_organization.ID: Checks(audit=(audit.ACCOUNT_IN_SPEC,)),
    protect_flow_logs.ID: Checks(rules=("vpc-flow-logs-missing",)),
    protect_governance_roles.ID: Checks(),
    restrict_pass_role.ID: Checks(rules=("vm-admin-permission-broad", "instance-role-escalation")),
    deny_default_vpc.ID: Checks(),
    restrict_igw_attach.ID: Checks(),
    tag_policy.ID: Checks(rules=("instance-missing-required-tags",)),
    backup_policy.ID: Checks(rules=("instance-no-recent-backup",)),
    ec2_declarative_policy.ID: Checks(
        rules=("instance-imdsv1-allowed", "snapshot-public", "image-public")
    ),
    account_baseline.ID: Checks(
        audit=(
            audit.EBS_ENCRYPTION,
            audit.EBS_KMS_KEY,
            audit.IMAGE_BPA,
            audit.SNAPSHOT_BPA,
            audit.IMDS_DEFAULTS,
            audit.BACKUP_VAULT,
            audit.BACKUP_ROLE,
        ),
        rules=(
            "ebs-volume-unencrypted",
            "snapshot-public",
            "image-public",
            "instance-imdsv1-allowed",
        ),
    ),
    security_services.ID: Checks(
        audit=(audit.GUARDDUTY, audit.INSPECTOR_EC2, audit.SECURITYHUB),
        rules=("guardduty-disabled", "inspector-ec2-disabled", "securityhub-disabled"),
    ),
}

# ---- words ------------------------------------------------------------------------------

#: The services behind the usual administration and database ports, for the reader.
_PORT_SERVICES = {
    "22": "SSH",
    "3389": "RDP",
    "5985-5986": "WinRM",
    "5985": "WinRM",
    "5986": "WinRM",
    "1433": "SQL Server",
    "1521": "Oracle",
    "3306": "MySQL",
    "5432": "PostgreSQL",
    "6379": "Redis",
    "9200": "OpenSearch",
    "27017": "MongoDB",
}
_PROTOCOLS = {"tcp": "TCP", "udp": "UDP", "icmp": "ICMP"}
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


def text(value: object) -> str:
    r"""Free text from the spec as Markdown shows it literally, on one line.

    >>> text("ops | *team*")
    'ops \\| \\*team\\*'
    """
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(str(value).split()))


def code(value: object) -> str:
    """A name from the spec as inline code, safe inside a table cell.

    >>> code("arn:aws:iam::*:role/x"), code("a|b")
    ('`arn:aws:iam::*:role/x`', '`a\\\\|b`')
    """
    inner = " ".join(str(value).split()).replace("|", "\\|")
    fence = "``" if "`" in inner else "`"
    pad = " " if fence == "``" else ""
    return f"{fence}{pad}{inner}{pad}{fence}"


def traffic_words(item: str) -> str:
    """A flow's ports (``zones.flows[].ports``) in words.

    >>> [traffic_words(p) for p in ("tcp:443", "udp:53", "all", "tcp:*", "-1:*", "icmp:8")]
    ['TCP 443', 'UDP 53', 'all traffic', 'all TCP ports', 'all traffic', 'ICMP type 8']
    """
    protocol, _, ports = item.partition(":")
    if item == "all" or protocol == "-1":
        return "all traffic"
    name = _PROTOCOLS.get(protocol, protocol.upper())
    if ports in ("", "*"):
        return f"all {name} ports" if protocol != "icmp" else "all ICMP"
    return f"ICMP type {ports}" if protocol == "icmp" else f"{name} {ports}"


def ports_words(ports: Iterable[str]) -> str:
    """Ports with the service each usually carries.

    >>> ports_words(["22", "3389", "8443"])
    'SSH (22), RDP (3389), 8443'
    """
    return ", ".join(f"{_PORT_SERVICES[p]} ({p})" if p in _PORT_SERVICES else p for p in ports)


def _target_words(target: str) -> str:
    if target == ROOT:
        return "the root (every account)"
    if target.isdigit():
        return f"account {target}"
    return f"OU `{target}`"


def _ccm(ids: Iterable[str]) -> str:
    return ", ".join(ccm_title(i) for i in ids)


def _zone(name: str) -> str:
    return "any zone" if name == "*" else code(name)


def _listed(items: list[str]) -> str:
    return ", ".join(items[:-1]) + " or " + items[-1] if len(items) > 1 else items[0]


# ---- the document -----------------------------------------------------------------------


@dataclass
class _Statement:
    """One policy statement: its title, its text, and what checks it (:data:`CHECKS`)."""

    key: str
    title: str
    lines: list[str]
    ccm: tuple[str, ...] = ()
    #: what prevents a breach, in words (the control's documents or stacks)
    prevented: list[str] = field(default_factory=list)
    #: the audit records that check it, besides those of :data:`CHECKS`
    audit: tuple[str, ...] = ()


@dataclass
class _Facts:
    """What the sections read, worked out once."""

    spec: Spec
    documents: list[PolicyDocument]
    today: dt.date
    enabled: list[tuple[Control, list[str]]]
    fleet: list[tuple[Control, str]]
    docs_for: dict[str, list[PolicyDocument]]
    due: dt.date | None

    @property
    def switched_on(self) -> dict[str, list[str]]:
        return {control.id: targets for control, targets in self.enabled}

    def in_force(self) -> dict[str, str]:
        """Each control in force, with where in words (``root, Workloads``)."""
        where = {
            control.id: ", ".join("root" if t == ROOT else t for t in targets)
            for control, targets in self.enabled
        }
        where.update({control.id: "each member account's stack" for control in ACCOUNT_CONTROLS})
        where.update({control.id: "the organization stack" for control, _ in self.fleet})
        return where


def _enabled_controls(spec: Spec) -> list[tuple[Control, list[str]]]:
    where: dict[str, list[str]] = defaultdict(list)
    for target, controls in spec.targets():
        for control in controls:
            where[control].append(target)
    return [(c, where[c.id]) for c in CONTROLS if c.id in where]


def _facts(spec: Spec, documents: list[PolicyDocument] | None, today: dt.date | None) -> _Facts:
    if documents is None:
        from governance.policies import build_documents

        documents = build_documents(spec, check_limits=False)
    review = spec.review
    docs_for: dict[str, list[PolicyDocument]] = defaultdict(list)
    for doc in documents:
        for control_id in doc.controls:
            docs_for[control_id].append(doc)
    return _Facts(
        spec=spec,
        documents=documents,
        today=today or dt.date.today(),
        enabled=_enabled_controls(spec),
        fleet=[
            (control, words)
            for control in ORGANIZATION_CONTROLS
            if (words := control.words(parameters_for(spec, ROOT), spec)) is not None
        ],
        docs_for=docs_for,
        due=(
            review.last_reviewed + dt.timedelta(days=review.review_interval_days)
            if review.last_reviewed
            else None
        ),
    )


def _document_control(facts: _Facts) -> list[str]:
    spec, review, today, due = facts.spec, facts.spec.review, facts.today, facts.due
    # the version in force dated after the approval is a change nobody approved yet
    changed_on = max((c.date for c in review.history if c.version == review.version), default=None)
    if review.approved_on is None:
        status = "Draft: not approved"
        effective = "on approval (no approval recorded)"
    elif changed_on is not None and changed_on > review.approved_on:
        status = (
            f"Awaiting approval: version {review.version} of {changed_on.isoformat()} is later "
            f"than the approval of {review.approved_on.isoformat()}"
        )
        effective = "on approval of this version"
    elif review.approved_on > today:
        status = f"Approved; in force from {review.approved_on.isoformat()}"
        effective = review.approved_on.isoformat()
    else:
        status = "Approved; in force"
        effective = review.approved_on.isoformat()
    last = review.last_reviewed.isoformat() if review.last_reviewed else "never"
    approved = (
        f", on {review.approved_on.isoformat()}"
        if review.approved_on
        else " (approval date not recorded)"
    )
    lines = [
        "## Document control",
        "",
        "| | |",
        "|---|---|",
        f"| Document id | {code(review.document_id)} |",
        f"| Title | {TITLE} |",
        f"| Version | {text(review.version)} |",
        f"| Status | {status} |",
        f"| Organization | AWS Organization of management account "
        f"{spec.organization.management_account_id} |",
        f"| Policy owner | {text(review.owner)} |",
        f"| Approved by | {text(review.approver)}{approved} |",
        f"| Effective date | {effective} |",
        f"| Last reviewed | {last} |",
        f"| Next review due | {due.isoformat() if due else 'now: no review recorded'}"
        f" (at least every {review.review_interval_days} days) |",
        f"| Document date | {today.isoformat()} |",
        f"| Framework | {FRAMEWORK}, domain IVS (Infrastructure and Virtualization Security) |",
        "",
    ]
    if due is None or today > due:
        lines += [
            f"> **Review overdue.** The policy must be reviewed at least every "
            f"{review.review_interval_days} days"
            + (f"; it was due on {due.isoformat()}." if due else "; no review is recorded."),
            "",
        ]
    lines += ["### Change history", ""]
    if review.history:
        lines += ["| Version | Date | Author | Summary |", "|---|---|---|---|"]
        lines += [
            f"| {text(change.version)} | {change.date.isoformat()} | {text(change.author)} "
            f"| {text(change.summary)} |"
            for change in review.history
        ]
    else:
        lines.append("No change history is recorded for this policy.")
    lines += [
        "",
        "This document is produced from the organization's governance specification, the "
        "same specification the deployment pipeline applies to the organization and the "
        "drift audit compares the organization with, so that the policy, its enforcement "
        "and its evaluation cannot drift apart unnoticed. The policy is changed by changing "
        "the specification, reviewed and approved like this document, and producing the "
        "document again; an edit to this text alone does not change the policy.",
        "",
    ]
    return lines


def _purpose() -> list[str]:
    return [
        "## 1. Purpose",
        "",
        "This policy sets the security baseline for the infrastructure and virtual machines "
        "of the organization's AWS accounts: how accounts are separated and governed, how "
        "the network is segmented and defended, how virtual machines are hardened and "
        "administered, and how disks, images and snapshots are protected. It implements CCM "
        "IVS-01 (Infrastructure and Virtualization Security Policy and Procedures) and the "
        "IVS controls that follow from it: it is documented here, approved by the approver "
        "named in the document control, applied by code, evaluated by a drift audit and an "
        "exposure analysis, and reviewed at least yearly.",
        "",
    ]


def _scope(facts: _Facts) -> list[str]:
    spec = facts.spec
    org = spec.organization
    members = list(spec.accounts())
    units = list(spec.units())
    regions_limited = restrict_regions.ID in facts.switched_on
    lines = [
        "## 2. Scope",
        "",
        "This policy applies to every member account of the organization below, in every "
        "governed region: their networks (VPCs, subnets, route tables, gateways, network "
        "ACLs and security groups), their virtual machines (EC2 instances, their EBS "
        "volumes, snapshots and images), and the IAM principals able to control them.",
        "",
        f"- **Organization:** management account {org.management_account_id}, "
        f"{len(members)} member accounts in {len(units)} organizational units.",
        f"- **Governed regions:** {', '.join(spec.regions)}."
        + (
            " Regional services outside these regions are denied where the control "
            f"`{restrict_regions.ID}` applies."
            if regions_limited
            else ""
        ),
        "- **Management account:** out of reach of the preventive controls (AWS applies no "
        "service or resource control policy to it); it administers the organization and "
        "runs no workloads.",
        f"- **Member access:** the baseline and the audit reach member accounts through the "
        f"{code(spec.member_role_name)} role.",
        "- **New accounts:** an account joins the scope when it is placed in an OU; an "
        "account of the organization that this policy does not list is reported by the "
        "audit.",
        "",
        "Organizational units and accounts:",
        "",
    ]
    if org.root.accounts:
        lines.append("- *(root)*")
        for account in org.root.accounts:
            lines.append(f"  - {text(account.name)} ({account.id})")
    for path, unit in units:
        depth = path.count("/")
        lines.append(f"{'  ' * depth}- **{unit.name}**" + (f" (`{path}`)" if depth else ""))
        for account in unit.accounts:
            lines.append(f"{'  ' * (depth + 1)}- {text(account.name)} ({account.id})")
    lines.append("")
    return lines


def _definitions(facts: _Facts) -> list[str]:
    zones = facts.spec.zones
    keys = _listed([code(k) for k in zones.tag_keys])
    terms = [
        (
            "Member account",
            "an AWS account of the organization other than the management account.",
        ),
        (
            "Organizational unit (OU)",
            "a group of accounts in the organization; a control attached to an OU holds "
            "for every account below it.",
        ),
        ("Governed region", "an AWS Region this policy governs (section 2)."),
        (
            "Control",
            "a preventive measure deployed on the organization or on each account, known by "
            "its id and implementing one or more CCM controls (section 5 names each).",
        ),
        (
            "Service control policy (SCP)",
            "an AWS Organizations policy that sets the most an IAM principal of a member "
            "account may do; it grants nothing.",
        ),
        (
            "Resource control policy (RCP)",
            "an AWS Organizations policy that sets the most that may be done to the "
            "resources of a member account.",
        ),
        (
            "Tag, backup and EC2 declarative policies",
            "AWS Organizations policies that fix the allowed tags, the backup plans, and "
            "EC2 settings that the EC2 service itself enforces, for the accounts they are "
            "attached to.",
        ),
        (
            "Zone",
            f"a set of workloads of one trust level, named by the tag {keys} of an instance, "
            "else of its network interface, else of its subnet, else of its VPC.",
        ),
        (
            "Protected zone",
            "a zone that no other zone may reach except by an allowed flow (section 5.1).",
        ),
        (
            "Allowed flow",
            "traffic from one zone to a protected zone, by protocol and port, that this "
            "policy allows.",
        ),
        (
            "Internet exposure",
            "a path by which the internet reaches a network interface as AWS routes it: a "
            "route to an internet gateway, a public address, and a network ACL and a "
            "security group that allow the traffic (directly or through a load balancer).",
        ),
        (
            "VM administrator",
            "a principal allowed to control the virtual machines of a protected zone: run "
            "commands on them, log in to them, change their role, or copy their disks "
            "(section 5.6).",
        ),
        (
            "Exempt principal",
            "the deployment pipeline and break-glass roles, which the preventive controls' "
            "deny statements do not apply to (section 6.1).",
        ),
        (
            "Finding",
            "a breach of this policy found in an account by the exposure analysis, with the "
            "rule that found it, its severity (critical, high, medium or low), the resource, "
            "and the path or the evidence.",
        ),
        (
            "Drift",
            "a difference, found by the audit, between what the governance specification "
            "deploys and what the organization or an account holds.",
        ),
        (
            "Accepted risk",
            "an exception to this policy: a finding (or a kind of finding on given "
            "resources) accepted on purpose, with a reason, an owner and an expiry date "
            "(section 6).",
        ),
        (
            "Governance specification",
            "the single file that describes the organization, its controls and this "
            "policy's parameters; the deployment, the audit, the analysis and this "
            "document all read it.",
        ),
    ]
    lines = ["## 3. Definitions", ""]
    lines += [f"- **{term}:** {meaning}" for term, meaning in terms]
    lines.append("")
    return lines


def _roles(facts: _Facts) -> list[str]:
    spec = facts.spec
    review = spec.review
    pipeline = ", ".join(code(a) for a in spec.principals.pipeline)
    lines = [
        "## 4. Roles and responsibilities",
        "",
        f"- **Policy owner ({text(review.owner)}):** keeps this policy and the governance "
        "specification current, has the audit and the exposure analysis run, tracks "
        "findings to their deadlines, keeps the register of accepted risks, and leads the "
        "review.",
        f"- **Approver ({text(review.approver)}):** approves this policy and each of its "
        "versions, every exception, and every extension of a remediation deadline.",
        f"- **Deployment pipeline ({pipeline}):** the only principal that changes the "
        "baseline: the organization's policies and their attachments, and each account's "
        "baseline.",
    ]
    if spec.principals.break_glass:
        break_glass = ", ".join(code(a) for a in spec.principals.break_glass)
        lines.append(
            f"- **Break-glass ({break_glass}):** used only in an emergency that the pipeline "
            "cannot handle; each use is reported to the policy owner and reviewed."
        )
    lines += [
        "- **Account vendors:** create and move accounts only through account vending, "
        "which places the account in its OU, records it in the governance specification, "
        "applies its baseline and audits it.",
        "- **VM administrators:** the principals named in section 5.6; they alone control "
        "the virtual machines of protected zones.",
        "- **Account and workload owners:** keep their workloads within this policy and "
        "remediate the findings in their accounts within the deadlines of section 7.2.",
        "- **Risk owners:** the owner named on each accepted risk answers for it until it expires.",
    ]
    if spec.fleet.delegated_admin_account is not None:
        admin = security_services.admin_words(spec)
        lines.append(
            "- **Security operations:** run the organization's threat detection for every "
            f"member account from the delegated administrator account {admin}."
        )
    lines.append("")
    return lines


# ---- policy statements ------------------------------------------------------------------


def _own(key: str, title: str, ccm: tuple[str, ...], policy: list[str], why: str) -> _Statement:
    """One of the policy's own statements: its policy lines, then why, then its CCM ids."""
    lines = [*policy, "", f"**Why.** {why}", "", f"**CCM:** {_ccm(ccm)}.", ""]
    return _Statement(key, title, lines, ccm)


def _segmentation(facts: _Facts) -> _Statement:
    ccm = ("IVS-05", "IVS-06", "IVS-03", "IVS-08")
    zones = facts.spec.zones
    keys = _listed([code(k) for k in zones.tag_keys])
    every = "*" in zones.protected
    protected = [z for z in zones.protected if z != "*"]
    lines = [
        f"**Policy.** Every workload belongs to a zone, named by its tag {keys} (on the "
        "instance, else on its network interface, else on its subnet, else on its VPC). A "
        "tag value listed below means that zone; any other value is a zone of its own name; "
        "a workload without the tag is in zone `unknown`.",
        "",
        "| Zone | Tag values | Protected |",
        "|---|---|---|",
    ]
    named = list(zones.names)
    named += [z for z in protected if z not in zones.names]
    for zone in named:
        values = ", ".join(code(v) for v in zones.names.get(zone, [zone]))
        lines.append(
            f"| {code(zone)} | {values} | {'yes' if every or zone in protected else 'no'} |"
        )
    lines.append("")
    if every:
        lines.append(
            "**Every zone is protected:** traffic stays inside its zone unless an allowed "
            "flow below opens it."
        )
    else:
        names = _listed([code(z) for z in protected]) if protected else "none"
        lines.append(
            f"**Protected zones:** {names}. No other zone may open a network path into a "
            "protected zone except by the allowed flows below; traffic inside one zone is "
            "allowed."
        )
    lines.append("")
    if zones.flows:
        lines += ["**Allowed flows:**", "", "| From | To | Traffic |", "|---|---|---|"]
        for flow in zones.flows:
            traffic = ", ".join(traffic_words(p) for p in flow.ports)
            lines.append(f"| {_zone(flow.source)} | {_zone(flow.to)} | {traffic} |")
    else:
        lines.append("**Allowed flows:** none: no other zone may reach a protected zone.")
    lines += [
        "",
        "Any other path into a protected zone, by route, peering, transit gateway or load "
        "balancer, is a breach. Inside a VPC, each tier has its own security groups and "
        "admits only the tiers and ports it needs: a VPC where every workload reaches every "
        "other on every port is a breach.",
    ]
    why = (
        "Separating production from non-production and tiers from one another keeps "
        "a compromise in one zone from spreading into the others."
    )
    return _own("segmentation", "Network segmentation between zones", ccm, lines, why)


def _internet(facts: _Facts) -> _Statement:
    ccm = ("IVS-03", "IVS-09", "DSP-17")
    exposure = facts.spec.exposure
    values = _listed([code(v) for v in exposure.sensitive_tag_values])
    lines = [
        "**Policy.**",
        "",
        "- No administration port is reachable from the internet, from any source address: "
        f"{ports_words(exposure.admin_ports) or 'none listed'}. Virtual machines are "
        "administered through AWS Systems Manager Session Manager or a bastion in a private "
        "subnet.",
        "- No database port is reachable from the internet, from any source address: "
        f"{ports_words(exposure.database_ports) or 'none listed'}.",
        "- Any other port reachable from the internet is there on purpose, for a workload "
        "that serves the internet (best behind a load balancer), and is recorded as an "
        "accepted risk (section 6) with its owner and expiry.",
        "- Workloads holding sensitive data (database services, and any workload whose "
        f"tag {code(exposure.sensitive_tag_key)} is {values or '(no value listed)'}) are not "
        "placed in a public subnet (one routed to an internet gateway).",
    ]
    why = (
        "Administration and database services open to the internet are scanned and "
        "attacked within hours; every other open port is attack surface that must be meant."
    )
    return _own(
        "internet", "No administration or database port open to the internet", ccm, lines, why
    )


def _flow_logs(facts: _Facts) -> _Statement:
    ccm = ("IVS-09", "LOG-05")
    lines = [
        "**Policy.** Every VPC of every member account, in every governed region, has an "
        "active VPC flow log that records all traffic (accepted and rejected) to Amazon "
        "CloudWatch Logs or Amazon S3. Flow logs and the log groups that hold them are "
        "deleted only by the deployment pipeline.",
    ]
    why = (
        "Without flow logs there is no record of what talked to what: intrusions "
        "and exfiltration can be neither detected nor investigated."
    )
    return _own("flow-logs", "Flow logs on every VPC", ccm, lines, why)


def _hygiene(facts: _Facts) -> _Statement:
    ccm = ("IVS-03", "IVS-04", "IVS-09")
    lines = [
        "**Policy.**",
        "",
        "- The default security group of every VPC has no rules; workloads use security "
        "groups made for them.",
        "- No network ACL admits every protocol and port from the internet.",
        "- Workloads of protected zones do not have unrestricted outbound access to the "
        "internet: their egress names the destinations and ports they need.",
    ]
    why = (
        "Each of these opens a door silently: a resource launched without a chosen "
        "group, a subnet left to its security groups alone, malware calling home."
    )
    return _own("hygiene", "Network hygiene", ccm, lines, why)


def _fleet(facts: _Facts) -> _Statement:
    ccm = ("IVS-04", "BCR-08", "LOG-05", "DSP-17")
    spec = facts.spec
    fleet = spec.fleet
    titles = {**security_services.TITLES, "config": "AWS Config recording"}
    services = [titles[s] for s in fleet.security_services]
    lines = [
        "**Policy.**",
        "",
        f"- Every instance runs an image no older than {fleet.max_image_age_days} days.",
        "- Every instance has an AWS Backup recovery point no older than "
        f"{fleet.max_backup_age_days} days.",
        "- Every running instance is managed by AWS Systems Manager (online in Systems "
        "Manager), so that it is patched, inventoried and reached without SSH.",
        "- Images (AMIs) and EBS snapshots are shared only with the organization's own "
        "accounts, organization and OUs: never with anyone outside it, never publicly.",
    ]
    if services:
        lines.append(
            f"- These services are on in every member account and governed region: "
            f"{', '.join(services)}."
        )
    delegated = [security_services.TITLES[s] for s in security_services.administered(spec)]
    if delegated:
        lines.append(
            f"- {', '.join(delegated)} are administered for every member account by the "
            f"delegated administrator account {security_services.admin_words(spec)}."
        )
    lines += []
    why = (
        "The preventive controls act on what is created from now on; these "
        "expectations hold for what already runs."
    )
    return _own("fleet", "The virtual machine fleet", ccm, lines, why)


def _vm_administration(facts: _Facts) -> _Statement:
    ccm = ("IAM-05", "IVS-04", "IVS-05")
    iam = facts.spec.iam
    lines = [
        "**Policy.** Only the VM administrators may control the virtual machines of a "
        "protected zone: run commands on them, log in to them, change their role, or copy "
        "their disks, directly or through roles they can assume.",
        "",
    ]
    if iam.vm_administrators:
        lines += ["| Zone | VM administrators (principal ARN patterns) |", "|---|---|"]
        for zone, patterns in iam.vm_administrators.items():
            lines.append(f"| {code(zone)} | {', '.join(code(p) for p in patterns)} |")
    else:
        lines.append(
            "No VM administrators are named: any principal able to control a virtual machine "
            "of a protected zone is a breach."
        )
    lines += [
        "",
        "No other principal holds the permissions that give full control of virtual "
        "machines (`ec2:*`, `iam:PassRole` on every role, `iam:CreateInstanceProfile`). An "
        "instance's role cannot reach an administrator-equivalent role or a role in another "
        "account.",
    ]
    why = (
        "Control of a production instance is control of its data; one leaked "
        "credential outside the administrators must not control the fleet."
    )
    return _own("vm-administration", "Administration of virtual machines", ccm, lines, why)


def _documents_words(docs: list[PolicyDocument]) -> list[str]:
    return [
        f"{POLICY_KIND_WORDS.get(doc.kind, doc.kind)} `{doc.name}`, attached to "
        + ", ".join(_target_words(t) for t in doc.targets)
        for doc in docs
    ]


def _control_head(control: Control) -> list[str]:
    return [
        f"**Policy.** {control.statement}",
        "",
        f"**Why.** {control.rationale}",
        "",
        f"**CCM:** {_ccm(control.ccm)}.",
        "",
    ]


def _control_statements(facts: _Facts) -> list[_Statement]:
    """A statement for each control in force: those switched on per target, the account
    baseline, the organization stack's own; then the organization's own documents."""
    spec = facts.spec
    out: list[_Statement] = []
    for control, targets in facts.enabled:
        lines = [*_control_head(control), "**Applies to:**"]
        for target in targets:
            words = control.words(parameters_for(spec, target), spec)
            lines.append(f"- {_target_words(target)}" + (f": {words}" if words else ""))
        lines.append("")
        docs = facts.docs_for.get(control.id, [])
        if docs:
            lines.append("**Enforced by:**")
            lines += [f"- {words}" for words in _documents_words(docs)]
        else:
            lines.append("**Enforced by:** no document (nothing to enforce with these parameters).")
        lines.append("")
        out.append(
            _Statement(
                control.id,
                f"{control.title} (`{control.id}`)",
                lines,
                control.ccm,
                prevented=[f"`{doc.name}`" for doc in docs] or ["no document"],
                audit=DOCUMENT_RECORDS if docs else (),
            )
        )
    in_force = facts.in_force()
    stacked = [(c, None) for c in ACCOUNT_CONTROLS] + list(facts.fleet)
    for control, words in stacked:
        lines = _control_head(control)
        if words:
            lines += [f"**Applies to:** every member account: {words}.", ""]
        lines += [f"**Enforced by:** {control.enforcement}", ""]
        out.append(
            _Statement(
                control.id,
                f"{control.title} (`{control.id}`)",
                lines,
                control.ccm,
                prevented=[in_force[control.id]],
            )
        )
    custom = [d for d in facts.documents if d.custom]
    if custom:
        lines = []
        for doc in custom:
            attached = ", ".join(_target_words(t) for t in doc.targets)
            description = f": {text(doc.description)}" if doc.description else ""
            kind = POLICY_KIND_WORDS.get(doc.kind, doc.kind)
            lines.append(f"- {kind} `{doc.name}`{description}; attached to {attached}")
        lines.append("")
        prevented = [f"`{doc.name}`" for doc in custom]
        out.append(
            _Statement(
                "custom-policies", "The organization's own policies", lines, prevented=prevented
            )
        )
    return out


#: The policy's own statements, in order (each a key of CHECKS).
_OWN_STATEMENTS = {
    "segmentation": _segmentation,
    "internet": _internet,
    "flow-logs": _flow_logs,
    "hygiene": _hygiene,
    "fleet": _fleet,
    "vm-administration": _vm_administration,
}


def _statements(facts: _Facts) -> list[_Statement]:
    """Every statement of section 5, in order: the policy's own, then each control."""
    own = [statement(facts) for statement in _OWN_STATEMENTS.values()]
    in_force = facts.in_force()
    for statement in own:
        statement.prevented = [
            f"`{control_id}` ({in_force[control_id]})"
            for control_id in CHECKS[statement.key].controls
            if control_id in in_force
        ]
    return own + _control_statements(facts)


def _policy_statements(statements: list[_Statement]) -> list[str]:
    own = sum(1 for s in statements if s.key in _OWN_STATEMENTS)
    lines = [
        "## 5. Policy statements",
        "",
        f"Each statement below is binding in every account within scope. Statements 5.1 to "
        f"5.{own} set what the network and the fleet must be; the statements after them are "
        "the preventive controls in force, each at the targets named (a control at an OU "
        "holds for every account below it). Deny statements exempt only the principals of "
        "section 6.1. Appendix A lists what prevents and what detects a breach of each.",
        "",
    ]
    for number, statement in enumerate(statements, 1):
        lines += [f"### 5.{number} {statement.title}", "", *statement.lines]
    return lines


def _exceptions(facts: _Facts) -> list[str]:
    spec = facts.spec
    review = spec.review
    lines = [
        "## 6. Exceptions and accepted risks",
        "",
        "### 6.1 Exempt principals",
        "",
        "Only these principals are exempt from the deny statements of the preventive "
        "controls, so that the baseline itself can be deployed and an emergency handled:",
        "",
    ]
    lines += [f"- deployment pipeline: {code(arn)}" for arn in spec.principals.pipeline]
    lines += [f"- break-glass: {code(arn)}" for arn in spec.principals.break_glass]
    lines += [
        "",
        "Exempting any other principal is a change to this policy.",
        "",
        "### 6.2 Exception process",
        "",
        "1. **Request.** The account or workload owner asks the policy owner for an "
        "exception: the finding (by its id) or the rule and the resources it covers, why "
        "the policy cannot be met, the compensating measures, the risk owner, and the date "
        "it ends.",
        f"2. **Approval.** The approver ({text(review.approver)}) approves or refuses it. "
        "An exception always has an expiry date, no later than "
        f"{review.review_interval_days} days after approval; renewing it is a new request.",
        "3. **Record.** An approved exception is recorded in the governance specification's "
        "register of accepted risks (section 6.3) with its reason, owner and expiry date, "
        "through the same review as any other change to the specification.",
        "4. **While it holds.** An accepted finding stays reported, marked accepted with "
        "its owner and expiry, and does not fail the compliance gates.",
        "5. **Expiry.** From the day after its expiry date the finding counts again as a "
        "breach, and its remediation deadline (section 7.2) runs from that day.",
        "",
        "### 6.3 Register of accepted risks",
        "",
    ]
    if not spec.accepted:
        lines += ["No risk is accepted.", ""]
        return lines
    register = accept((), spec.accepted, facts.today)
    lines += [
        f"Status on {facts.today.isoformat()} (the document date):",
        "",
        "| # | Accepts | Reason | Owner | Expires | Status |",
        "|---|---|---|---|---|---|",
    ]
    for number, entry in enumerate(register, 1):
        status = "active" if entry["status"] == "active" else "**expired**"
        lines.append(
            f"| {number} | {code(entry['by'])} | {text(entry['reason'])} | "
            f"{text(entry['owner'])} | {entry['expires']} | {status} |"
        )
    expired = sum(1 for entry in register if entry["status"] != "active")
    lines.append("")
    if expired:
        lines += [
            f"{expired} of {len(register)} accepted risks have expired: what they covered is "
            "a breach again, to be remediated or accepted anew.",
            "",
        ]
    return lines


def _compliance(facts: _Facts) -> list[str]:
    spec = facts.spec
    review = spec.review
    days = review.remediation_days
    services = (
        " and the security services the delegated administrator enables" if facts.fleet else ""
    )
    lines = [
        "## 7. Compliance",
        "",
        "### 7.1 Evaluation",
        "",
        "- **Drift audit.** The organization is read back and compared with the governance "
        "specification: policy types enabled, each policy's content, attachments (missing, "
        "extra, over the limit), accounts in their OUs, and the per-account baseline in "
        "every member account and governed region, with the backup vault and role wherever "
        "a backup policy applies"
        + services
        + ". Each record is pass, drift or not assessed; an account that cannot be read is "
        "never counted as passing.",
        "- **Exposure analysis.** A snapshot of every account and governed region (networks, "
        "virtual machines, disks, images, IAM and the organization's policies) is analysed "
        "against the statements of section 5. Each finding names its rule, severity, "
        "resource and the path or evidence; an account or region that could not be read "
        "is reported as not assessed, never as compliant.",
        "- Appendix A lists, for each statement, the audit records and the exposure rules "
        "that check it.",
        "",
        "### 7.2 Remediation deadlines",
        "",
        "A finding is remediated, or accepted under section 6, within the deadline of its "
        "severity, counted from the day it is first reported:",
        "",
        "| Severity | Remediate within |",
        "|---|---|",
    ]
    lines += [f"| {severity} | {days[severity]} days |" for severity in SEVERITIES]
    lines += [
        "",
        f"Drift from the baseline is corrected within {days['high']} days (the deadline of a "
        "high finding), by restoring what the specification deploys or by changing the "
        "specification through review. Only the approver extends a deadline, in writing and "
        "once.",
        "",
        "### 7.3 Non-compliance",
        "",
        "A finding past its deadline and not accepted, drift left uncorrected, a change to "
        "the baseline made outside the deployment pipeline, and an expired exception still "
        "in place are non-compliance with this policy. The policy owner reports each to the "
        "approver and to the owner of the account concerned, who answers for its "
        "remediation. Disabling, bypassing or weakening a control on purpose, outside the "
        "exception process, is a security incident, handled under the organization's "
        "incident response and disciplinary procedures.",
        "",
    ]
    return lines


def _review(facts: _Facts) -> list[str]:
    review = facts.spec.review
    last = review.last_reviewed.isoformat() if review.last_reviewed else "never"
    due = facts.due.isoformat() if facts.due else "now"
    return [
        "## 8. Review",
        "",
        f"This policy is reviewed at least every {review.review_interval_days} days, and "
        "whenever the organization's structure, its governed regions or its threat "
        "landscape change materially. The review checks that the statements still fit the "
        "organization, the findings and accepted risks since the last review, and the "
        "references. The audit reports the record `review-overdue` when the last review is "
        "older than the interval.",
        "",
        f"Last review: {last}; next review due: {due}.",
        "",
    ]


#: Public documents this policy relies on: (title, address).
AWS_REFERENCES: tuple[tuple[str, str], ...] = (
    (
        "AWS Organizations User Guide: Service control policies (SCPs)",
        "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html",
    ),
    (
        "AWS Organizations User Guide: Resource control policies (RCPs)",
        "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html",
    ),
    (
        "AWS Organizations User Guide: Declarative policies",
        "https://docs.aws.amazon.com/organizations/latest/userguide/"
        "orgs_manage_policies_declarative.html",
    ),
    (
        "Amazon EBS User Guide: Enable Amazon EBS encryption by default",
        "https://docs.aws.amazon.com/ebs/latest/userguide/encryption-by-default.html",
    ),
    (
        "Amazon EBS User Guide: Block public access for snapshots",
        "https://docs.aws.amazon.com/ebs/latest/userguide/block-public-access-snapshots.html",
    ),
    (
        "Amazon EC2 User Guide: Block public access to your AMIs",
        "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/block-public-access-to-amis.html",
    ),
    (
        "Amazon EC2 User Guide: Use the Instance Metadata Service (IMDSv2)",
        "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/"
        "configuring-instance-metadata-service.html",
    ),
    (
        "Amazon VPC User Guide: Logging IP traffic using VPC Flow Logs",
        "https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs.html",
    ),
)

#: The controls of the CCM IVS domain, in order (their titles are in CCM_TITLES).
IVS_CONTROLS = tuple(f"IVS-{n:02d}" for n in range(1, 10))


def _references() -> list[str]:
    lines = [
        "## 9. References",
        "",
        f"{FRAMEWORK}, Cloud Security Alliance, domain IVS (Infrastructure and "
        "Virtualization Security):",
        "",
    ]
    lines += [f"- {ccm_title(ccm)}" for ccm in IVS_CONTROLS]
    lines += ["", "Amazon Web Services documentation:", ""]
    lines += [f"- {title}: {address}" for title, address in AWS_REFERENCES]
    lines.append("")
    return lines


def _enforcement(statements: list[_Statement]) -> list[str]:
    lines = [
        "## Appendix A. Enforcement of each statement",
        "",
        "For each statement of section 5 (and of sections 2 and 8): the controls or "
        "documents that prevent a breach, the audit records that report drift, and the "
        "exposure rules that report a breach that exists.",
        "",
        "| Statement | Prevented by | Audit records | Exposure rules |",
        "|---|---|---|---|",
    ]

    def names(ids: Iterable[str]) -> str:
        listed = list(dict.fromkeys(ids))
        return ", ".join(f"`{i}`" for i in listed) if listed else "none"

    rows: list[tuple[str, list[str], Checks, tuple[str, ...]]] = [
        ("2. Scope", ["the organization stack"], CHECKS["scope"], ())
    ]
    rows += [
        (f"5.{number} {s.title}", s.prevented, CHECKS[s.key], s.audit)
        for number, s in enumerate(statements, 1)
    ]
    rows.append(("8. Review", ["this document's review"], CHECKS["review"], ()))
    for title, prevented, checks, extra in rows:
        lines.append(
            f"| {title} | {', '.join(prevented) or 'none (detected only)'} | "
            f"{names((*extra, *checks.audit))} | {names(checks.rules)} |"
        )
    lines.append("")
    return lines


def _ccm_mapping(statements: list[_Statement]) -> list[str]:
    mapping: dict[str, list[str]] = defaultdict(list)
    mapping["IVS-01"] += ["this document and its review (section 8)", "the drift audit (7.1)"]
    for number, statement in enumerate(statements, 1):
        named = f" `{statement.key}`" if statement.key not in _OWN_STATEMENTS else ""
        for ccm in statement.ccm:
            mapping[ccm].append(f"5.{number}{named}")
    for ccm in IVS_CONTROLS:
        mapping.setdefault(ccm, [])
    lines = ["## Appendix B. CCM mapping", "", "| CCM control | Implemented by |", "|---|---|"]
    for ccm in sorted(mapping, key=lambda c: (not c.startswith("IVS"), c)):
        title = f"{ccm} {CCM_TITLES[ccm]}" if ccm in CCM_TITLES else ccm
        lines.append(f"| {title} | {', '.join(mapping[ccm]) or 'not addressed by this policy'} |")
    lines.append("")
    return lines


def signatories(spec: Spec) -> list[tuple[str, str]]:
    """Who signs the policy: (role, name), the approver last."""
    return [("Policy owner", spec.review.owner), ("Approver", spec.review.approver)]


def approval_words(spec: Spec) -> str:
    """What the signatures of the approval block mean."""
    review = spec.review
    return (
        f"By signing, the approver approves the {TITLE}, {review.document_id} version "
        f"{review.version}, in force from its effective date, and the policy owner accepts "
        "its ownership."
    )


def _approval(spec: Spec) -> list[str]:
    lines = [
        "## Approval",
        "",
        text(approval_words(spec)),
        "",
        "| Role | Name | Signature | Date |",
        "|---|---|---|---|",
    ]
    lines += [f"| {role} | {text(name)} | | |" for role, name in signatories(spec)]
    lines.append("")
    return lines


def render_policy_body(
    spec: Spec, documents: list[PolicyDocument] | None = None, *, today: dt.date | None = None
) -> str:
    """The policy as Markdown, without its approval block (which each format draws)."""
    facts = _facts(spec, documents, today)
    statements = _statements(facts)
    lines = [f"# {TITLE}", ""]
    lines += _document_control(facts)
    lines += _purpose()
    lines += _scope(facts)
    lines += _definitions(facts)
    lines += _roles(facts)
    lines += _policy_statements(statements)
    lines += _exceptions(facts)
    lines += _compliance(facts)
    lines += _review(facts)
    lines += _references()
    lines += _enforcement(statements)
    lines += _ccm_mapping(statements)
    return "\n".join(lines)


def render_policy_doc(
    spec: Spec, documents: list[PolicyDocument] | None = None, *, today: dt.date | None = None
) -> str:
    """The policy as Markdown, with its approval block."""
    body = render_policy_body(spec, documents, today=today)
    return body + "\n" + "\n".join(_approval(spec))


def write_policy_doc(spec: Spec, out: str | os.PathLike[str], **options: Any) -> None:
    """Write the policy to ``out`` (Markdown), atomically."""
    atomic_write_text(out, render_policy_doc(spec, **options))
