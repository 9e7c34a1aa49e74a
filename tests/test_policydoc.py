"""``ivs policy-doc``: the written IVS policy from the spec, for signing (md, html, pdf)."""

from __future__ import annotations

import datetime as dt
import html.parser
import os
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLE_SPEC
from typer.testing import CliRunner

from core.errors import InputError, ToolMissingError
from core.spec import Review, Spec
from core.vocabulary import CCM_TITLES, SEVERITIES
from governance import audit, policyprint
from governance.controls import ALL_CONTROLS, CONTROLS_BY_ID
from governance.policies import build_documents
from governance.policydoc import (
    AWS_REFERENCES,
    CHECKS,
    IVS_CONTROLS,
    render_policy_doc,
    write_policy_doc,
)
from governance.policyprint import render_policy_html, write_policy
from governance.spec import spec_from_mapping
from graph.rules import RULES, RULES_BY_ID
from graph.rules.fleet import PREVENTED_BY
from ivs.cli import app

TODAY = dt.date(2026, 11, 27)


def section(text: str, heading: str) -> str:
    """The text of one ``###`` section."""
    start = text.index(heading)
    following = text.find("\n### ", start + 1)
    ends = [i for i in (following, text.find("\n## ", start + 1)) if i != -1]
    return text[start : min(ends)] if ends else text[start:]


def chapter(text: str, heading: str) -> str:
    """The text of one ``##`` section, with its ``###`` sections."""
    start = text.index(f"\n{heading}") + 1
    end = text.find("\n## ", start)
    return text[start:end] if end != -1 else text[start:]


@pytest.fixture(scope="module")
def doc(spec: Spec) -> str:
    return render_policy_doc(spec, today=TODAY)


def changed(spec_fields: dict[str, Any], today: dt.date = TODAY, **fields: Any) -> str:
    """The policy of the example spec with ``fields`` replaced (``review`` is merged)."""
    for name, value in fields.items():
        if name == "review":
            spec_fields["review"].update(value)
        else:
            spec_fields[name] = value
    spec = spec_from_mapping(spec_fields, "test.yaml", base_dir=str(EXAMPLE_SPEC.parent))
    return render_policy_doc(spec, today=today)


# ---- document control -------------------------------------------------------------------


def test_document_control_names_id_version_owner_approval_and_review(doc: str) -> None:
    assert doc.startswith("# Infrastructure and Virtualization Security Policy\n")
    control = chapter(doc, "## Document control")
    assert "| Document id | `IVS-POL-001` |" in control
    assert "| Version | 1.0 |" in control
    assert "| Status | Approved; in force |" in control
    assert "| Policy owner | Cloud Centre of Excellence |" in control
    assert "| Approved by | Chief Information Security Officer, on 2026-03-02 |" in control
    assert "| Effective date | 2026-03-02 |" in control
    assert "| Last reviewed | 2026-03-02 |" in control
    assert "| Next review due | 2027-03-02 (at least every 365 days) |" in control
    assert "| Document date | 2026-11-27 |" in control
    assert "CSA Cloud Controls Matrix (CCM) v4.0.10" in control
    assert "No change history is recorded" in control
    assert "Review overdue" not in doc


def test_document_id_version_and_history_come_from_the_spec(spec_fields: dict[str, Any]) -> None:
    history = [
        {"version": "1.0", "date": "2026-03-02", "author": "CCoE", "summary": "First issue"},
        {"version": "1.1", "date": "2026-09-14", "author": "A | B", "summary": "Zones for PCI"},
    ]
    text = changed(
        spec_fields, review={"document_id": "SEC-POL-17", "version": "1.1", "history": history}
    )
    control = chapter(text, "## Document control")
    assert "| Document id | `SEC-POL-17` |" in control
    assert "| Version | 1.1 |" in control
    assert "| Version | Date | Author | Summary |" in control
    assert "| 1.0 | 2026-03-02 | CCoE | First issue |" in control
    assert "| 1.1 | 2026-09-14 | A \\| B | Zones for PCI |" in control  # the pipe stays text
    assert "SEC-POL-17 version 1.1" in chapter(text, "## Approval")


def test_the_version_in_force_is_in_the_history(spec_fields: dict[str, Any]) -> None:
    history = [{"version": "1.0", "date": "2026-03-02", "author": "CCoE", "summary": "First"}]
    with pytest.raises(InputError, match=r"ivs\.review: version '2\.0' is not in the history"):
        changed(spec_fields, review={"version": "2.0", "history": history})


def test_review_defaults_keep_existing_specs_loading() -> None:
    review = Review()
    assert (review.document_id, review.version, review.history) == ("IVS-POL-001", "1.0", [])
    assert review.remediation_days == {"critical": 7, "high": 30, "medium": 90, "low": 180}


def test_status_follows_the_approval(spec_fields: dict[str, Any]) -> None:
    draft = changed(spec_fields, review={"approved_on": None})
    assert "| Status | Draft: not approved |" in draft
    assert "| Effective date | on approval (no approval recorded) |" in draft
    assert "(approval date not recorded)" in draft
    ahead = changed(spec_fields, review={"approved_on": "2027-01-01"})
    assert "| Status | Approved; in force from 2027-01-01 |" in ahead


def test_a_version_later_than_its_approval_awaits_approval(spec_fields: dict[str, Any]) -> None:
    history = [
        {"version": "1.0", "date": "2026-03-02", "author": "CCoE", "summary": "First issue"},
        {"version": "1.1", "date": "2026-09-14", "author": "CCoE", "summary": "PCI zone"},
    ]
    text = changed(spec_fields, review={"version": "1.1", "history": history})
    assert (
        "| Status | Awaiting approval: version 1.1 of 2026-09-14 is later than the approval "
        "of 2026-03-02 |"
    ) in text
    assert "| Effective date | on approval of this version |" in text
    approved = changed(spec_fields, review={"version": "1.0", "history": history})
    assert "| Status | Approved; in force |" in approved


def spec_with(spec_fields: dict[str, Any], **review: Any) -> Spec:
    spec_fields["review"].update(review)
    return spec_from_mapping(spec_fields, "test.yaml", base_dir=str(EXAMPLE_SPEC.parent))


def test_overdue_review_is_flagged(spec_fields: dict[str, Any]) -> None:
    late = render_policy_doc(spec_with(spec_fields, last_reviewed="2025-06-01"), today=TODAY)
    assert "> **Review overdue.**" in late
    assert "it was due on 2026-06-01." in late
    never = render_policy_doc(
        spec_with(spec_fields, last_reviewed=None, approved_on=None), today=TODAY
    )
    assert "no review is recorded" in never
    assert "(approval date not recorded)" in never
    assert "| Last reviewed | never |" in never


# ---- purpose, scope, definitions, roles -------------------------------------------------


def test_scope_lists_regions_ous_and_accounts(spec: Spec, doc: str) -> None:
    scope = chapter(doc, "## 2. Scope")
    assert "**Governed regions:** us-east-1, eu-west-1." in scope
    assert "9 member accounts in 6 organizational units" in scope
    for account, _ in spec.accounts():
        assert f"- {account.name} ({account.id})" in scope
    assert "  - **Prod** (`Workloads/Prod`)\n    - payments-prod (400000000001)" in scope
    assert "## 1. Purpose" in doc and "CCM IVS-01" in chapter(doc, "## 1. Purpose")


def test_definitions_and_roles(doc: str) -> None:
    definitions = chapter(doc, "## 3. Definitions")
    for term in (
        "Zone",
        "Protected zone",
        "Allowed flow",
        "VM administrator",
        "Accepted risk",
        "Finding",
        "Drift",
        "Control",
        "Service control policy (SCP)",
        "Resource control policy (RCP)",
        "Exempt principal",
    ):
        assert f"- **{term}:** " in definitions, term
    assert "named by the tag `Environment`" in definitions
    roles = chapter(doc, "## 4. Roles and responsibilities")
    assert "**Policy owner (Cloud Centre of Excellence):**" in roles
    assert "**Approver (Chief Information Security Officer):**" in roles
    assert "`arn:aws:iam::*:role/ivs-pipeline`" in roles
    assert "delegated administrator account audit (200000000002)" in roles


# ---- policy statements ------------------------------------------------------------------


def test_each_control_in_words_with_ccm_and_enforcement(spec: Spec, doc: str) -> None:
    docs = build_documents(spec)
    switched_on = {c for _, controls in spec.targets() for c in controls}
    assert switched_on
    for control_id in switched_on:
        control = CONTROLS_BY_ID[control_id]
        text = section(doc, f"{control.title} (`{control_id}`)")
        assert f"**Policy.** {control.statement}" in text
        assert f"**Why.** {control.rationale}" in text
        for ccm in control.ccm:
            assert ccm in text.split("**CCM:**")[1].split("\n")[0]
        for document in docs:
            if control_id in document.controls:
                assert f"`{document.name}`, attached to" in text


def test_parameters_per_target(doc: str) -> None:
    regions = section(doc, "(`restrict-regions`)")
    assert "- OU `Sandbox`: allowed regions: us-east-1\n" in regions
    assert "- OU `Workloads`: allowed regions: us-east-1, eu-west-1\n" in regions
    key = section(doc, "(`ebs-encryption-default`)")
    assert (
        "alias/ivs-ebs-default` in us-east-1; the baseline sets no default key in eu-west-1" in key
    )


def test_segmentation_policy_is_the_spec_zones(doc: str, spec_fields: dict[str, Any]) -> None:
    zones = section(doc, "5.1 Network segmentation between zones")
    assert "named by its tag `Environment`" in zones
    assert "| `prod` | `prod`, `production` | yes |" in zones
    assert "| `dev` | `dev`, `development` | no |" in zones
    assert "**Protected zones:** `prod`." in zones
    assert "| `shared` | `prod` | TCP 443, UDP 53 |" in zones

    text = changed(
        spec_fields,
        zones={
            "tag_keys": ["Env", "Stage"],
            "names": {"prod": ["live"], "pci": ["cardholder"]},
            "protected": ["prod", "pci"],
            "flows": [
                {"from": "prod", "to": "pci", "ports": ["tcp:5432"]},
                {"from": "*", "to": "prod", "ports": ["tcp:443", "icmp:*"]},
            ],
        },
    )
    zones = section(text, "5.1 Network segmentation between zones")
    assert "named by its tag `Env` or `Stage`" in zones
    assert "| `pci` | `cardholder` | yes |" in zones
    assert "**Protected zones:** `prod` or `pci`." in zones
    assert "| `prod` | `pci` | TCP 5432 |" in zones
    assert "| any zone | `prod` | TCP 443, all ICMP |" in zones
    assert "`shared`" not in zones

    closed = changed(spec_fields, zones={"protected": ["*"], "flows": []})
    zones = section(closed, "5.1 Network segmentation between zones")
    assert "**Every zone is protected:**" in zones
    assert "**Allowed flows:** none" in zones


def test_internet_exposure_policy_is_the_spec_ports(doc: str, spec_fields: dict[str, Any]) -> None:
    internet = section(doc, "No administration or database port open to the internet")
    assert "SSH (22), RDP (3389), WinRM (5985-5986)" in internet
    assert "PostgreSQL (5432)" in internet and "MongoDB (27017)" in internet
    assert "tag `DataClassification` is `confidential` or `restricted`" in internet
    text = changed(
        spec_fields,
        exposure={
            "admin_ports": ["2222", "3389"],
            "database_ports": ["5432"],
            "sensitive_tag_key": "Sensitivity",
            "sensitive_tag_values": ["secret"],
        },
    )
    internet = section(text, "No administration or database port open to the internet")
    assert "from any source address: 2222, RDP (3389)." in internet
    assert "SSH (22)" not in internet and "MongoDB" not in internet
    assert "tag `Sensitivity` is `secret`" in internet


def test_flow_logs_hygiene_fleet_and_vm_administrators(
    doc: str, spec_fields: dict[str, Any]
) -> None:
    assert "has an active VPC flow log" in section(doc, "Flow logs on every VPC")
    assert "default security group of every VPC has no rules" in section(doc, "Network hygiene")
    fleet = section(doc, "The virtual machine fleet")
    assert "no older than 180 days" in fleet and "no older than 2 days" in fleet
    assert (
        "on in every member account and governed region: Amazon GuardDuty, Amazon Inspector "
        "EC2 scanning, AWS Security Hub, AWS Config recording." in fleet
    )
    admins = section(doc, "Administration of virtual machines")
    assert "| `prod` | `arn:aws:iam::*:role/ivs-pipeline`, `arn:aws:iam::*:role/BreakGlass`" in (
        admins
    )

    text = changed(
        spec_fields,
        fleet={"max_image_age_days": 90, "security_services": ["guardduty"]},
        iam={"vm_administrators": {}},
    )
    fleet = section(text, "The virtual machine fleet")
    assert "no older than 90 days" in fleet
    assert "governed region: Amazon GuardDuty." in fleet and "Config" not in fleet
    assert "No VM administrators are named" in section(text, "Administration of virtual machines")


def test_baseline_exceptions_and_custom_policies(spec: Spec, doc: str) -> None:
    baseline = section(doc, "Per-account virtual machine baseline")
    assert "`block-new-sharing`" in baseline and "`block-all-sharing`" in baseline
    assert "`baseline-<account-id>`" in baseline
    exempt = section(doc, "6.1 Exempt principals")
    assert "- deployment pipeline: `arn:aws:iam::*:role/ivs-pipeline`" in exempt
    assert "- break-glass: `arn:aws:iam::*:role/BreakGlass`" in exempt
    (custom,) = spec.policies
    assert f"- service control policy `{custom.name}`: {custom.description}; attached to" in doc


def test_controls_not_switched_on_are_not_described(spec_fields: dict[str, Any]) -> None:
    for unit in spec_fields["organization"]["units"]:
        unit["controls"] = []
        for child in unit.get("units", []):
            child["controls"] = []
    spec_fields["policies"] = []
    spec = spec_from_mapping(spec_fields, "test.yaml", base_dir=str(EXAMPLE_SPEC.parent))
    text = render_policy_doc(spec, today=TODAY)
    root_controls = set(spec.organization.root.controls)
    for control_id, control in CONTROLS_BY_ID.items():
        assert (f"(`{control_id}`)" in text) == (control_id in root_controls), control_id
        if control_id not in root_controls:
            assert control.statement not in text
            assert f"`{control_id}`" not in text, control_id
    assert "own policies" not in text


# ---- exceptions and the accepted-risk register ------------------------------------------

ACCEPTED = [
    {
        "rule": "internet-exposed-port",
        "resource": "i-web*",
        "reason": "public web tier behind | the WAF",
        "owner": "web team",
        "expires": "2027-06-30",
    },
    {"id": "ivs-0123456789abcdef", "reason": "pilot", "owner": "ops", "expires": "2026-01-31"},
]


def test_accepted_risks_register_marks_active_and_expired(
    doc: str, spec_fields: dict[str, Any]
) -> None:
    assert "1. **Request.**" in section(doc, "6.2 Exception process")
    assert "no later than 365 days after approval" in section(doc, "6.2 Exception process")
    # the example accepts its web tier's load balancer; a spec accepting nothing says so
    assert "web platform team | 2027-06-30 | active |" in section(
        doc, "6.3 Register of accepted risks"
    )
    none = changed(spec_fields, accepted=[])
    assert "No risk is accepted." in section(none, "6.3 Register of accepted risks")

    text = changed(spec_fields, accepted=ACCEPTED)
    register = section(text, "6.3 Register of accepted risks")
    assert "Status on 2026-11-27 (the document date):" in register
    assert (
        "| 1 | `internet-exposed-port on i-web*` | public web tier behind \\| the WAF | "
        "web team | 2027-06-30 | active |"
    ) in register
    assert "| 2 | `ivs-0123456789abcdef` | pilot | ops | 2026-01-31 | **expired** |" in register
    assert "1 of 2 accepted risks have expired" in register

    earlier = changed(spec_fields, today=dt.date(2026, 1, 31))
    register = section(earlier, "6.3 Register of accepted risks")
    assert "| 2026-01-31 | active |" in register and "expired" not in register


# ---- compliance: deadlines, non-compliance; review; references ---------------------------


def test_remediation_deadlines_by_severity(doc: str, spec_fields: dict[str, Any]) -> None:
    deadlines = section(doc, "7.2 Remediation deadlines")
    for severity, days in (("critical", 7), ("high", 30), ("medium", 90), ("low", 180)):
        assert f"| {severity} | {days} days |" in deadlines
    assert "Drift from the baseline is corrected within 30 days" in deadlines
    assert "is a security incident" in section(doc, "7.3 Non-compliance")

    text = changed(spec_fields, review={"remediation_days": {"critical": 3, "high": 14}})
    deadlines = section(text, "7.2 Remediation deadlines")
    assert "| critical | 3 days |" in deadlines and "| high | 14 days |" in deadlines
    assert "| medium | 90 days |" in deadlines
    assert "corrected within 14 days" in deadlines


def test_a_deadline_longer_for_a_higher_severity_is_refused(spec_fields: dict[str, Any]) -> None:
    with pytest.raises(InputError, match=r"ivs\.review\.remediation_days: a higher severity"):
        changed(spec_fields, review={"remediation_days": {"critical": 60}})


def test_references_name_every_ivs_control_and_the_aws_documents(doc: str) -> None:
    references = chapter(doc, "## 9. References")
    assert tuple(f"IVS-0{n}" for n in range(1, 10)) == IVS_CONTROLS
    for ccm in IVS_CONTROLS:
        assert f"- {ccm} ({CCM_TITLES[ccm]})" in references
    for title, address in AWS_REFERENCES:
        assert f"- {title}: {address}" in references
    for subject in ("SCPs", "EBS encryption by default", "IMDSv2", "VPC Flow Logs"):
        assert subject in references
    review = chapter(doc, "## 8. Review")
    assert "Last review: 2026-03-02; next review due: 2027-03-02." in review


def test_ccm_mapping_covers_every_ccm_id(doc: str) -> None:
    mapping = chapter(doc, "## Appendix B. CCM mapping")
    ids = {ccm for c in ALL_CONTROLS for ccm in c.ccm}
    rows = set(re.findall(r"^\| ([A-Z]{3}-\d\d) ", mapping, re.MULTILINE))
    assert rows == ids | set(IVS_CONTROLS) | {"BCR-08", "IAM-05"}
    assert "| IVS-01 Infrastructure and Virtualization Security Policy and Procedures |" in mapping
    assert "| IVS-02 Capacity and Resource Planning | not addressed by this policy |" in mapping
    assert "| IVS-06 Segmentation and Segregation | 5.1, " in mapping


# ---- appendix A: what enforces and what detects each statement ---------------------------

#: Every audit record id of governance.audit.
AUDIT_RECORDS = {
    value
    for name, value in vars(audit).items()
    if name.isupper() and isinstance(value, str) and re.fullmatch(r"[a-z0-9-]+", value)
}


def test_the_checks_name_existing_rules_controls_and_audit_records() -> None:
    control_ids = {c.id for c in ALL_CONTROLS}
    assert control_ids <= set(CHECKS), "every control says what checks it"
    for key, checks in CHECKS.items():
        assert set(checks.rules) <= set(RULES_BY_ID), key
        assert set(checks.controls) <= control_ids, key
        assert set(checks.audit) <= AUDIT_RECORDS, key
    named = {rule for checks in CHECKS.values() for rule in checks.rules}
    assert named == {rule.id for rule in RULES}, "every rule checks a statement of the policy"


def test_the_checks_agree_with_the_fleet_rules_prevention() -> None:
    # graph names the controls that prevent each posture rule; the policy says the same
    for rule, controls in PREVENTED_BY.items():
        for control in controls:
            assert rule in CHECKS[control].rules, (rule, control)


def test_appendix_names_only_existing_rules_controls_and_records(spec: Spec, doc: str) -> None:
    appendix = chapter(doc, "## Appendix A. Enforcement of each statement")
    documents = {d.name for d in build_documents(spec)}
    rows = [line for line in appendix.splitlines() if re.match(r"^\| (2\.|5\.\d+|8\.) ", line)]
    statements = re.findall(r"^### (5\.\d+) ", doc, re.MULTILINE)
    assert [row.split(" ")[1] for row in rows] == ["2.", *statements, "8."]
    known = set(RULES_BY_ID) | {c.id for c in ALL_CONTROLS} | AUDIT_RECORDS | documents
    for row in rows:
        cells = row.strip("|").split(" | ")
        assert len(cells) == 4, row
        for cell in cells[1:]:
            for name in re.findall(r"`([^`]+)`", cell):
                assert name in known, (name, row)
        assert set(re.findall(r"`([^`]+)`", cells[3])) <= set(RULES_BY_ID), row
        assert set(re.findall(r"`([^`]+)`", cells[2])) <= AUDIT_RECORDS, row
    flow_logs = next(row for row in rows if "Flow logs on every VPC" in row)
    assert "`protect-flow-logs` (root)" in flow_logs and "`vpc-flow-logs-missing`" in flow_logs
    internet = next(row for row in rows if "open to the internet" in row)
    assert "`internet-exposed-admin-port`" in internet


# ---- no command lines in the policy ------------------------------------------------------

COMMAND = re.compile(r"(^|[\s`(])(ivs|pulumi) |^\s*(?:[-*>]\s*)?\$ ")


def test_no_line_of_the_policy_is_a_command(doc: str, spec_fields: dict[str, Any]) -> None:
    busy = changed(spec_fields, accepted=ACCEPTED, review={"approved_on": None})
    for text in (doc, busy):
        for number, line in enumerate(text.splitlines(), 1):
            assert not COMMAND.search(line), f"line {number}: {line}"


# ---- rendering: the same text, written atomically; HTML and PDF for signing ---------------


def test_same_spec_same_day_same_text(spec: Spec) -> None:
    assert render_policy_doc(spec, today=TODAY) == render_policy_doc(spec, today=TODAY)
    assert render_policy_html(spec, today=TODAY) == render_policy_html(spec, today=TODAY)


def test_written_atomically(spec: Spec, tmp_path: Path) -> None:
    out = tmp_path / "docs" / "ivs-policy.md"
    write_policy_doc(spec, out, today=TODAY)
    assert out.read_text() == render_policy_doc(spec, today=TODAY)
    assert os.listdir(out.parent) == ["ivs-policy.md"]
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("x")
    with pytest.raises(OSError):
        write_policy_doc(spec, blocked / "policy.md", today=TODAY)
    assert blocked.read_text() == "x"


class _Resources(html.parser.HTMLParser):
    """Every tag of a page and the attributes that could load or link something."""

    LOADING = frozenset({"src", "href", "srcset", "action", "data", "poster", "background"})

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.loading: list[tuple[str, str, str | None]] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self._in_style = tag == "style"
        self.loading += [(tag, name, value) for name, value in attrs if name in self.LOADING]
        self.loading += [(tag, name, value) for name, value in attrs if name == "style"]

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)


def resources(page: str) -> _Resources:
    parser = _Resources()
    parser.feed(page)
    return parser


def test_html_loads_nothing_and_ends_with_the_signature_block(
    spec: Spec, spec_fields: dict[str, Any]
) -> None:
    spec_fields["policies"][0]["description"] = (
        'x <img src="https://evil.example/x.png"> ![p](https://evil.example/p.png) '
        "[l](https://evil.example/) <https://evil.example/a> <script>alert(1)</script>"
    )
    hostile = spec_from_mapping(spec_fields, "test.yaml", base_dir=str(EXAMPLE_SPEC.parent))
    for subject in (spec, hostile):
        page = render_policy_html(subject, today=TODAY)
        found = resources(page)
        assert found.loading == []
        assert not {"script", "link", "img", "iframe", "object", "embed", "a"} & set(found.tags)
        css = "".join(found.styles)
        assert "url(" not in css and "@import" not in css
        assert "default-src 'none'" in page
    assert "&lt;script&gt;" in page  # spec text is shown, never run

    page = render_policy_html(spec, today=TODAY)
    assert "size: A4" in page and 'content: "IVS-POL-001 version 1.0"' in page
    approval = page[page.index('<section class="approval">') :]
    assert "<h2>Approval</h2>" in approval
    assert '<p class="role">Approver</p><p class="name">Chief Information Security Officer</p>' in (
        approval
    )
    assert '<p class="role">Policy owner</p><p class="name">Cloud Centre of Excellence</p>' in (
        approval
    )
    assert approval.count("<span>Signature</span>") == 2
    assert approval.count("<span>Date</span>") == 2
    assert "<h2>5. Policy statements</h2>" in page
    assert "<td>critical</td>" in page and "<td>7 days</td>" in page


@pytest.fixture(scope="module")
def printed(spec: Spec, tmp_path_factory: pytest.TempPathFactory) -> Path:
    if policyprint.find_chromium() is None:
        pytest.fail(
            "Chromium is not installed: the PDF test needs it. Install it with "
            "`apt-get install -y chromium` (`make browser` does)."
        )
    out = tmp_path_factory.mktemp("pdf") / "policy.pdf"
    assert write_policy(spec, out, today=TODAY) == "pdf"
    return out


def test_pdf_is_printed_by_chromium(printed: Path) -> None:
    data = printed.read_bytes()
    assert data.startswith(b"%PDF-")
    assert len(data) > 20_000  # some twenty pages of text, not an empty page
    assert os.listdir(printed.parent) == ["policy.pdf"]  # no temp file left


def test_without_chromium_the_pdf_says_what_to_do(
    spec: Spec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(policyprint, "find_chromium", lambda: None)
    with pytest.raises(ToolMissingError, match="install Debian's chromium"):
        write_policy(spec, tmp_path / "policy.pdf", today=TODAY)
    assert os.listdir(tmp_path) == []
    result = CliRunner().invoke(
        app, ["policy-doc", "--spec", str(EXAMPLE_SPEC), "--out", str(tmp_path / "p.pdf")]
    )
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert "chromium" in line and "--format html" in line


def test_a_chromium_that_prints_nothing_is_one_line(
    spec: Spec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\necho 'ERROR: no display' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setattr(policyprint, "find_chromium", lambda: str(fake))
    out = tmp_path / "out" / "policy.pdf"
    with pytest.raises(ToolMissingError, match=r"did not print the policy \(exit 1: ERROR"):
        write_policy(spec, out, today=TODAY)
    assert os.listdir(out.parent) == []


# ---- the command line -------------------------------------------------------------------


def test_command_line(tmp_path: Path) -> None:
    out = tmp_path / "policy.md"
    result = CliRunner().invoke(app, ["policy-doc", "--spec", str(EXAMPLE_SPEC), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"wrote {out}"
    assert "## 5. Policy statements" in out.read_text()
    missing = CliRunner().invoke(
        app, ["policy-doc", "--spec", str(tmp_path / "nope.yaml"), "--out", str(out)]
    )
    assert missing.exit_code == 2
    assert "nope.yaml: cannot read" in missing.stderr


@pytest.mark.parametrize(
    ("name", "options", "starts"),
    [
        ("policy.html", [], "<!DOCTYPE html>"),
        ("policy.txt", [], "# Infrastructure"),
        ("policy.pdf", ["--format", "md"], "# Infrastructure"),
        ("policy", ["--format", "html"], "<!DOCTYPE html>"),
    ],
)
def test_the_format_follows_the_option_else_the_suffix(
    tmp_path: Path, name: str, options: list[str], starts: str
) -> None:
    out = tmp_path / name
    args = ["policy-doc", "--spec", str(EXAMPLE_SPEC), "--out", str(out), "--date", "2027-01-04"]
    result = CliRunner().invoke(app, [*args, *options])
    assert result.exit_code == 0, result.output
    written = out.read_text()
    assert written.startswith(starts)
    assert "2027-01-04" in written


def test_a_bad_date_is_one_line(tmp_path: Path) -> None:
    args = ["policy-doc", "--spec", str(EXAMPLE_SPEC), "--out", str(tmp_path / "p.md")]
    result = CliRunner().invoke(app, [*args, "--date", "27/11/2026"])
    assert result.exit_code == 2
    assert result.stderr.strip() == "ivs: --date: '27/11/2026' is not a date (YYYY-MM-DD)"
    assert not (tmp_path / "p.md").exists()


# ---- what the stacks create for the controls: the backup vault and role, the security services


def test_the_backup_vault_and_role_are_named_where_the_policy_applies(doc: str) -> None:
    backup = section(doc, "(`backup-policy`)")
    assert (
        "- OU `Workloads`: backup plans: `daily` (cron(0 3 ? * * *), kept 35 days, copied to "
        "eu-west-1); into vault `ivs-backup-vault` (us-east-1, eu-west-1) with role "
        "`ivs-backup-role` (trusted by AWS Backup, with `AWSBackupServiceRolePolicyForBackup` "
        "and `AWSBackupServiceRolePolicyForRestores`), which each account's stack creates\n"
    ) in backup
    baseline = section(doc, "Per-account virtual machine baseline")
    assert "the backup vault it names exists in each region" in baseline
    assert "the backup role it names exists, trusted by AWS Backup" in baseline


def test_the_delegated_administration_is_described(doc: str) -> None:
    text = section(doc, "Threat detection across the fleet (`security-services`)")
    assert (
        "**Applies to:** every member account: Amazon GuardDuty, Amazon Inspector EC2 "
        "scanning and AWS Security Hub in us-east-1, eu-west-1, administered by the "
        "delegated administrator audit (200000000002).\n"
    ) in text
    assert "IVS-09 (Network Defense), LOG-05 (Audit Logs Monitoring and Response)" in text
    assert "GuardDuty `auto_enable_organization_members` ALL" in text
    mapping = chapter(doc, "## Appendix B. CCM mapping")
    assert re.search(r"\| IVS-09 Network Defense \| [^\n]*5\.\d+ `security-services` \|", mapping)
    evaluation = section(doc, "7.1 Evaluation")
    assert "the backup vault and role wherever a backup policy applies" in evaluation
    assert "the security services the delegated administrator enables" in evaluation


@pytest.mark.parametrize(
    ("fleet", "described"),
    [
        ({}, None),
        ({"delegated_admin_account": "200000000002", "security_services": ["config"]}, None),
        (
            {"delegated_admin_account": "300000000002", "security_services": ["guardduty"]},
            "Amazon GuardDuty in us-east-1, eu-west-1, administered by the delegated "
            "administrator shared-services (300000000002)",
        ),
    ],
)
def test_the_delegated_administration_follows_the_spec(
    spec_fields: dict[str, Any], fleet: dict[str, Any], described: str | None
) -> None:
    text = changed(spec_fields, fleet=fleet)
    evaluation = section(text, "7.1 Evaluation")
    if described is None:
        assert "(`security-services`)" not in text and "`security-services` (" not in text
        assert not re.search(r"5\.\d+ `security-services`", text)
        assert "delegated administrator" not in evaluation
    else:
        assert f"**Applies to:** every member account: {described}.\n" in text


def test_every_severity_has_a_deadline() -> None:
    assert set(Review.REMEDIATION_DAYS) == set(SEVERITIES)
