"""``ivs policy-doc``: the written IVS policy from the spec."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLE_SPEC
from typer.testing import CliRunner

from core.spec import Spec
from governance.controls import CONTROLS_BY_ID
from governance.policies import build_documents
from governance.policydoc import render_policy_doc, write_policy_doc
from governance.spec import spec_from_mapping
from ivs.cli import app

TODAY = dt.date(2026, 11, 27)


def section(text: str, heading: str) -> str:
    """The text of one ``###`` section."""
    start = text.index(heading)
    following = text.find("\n### ", start + 1)
    ends = [i for i in (following, text.find("\n## ", start + 1)) if i != -1]
    return text[start : min(ends)] if ends else text[start:]


@pytest.fixture(scope="module")
def doc(spec: Spec) -> str:
    return render_policy_doc(spec, today=TODAY)


def test_header_names_owner_approval_and_review(doc: str) -> None:
    assert doc.startswith("# Infrastructure and Virtualization Security Policy\n")
    assert "| Policy owner | Cloud Centre of Excellence |" in doc
    assert "| Approved by | Chief Information Security Officer, on 2026-03-02 |" in doc
    assert "| Last reviewed | 2026-03-02 |" in doc
    assert "| Next review due | 2027-03-02 (at least every 365 days) |" in doc
    assert "Review overdue" not in doc


def test_scope_lists_regions_ous_and_accounts(spec: Spec, doc: str) -> None:
    scope = doc[doc.index("## 2. Scope") : doc.index("## 3. Controls")]
    assert "**Governed regions:** us-east-1, eu-west-1." in scope
    assert "9 member accounts in 6 organizational units" in scope
    for account, _ in spec.accounts():
        assert f"- {account.name} ({account.id})" in scope
    assert "  - **Prod** (`Workloads/Prod`)\n    - payments-prod (400000000001)" in scope


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


def test_baseline_exceptions_and_custom_policies(spec: Spec, doc: str) -> None:
    baseline = section(doc, "Per-account virtual machine baseline")
    assert "`block-new-sharing`" in baseline and "`block-all-sharing`" in baseline
    assert "`baseline-<account-id>`" in baseline
    assert "- pipeline: `arn:aws:iam::*:role/ivs-pipeline`" in doc
    assert "- break-glass: `arn:aws:iam::*:role/BreakGlass`" in doc
    (custom,) = spec.policies
    assert f"- service control policy `{custom.name}`: {custom.description}; attached to" in doc


def test_ccm_mapping_covers_every_ccm_id(spec: Spec, doc: str) -> None:
    mapping = doc[doc.index("## 7. CCM mapping") :]
    ids = {ccm for c in CONTROLS_BY_ID.values() for ccm in c.ccm}
    rows = set(re.findall(r"^\| ([A-Z]{3}-\d\d) ", mapping, re.MULTILINE))
    assert rows == ids | {"IVS-01"}
    assert "| IVS-01 Infrastructure and Virtualization Security Policy and Procedures |" in mapping


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
    assert "own policies" not in text


def test_same_spec_same_day_same_text(spec: Spec) -> None:
    assert render_policy_doc(spec, today=TODAY) == render_policy_doc(spec, today=TODAY)


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


def test_command_line(tmp_path: Path) -> None:
    out = tmp_path / "policy.md"
    result = CliRunner().invoke(app, ["policy-doc", "--spec", str(EXAMPLE_SPEC), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"wrote {out}"
    assert "## 3. Controls" in out.read_text()
    missing = CliRunner().invoke(
        app, ["policy-doc", "--spec", str(tmp_path / "nope.yaml"), "--out", str(out)]
    )
    assert missing.exit_code == 2
    assert "nope.yaml: cannot read" in missing.stderr


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
    mapping = doc[doc.index("## 7. CCM mapping") :]
    assert "| IVS-09 Network Defense | `protect-flow-logs`, `restrict-igw-attach`, " in mapping
    assert "`security-services` |" in mapping
    evaluation = doc[doc.index("## 6. Evaluation") : doc.index("## 7. CCM")]
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
    spec_fields["fleet"] = fleet
    spec = spec_from_mapping(spec_fields, "test.yaml", base_dir=str(EXAMPLE_SPEC.parent))
    text = render_policy_doc(spec, today=TODAY)
    evaluation = text[text.index("## 6. Evaluation") : text.index("## 7. CCM")]
    if described is None:
        assert "(`security-services`)" not in text and "`security-services` |" not in text
        assert "delegated administrator" not in evaluation
    else:
        assert f"**Applies to:** every member account: {described}.\n" in text
