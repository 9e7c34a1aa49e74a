"""``ivs audit``: the comparisons, Stubber for the calls moto lacks, and moto end to end."""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from audit_support import (
    StubbedAws,
    activate,
    assert_all_answered,
    queue_ec2,
    queue_needs,
    stubbed,
    stubbed_member,
)
from botocore.config import Config
from botocore.exceptions import ClientError
from conftest import EXAMPLE_SPEC, reset_moto
from rich.console import Console
from typer.testing import CliRunner

from core.aws import Aws
from core.jsonio import minify
from core.spec import Spec
from governance import audit
from governance.audit import (
    Check,
    OrganizationState,
    audit_account,
    audit_organization,
    compare_organization,
    first_difference,
    read_organization,
    read_policies,
)
from governance.controls import ACCOUNT_CONTROLS, expected_account_settings
from governance.plan import plan_stack
from governance.policies import build_documents
from governance.spec import spec_from_mapping
from ivs.audit import run_audit
from ivs.cli import app
from sandbox import moto_ext
from sandbox.organization import SeededOrganization, management_aws, seed_organization

TODAY = dt.date(2026, 11, 27)  # the example spec was last reviewed on 2026-03-02
MGMT = "100000000001"
KEY_ALIAS = "arn:aws:kms:us-east-1:300000000002:alias/ivs-ebs-default"
KEY_ARN = "arn:aws:kms:us-east-1:300000000002:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def not_pass(checks: list[Check]) -> list[Check]:
    return [c for c in checks if c.status != "pass"]


# ---- what is expected, and pure comparisons ---------------------------------------------


def test_expected_settings_are_what_the_account_stack_declares(spec: Spec) -> None:
    plan = plan_stack("baseline-400000000001", spec)
    by_type: dict[str, dict[str, dict[str, Any]]] = {}
    for resource in plan.resources:
        if resource.custom and "region" in resource.inputs:
            by_type.setdefault(resource.type, {})[resource.inputs["region"]] = resource.inputs
    for region in spec.regions:
        want = expected_account_settings(spec, "400000000001", region)
        image = by_type["aws:ec2/imageBlockPublicAccess:ImageBlockPublicAccess"][region]
        snapshot = by_type["aws:ebs/snapshotBlockPublicAccess:SnapshotBlockPublicAccess"][region]
        imds = by_type["aws:ec2/instanceMetadataDefaults:InstanceMetadataDefaults"][region]
        assert image["state"] == want.image_block_public_access
        assert snapshot["state"] == want.snapshot_block_public_access
        assert {
            "HttpTokens": imds["httpTokens"],
            "HttpPutResponseHopLimit": imds["httpPutResponseHopLimit"],
            "InstanceMetadataTags": imds["instanceMetadataTags"],
        } == want.imds
        keys = by_type.get("aws:ebs/defaultKmsKey:DefaultKmsKey", {})
        assert (keys[region]["keyArn"] if region in keys else None) == want.kms_key
    # the example's key is an alias in us-east-1, which cannot serve eu-west-1
    assert expected_account_settings(spec, "400000000001", "eu-west-1").kms_key is None


def test_first_difference_names_the_path() -> None:
    expected = {"Statement": [{"Sid": "A", "Action": ["ec2:X"]}], "Version": "2012-10-17"}
    actual = {"Version": "2012-10-17", "Statement": [{"Sid": "A", "Action": ["ec2:Y"]}]}
    assert (
        first_difference(expected, actual)
        == 'Statement[0].Action[0]: expected "ec2:X", found "ec2:Y"'
    )
    assert first_difference({"a": 1}, {}) == "a: missing"
    assert first_difference({"a": [1]}, {"a": [1, 2]}) == "a: 1 items expected, 2 found"


def spec_reviewed(spec_fields: dict[str, Any], last_reviewed: str | None) -> Spec:
    spec_fields["review"]["last_reviewed"] = last_reviewed
    return spec_from_mapping(spec_fields, "test.yaml", base_dir=str(EXAMPLE_SPEC.parent))


@pytest.mark.parametrize(
    ("last_reviewed", "status", "words"),
    [
        ("2026-03-02", "pass", "next review due 2027-03-02"),
        ("2025-11-26", "drift", "review-overdue: 1 days past due"),
        ("2025-11-27", "pass", "next review due 2026-11-27"),
        (None, "drift", "review-overdue: no last review date"),
    ],
)
def test_review_overdue(
    spec_fields: dict[str, Any], last_reviewed: str | None, status: str, words: str
) -> None:
    spec = spec_reviewed(spec_fields, last_reviewed)
    state = OrganizationState(errors={"root": "AccessDenied: no"})
    checks = compare_organization(spec, [], state, today=TODAY)
    (review,) = [c for c in checks if c.control == "review-overdue"]
    assert (review.status, review.account, review.region) == (status, MGMT, "global")
    assert words in review.detail


def test_an_unreadable_organization_is_not_assessed(spec: Spec) -> None:
    state = OrganizationState(errors={"organization": "AccessDenied: x", "root": "AccessDenied: x"})
    checks = compare_organization(spec, build_documents(spec), state, today=TODAY)
    assert not [c for c in checks if c.status == "pass" and c.control != "review-overdue"]
    assert {c.control for c in checks if c.status == "not_assessed"} == {
        "management-account",
        "policy-content",
        "account-ou",
    }


def test_attachments_over_the_limit(spec_fields: dict[str, Any]) -> None:
    spec_fields["limits"] = {"scp_max_per_target": 3}
    spec = spec_from_mapping(spec_fields, "test.yaml", base_dir=str(EXAMPLE_SPEC.parent))
    docs = [d for d in build_documents(spec, check_limits=False) if d.kind == "scp"]
    state = _state_for(spec, docs)
    sandbox_units = state.units or {}
    # FullAWSAccess plus three more at the Sandbox OU: four, over the limit of three
    extra = [
        audit.PolicyState(f"p-extra000{i}", f"extra-{i}", "SERVICE_CONTROL_POLICY", False, {})
        for i in range(2)
    ]
    for policy in extra:
        policy.targets = [sandbox_units["Sandbox"]]
    state.policies["SERVICE_CONTROL_POLICY"] += extra
    checks = compare_organization(spec, docs, state, today=TODAY)
    drift = not_pass(checks)
    assert {(c.control, c.resource) for c in drift} == {
        ("policy-attachment", "extra-0 @ Sandbox"),
        ("policy-attachment", "extra-1 @ Sandbox"),
        ("attachment-count", "SERVICE_CONTROL_POLICY @ Sandbox"),
    }
    (count,) = [c for c in drift if c.control == "attachment-count"]
    assert (count.expected, count.actual) == ("at most 3", 4)


def _state_for(spec: Spec, docs: list[Any]) -> OrganizationState:
    """An organization exactly as the spec says, as :func:`read_organization` would see it."""
    units = {path: f"ou-test-{i:08d}" for i, (path, _) in enumerate(spec.units())}
    ids = {"root": "r-test", **units}
    full_access = audit.PolicyState(
        "p-FullAWSAccess", "FullAWSAccess", "SERVICE_CONTROL_POLICY", True
    )
    full_access.targets = ["r-test", *units.values(), *(a.id for a, _ in spec.accounts())]
    policies: dict[str, list[audit.PolicyState]] = {"SERVICE_CONTROL_POLICY": [full_access]}
    for number, doc in enumerate(docs):
        state = audit.PolicyState(
            f"p-test{number:04d}", doc.name, doc.policy_type, False, doc.content
        )
        state.targets = [ids.get(t, t) for t in doc.targets]
        policies.setdefault(doc.policy_type, []).append(state)
    return OrganizationState(
        management_account_id=MGMT,
        root_id="r-test",
        # the org stack always enables SCPs (FullAWSAccess is attached everywhere above)
        enabled_types={"SERVICE_CONTROL_POLICY", *(d.policy_type for d in docs)},
        units=units,
        account_parents={a.id: path for a, path in spec.accounts()},
        policies=policies,
    )


def test_an_organization_as_the_spec_says_passes(spec: Spec) -> None:
    docs = build_documents(spec)
    checks = compare_organization(spec, docs, _state_for(spec, docs), today=TODAY)
    assert not_pass(checks) == []
    contents = {c.resource for c in checks if c.control == "policy-content"}
    assert contents == {d.name for d in docs}


def test_records_carry_the_controls_they_are_about(spec: Spec) -> None:
    docs = build_documents(spec)
    checks = compare_organization(spec, docs, _state_for(spec, docs), today=TODAY)
    by_doc = {d.name: d.controls for d in docs}
    for check in checks:
        if check.control == "policy-content":
            assert check.controls == by_doc[check.resource]
            assert check.as_dict()["controls"] == list(by_doc[check.resource])
        elif check.control == "policy-attachment" and not check.resource.startswith("Full"):
            assert check.controls == by_doc[check.resource.split(" @ ")[0]]
    builtin = [c for c in checks if c.control == "policy-content" and c.controls]
    assert builtin and {c for check in builtin for c in check.controls} == {
        c for _, controls in spec.targets() for c in controls
    }
    layout = [c for c in checks if c.control in ("ou-exists", "account-ou")]
    assert layout and all(c.controls == () for c in layout)


# ---- Stubber: the calls moto lacks, checked against the real service models -------------


def test_member_settings_pass_from_stubbed_responses(spec: Spec) -> None:
    aws, stubs = stubbed_member(spec)
    queue_ec2(stubs["ec2:us-east-1"], kms_key=KEY_ALIAS)
    queue_ec2(stubs["ec2:eu-west-1"], kms_key=None, managed_by="declarative-policy")
    queue_needs(stubs, spec, "400000000001")
    activate(stubs)
    checks = audit_account(aws, spec, "400000000001")
    assert_all_answered(stubs)
    assert aws.assumed == ["400000000001/OrganizationAccountAccessRole"]
    assert not_pass(checks) == []
    services = ["guardduty-enabled", "inspector-ec2-enabled", "securityhub-enabled"]
    assert [(c.region, c.control) for c in checks] == [
        ("us-east-1", "ebs-encryption-by-default"),
        ("us-east-1", "ebs-default-kms-key"),
        ("us-east-1", "image-block-public-access"),
        ("us-east-1", "snapshot-block-public-access"),
        ("us-east-1", "imds-defaults"),
        ("eu-west-1", "ebs-encryption-by-default"),
        ("eu-west-1", "image-block-public-access"),
        ("eu-west-1", "snapshot-block-public-access"),
        ("eu-west-1", "imds-defaults"),
        ("global", "backup-role"),
        ("us-east-1", "backup-vault"),
        *(("us-east-1", control) for control in services),
        ("eu-west-1", "backup-vault"),
        *(("eu-west-1", control) for control in services),
    ]
    assert checks[8].detail == "managed by declarative-policy"
    assert {c.controls for c in checks[:9]} == {(ACCOUNT_CONTROLS[0].id,)}


def test_member_drift_and_a_failed_call(spec: Spec) -> None:
    aws, stubs = stubbed_member(spec)
    queue_ec2(stubs["ec2:us-east-1"], kms_key=KEY_ALIAS, snapshot="block-new-sharing")
    ec2_eu = stubs["ec2:eu-west-1"]
    ec2_eu.add_response("get_ebs_encryption_by_default", {"EbsEncryptionByDefault": True}, {})
    ec2_eu.add_client_error(
        "get_image_block_public_access_state",
        service_error_code="UnauthorizedOperation",
        service_message="You are not authorized to perform this operation.",
    )
    ec2_eu.add_response(
        "get_snapshot_block_public_access_state", {"State": "block-all-sharing"}, {}
    )
    ec2_eu.add_response(
        "get_instance_metadata_defaults",
        {"AccountLevel": {"HttpTokens": "optional", "HttpPutResponseHopLimit": 1}},
        {},
    )
    queue_needs(stubs, spec, "400000000001")
    activate(stubs)
    checks = audit_account(aws, spec, "400000000001")
    found = {(c.region, c.control): c for c in not_pass(checks)}
    assert set(found) == {
        ("us-east-1", "snapshot-block-public-access"),
        ("eu-west-1", "image-block-public-access"),
        ("eu-west-1", "imds-defaults"),
    }
    snapshot = found[("us-east-1", "snapshot-block-public-access")]
    assert (snapshot.status, snapshot.expected, snapshot.actual) == (
        "drift",
        "block-all-sharing",
        "block-new-sharing",
    )
    image = found[("eu-west-1", "image-block-public-access")]
    assert image.status == "not_assessed"
    assert image.error is not None and image.error.startswith("UnauthorizedOperation")
    imds = found[("eu-west-1", "imds-defaults")]
    assert imds.actual == {
        "HttpTokens": "optional",
        "HttpPutResponseHopLimit": 1,
        "InstanceMetadataTags": None,
    }


def test_an_alias_and_the_key_it_names_are_the_same_key(spec: Spec) -> None:
    aws, stubs = stubbed_member(spec)
    queue_ec2(stubs["ec2:us-east-1"], kms_key=KEY_ARN)
    queue_ec2(stubs["ec2:eu-west-1"], kms_key=None)
    kms = stubs["kms:us-east-1"]
    for key_id in (KEY_ALIAS, KEY_ARN):
        kms.add_response(
            "describe_key",
            {"KeyMetadata": {"KeyId": KEY_ARN.rsplit("/", 1)[1], "Arn": KEY_ARN}},
            {"KeyId": key_id},
        )
    queue_needs(stubs, spec, "400000000001")
    activate(stubs)
    checks = audit_account(aws, spec, "400000000001")
    (key,) = [c for c in checks if c.control == "ebs-default-kms-key"]
    assert key.status == "pass"
    assert key.detail == f"{KEY_ALIAS} is {KEY_ARN}"


def _policy_summary(doc: Any, policy_id: str) -> dict[str, Any]:
    kind = doc.policy_type.lower()
    return {
        "Id": policy_id,
        "Arn": f"arn:aws:organizations::{MGMT}:policy/o-exampleorg/{kind}/{policy_id}",
        "Name": doc.name,
        "Description": doc.description,
        "Type": doc.policy_type,
        "AwsManaged": False,
    }


@pytest.mark.parametrize("policy_type", ["BACKUP_POLICY", "DECLARATIVE_POLICY_EC2"])
def test_backup_and_declarative_policies_read_through_stubber(spec: Spec, policy_type: str) -> None:
    docs = [d for d in build_documents(spec) if d.policy_type == policy_type]
    assert docs
    state = _state_for(spec, docs)
    org, stub = stubbed("organizations", "us-east-1")
    edited = docs[0]
    for edit in (False, True):
        summaries = [_policy_summary(d, f"p-{i:08d}") for i, d in enumerate(docs)]
        stub.add_response("list_policies", {"Policies": summaries}, {"Filter": policy_type})
        for number, doc in enumerate(docs):
            content = dict(doc.content)
            if edit and doc is edited:
                content["tampered"] = {"@@assign": "yes"}
            stub.add_response(
                "describe_policy",
                {"Policy": {"PolicySummary": summaries[number], "Content": minify(content)}},
                {"PolicyId": summaries[number]["Id"]},
            )
            targets = [
                {
                    "TargetId": (state.units or {})[t],
                    "Arn": "arn:aws:organizations::x",
                    "Name": t,
                    "Type": "ORGANIZATIONAL_UNIT",
                }
                for t in doc.targets
            ]
            stub.add_response(
                "list_targets_for_policy",
                {"Targets": targets},
                {"PolicyId": summaries[number]["Id"]},
            )
    with stub, ThreadPoolExecutor(max_workers=1) as pool:
        state.policies[policy_type] = read_policies(org, policy_type, pool)
        clean = compare_organization(spec, docs, state, today=TODAY)
        state.policies[policy_type] = read_policies(org, policy_type, pool)
        tampered = compare_organization(spec, docs, state, today=TODAY)
        stub.assert_no_pending_responses()
    assert not_pass(clean) == []
    (drift,) = not_pass(tampered)
    assert (drift.control, drift.resource, drift.detail) == (
        "policy-content",
        edited.name,
        "tampered: not in the spec",
    )


# ---- moto end to end ---------------------------------------------------------------------


@dataclass
class Sandbox:
    spec: Spec
    endpoint: str
    seeded: SeededOrganization
    mgmt: Aws

    def org(self) -> Any:
        return self.mgmt.client("organizations")

    def member_ec2(self, account_id: str, region: str) -> Any:
        return self.member(account_id, "ec2", region)

    def member(self, account_id: str, service: str, region: str | None = None) -> Any:
        return self.mgmt.assume(account_id, self.spec.member_role_name).client(service, region)


_SANDBOX: dict[str, Sandbox] = {}


def _intact(box: Sandbox) -> bool:
    try:
        described = box.org().describe_organization()["Organization"]
    except ClientError:
        return False
    return bool(described["Id"] == box.seeded.organization_id)


@pytest.fixture
def sandbox(spec: Spec, moto_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """The example organization in moto with every member's baseline, seeded once.

    Reseeded when another test has reset the shared server meanwhile, or when a test of
    this module failed before undoing its change.
    """
    box = _SANDBOX.get("box")
    if box is None or not _intact(box):
        reset_moto(moto_server)
        # moto's default AMIs: thousands per account-region, unused by the audit
        monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
        moto_ext.install()
        aws = Aws(endpoint_url=moto_server)
        seeded = seed_organization(spec, aws)
        moto_ext.seed_unsupported_documents(spec, aws, seeded)
        mgmt = management_aws(spec, aws)
        moto_ext.seed_account_baseline(mgmt, spec, workers=1)
        moto_ext.seed_security_services(mgmt, spec, workers=1)
        box = _SANDBOX["box"] = Sandbox(spec, moto_server, seeded, mgmt)
    clean = False
    try:
        yield box
        clean = True
    finally:
        if not clean:
            _SANDBOX.pop("box", None)


def audit_json(box: Sandbox, aws: Aws | None = None) -> tuple[int, dict[str, Any]]:
    out = io.StringIO()
    code = run_audit(
        EXAMPLE_SPEC,
        endpoint_url=None,
        fmt="json",
        accounts=None,
        aws=aws or box.mgmt,
        today=TODAY,
        console=Console(file=out),
    )
    return code, json.loads(out.getvalue())


@pytest.mark.slow
def test_the_seeded_organization_passes(sandbox: Sandbox) -> None:
    code, report = audit_json(sandbox)
    records = report["records"]
    assert [r for r in records if r["status"] != "pass"] == []
    assert code == 0
    members = [a.id for a, _ in sandbox.spec.accounts()]
    # every member: its OU, five settings per region (the key only where it serves) and
    # three security services per region; under the backup policy, its role and a vault
    # per region
    backed_up = {"400000000001", "400000000002", "500000000001", "500000000002"}
    for account_id in members:
        mine = {(r["region"], r["control"]) for r in records if r["account"] == account_id}
        assert ("global", "account-ou") in mine
        assert ("us-east-1", "ebs-default-kms-key") in mine
        assert ("eu-west-1", "securityhub-enabled") in mine
        assert (("global", "backup-role") in mine) == (account_id in backed_up)
        vaults = 2 if account_id in backed_up else 0
        assert len([m for m in mine if m[0] != "global"]) == 9 + 6 + vaults
    documents = {d.name for d in build_documents(sandbox.spec)}
    assert {r["resource"] for r in records if r["control"] == "policy-content"} == documents
    assert report["summary"] == {"pass": len(records), "drift": 0, "not_assessed": 0, "accepted": 0}


@pytest.mark.slow
def test_the_stand_in_answers_inspector_for_the_caller(sandbox: Sandbox) -> None:
    # AWS answers BatchGetAccountStatus without accountIds for the calling account; moto
    # fails on it once any status is held, unless the sandbox reads it as AWS does
    inspector = sandbox.member("400000000001", "inspector2", "us-east-1")
    (state,) = inspector.batch_get_account_status()["accounts"]
    assert state["accountId"] == "400000000001"
    assert state["resourceState"]["ec2"]["status"] == "ENABLED"


@pytest.mark.slow
def test_the_audit_command_line(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stacks = shutil.copytree(EXAMPLE_SPEC.parent, tmp_path / "stacks")  # with its policy files
    spec_file = stacks / "Pulumi.org.yaml"
    text = EXAMPLE_SPEC.read_text().replace(
        "last_reviewed: 2026-03-02", f"last_reviewed: {dt.date.today().isoformat()}"
    )
    spec_file.write_text(text)
    credentials = sandbox.mgmt.session.get_credentials()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", credentials.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", credentials.secret_key)
    monkeypatch.setenv("AWS_SESSION_TOKEN", credentials.token)
    args = ["audit", "--spec", str(spec_file), "--endpoint-url", sandbox.endpoint]
    result = CliRunner().invoke(app, [*args, "--format", "json", "--account-id", "600000000001"])
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)["records"]
    assert {r["account"] for r in records} == {"600000000001"}
    assert {r["status"] for r in records} == {"pass"}
    table = CliRunner().invoke(app, [*args, "--account-id", "600000000001"])
    assert table.exit_code == 0
    assert "600000000001 (sandbox-alice)" in table.stdout
    assert "ivs audit: 17 pass, 0 drift (0 accepted), 0 not assessed" in table.stdout
    bad = CliRunner().invoke(app, [*args, "--account-id", "999999999999"])
    assert bad.exit_code == 2
    assert "--account-id: 999999999999 is not a member account in the spec" in bad.stderr


def _edit_policy(box: Sandbox) -> Callable[[], None]:
    org, policy_id = box.org(), box.seeded.policies["ivs-scp-workloads-1"]
    original = org.describe_policy(PolicyId=policy_id)["Policy"]["Content"]
    content = json.loads(original)
    content["Statement"][0]["Effect"] = "Allow"
    org.update_policy(PolicyId=policy_id, Content=json.dumps(content, indent=4))
    return lambda: org.update_policy(PolicyId=policy_id, Content=original)


def _reformat_policy(box: Sandbox) -> Callable[[], None]:
    """Whitespace and key order are not drift."""
    org, policy_id = box.org(), box.seeded.policies["ivs-scp-root-1"]
    original = org.describe_policy(PolicyId=policy_id)["Policy"]["Content"]
    content = json.loads(original)
    reordered = dict(reversed(list(content.items())))
    org.update_policy(PolicyId=policy_id, Content=json.dumps(reordered, indent=2))
    return lambda: org.update_policy(PolicyId=policy_id, Content=original)


def _detach(box: Sandbox) -> Callable[[], None]:
    org = box.org()
    policy_id, target = box.seeded.policies["ivs-scp-sandbox-1"], box.seeded.units["Sandbox"]
    org.detach_policy(PolicyId=policy_id, TargetId=target)
    return lambda: org.attach_policy(PolicyId=policy_id, TargetId=target)


def _extra_scp(box: Sandbox) -> Callable[[], None]:
    org = box.org()
    policy_id = org.create_policy(
        Name="console-hotfix",
        Description="attached by hand",
        Type="SERVICE_CONTROL_POLICY",
        Content=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
            }
        ),
    )["Policy"]["PolicySummary"]["Id"]
    org.attach_policy(PolicyId=policy_id, TargetId="500000000001")

    def undo() -> None:
        org.detach_policy(PolicyId=policy_id, TargetId="500000000001")
        org.delete_policy(PolicyId=policy_id)

    return undo


def _ebs_off(box: Sandbox) -> Callable[[], None]:
    ec2 = box.member_ec2("400000000002", "eu-west-1")
    ec2.disable_ebs_encryption_by_default()
    return lambda: ec2.enable_ebs_encryption_by_default() and None


def _vault_deleted(box: Sandbox) -> Callable[[], None]:
    backup = box.member("500000000001", "backup", "eu-west-1")
    backup.delete_backup_vault(BackupVaultName="ivs-backup-vault")
    return lambda: backup.create_backup_vault(BackupVaultName="ivs-backup-vault") and None


def _restore_policy_detached(box: Sandbox) -> Callable[[], None]:
    iam = box.member("400000000002", "iam")
    arn = "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores"
    iam.detach_role_policy(RoleName="ivs-backup-role", PolicyArn=arn)
    return lambda: iam.attach_role_policy(RoleName="ivs-backup-role", PolicyArn=arn) and None


def _detector_deleted(box: Sandbox) -> Callable[[], None]:
    guardduty = box.member("300000000001", "guardduty", "us-east-1")
    (detector,) = guardduty.list_detectors()["DetectorIds"]
    guardduty.delete_detector(DetectorId=detector)
    return lambda: guardduty.create_detector(Enable=True) and None


def _inspector_off(box: Sandbox) -> Callable[[], None]:
    inspector = box.member("200000000001", "inspector2", "eu-west-1")
    inspector.disable(accountIds=["200000000001"], resourceTypes=["EC2"])
    return lambda: inspector.enable(accountIds=["200000000001"], resourceTypes=["EC2"]) and None


def _hub_off(box: Sandbox) -> Callable[[], None]:
    securityhub = box.member("600000000001", "securityhub", "us-east-1")
    securityhub.disable_security_hub()
    return lambda: securityhub.enable_security_hub() and None


def _wrong_ou(box: Sandbox) -> Callable[[], None]:
    org, units = box.org(), box.seeded.units
    org.move_account(
        AccountId="500000000002",
        SourceParentId=units["Workloads/NonProd"],
        DestinationParentId=units["Sandbox"],
    )
    return lambda: org.move_account(
        AccountId="500000000002",
        SourceParentId=units["Sandbox"],
        DestinationParentId=units["Workloads/NonProd"],
    )


def _full_access_detached(box: Sandbox) -> Callable[[], None]:
    # AWS refuses to detach a target's last SCP: Workloads/Prod keeps its own.
    org, target = box.org(), box.seeded.units["Workloads/Prod"]
    org.detach_policy(PolicyId="p-FullAWSAccess", TargetId=target)
    return lambda: org.attach_policy(PolicyId="p-FullAWSAccess", TargetId=target)


DRIFTS: dict[str, tuple[Callable[[Sandbox], Callable[[], None]], dict[str, Any] | None]] = {
    "policy content edited": (
        _edit_policy,
        {
            "account": MGMT,
            "region": "global",
            "control": "policy-content",
            "resource": "ivs-scp-workloads-1",
        },
    ),
    "policy reformatted only": (_reformat_policy, None),
    "attachment removed": (
        _detach,
        {
            "account": MGMT,
            "region": "global",
            "control": "policy-attachment",
            "resource": "ivs-scp-sandbox-1 @ Sandbox",
            "expected": "attached",
            "actual": "not attached",
        },
    ),
    "extra SCP attached": (
        _extra_scp,
        {
            "account": "500000000001",
            "region": "global",
            "control": "policy-attachment",
            "resource": "console-hotfix @ 500000000001",
            "expected": "not attached",
            "actual": "attached",
        },
    ),
    "FullAWSAccess detached from an OU": (
        _full_access_detached,
        {
            "account": MGMT,
            "region": "global",
            "control": "policy-attachment",
            "resource": "FullAWSAccess @ Workloads/Prod",
            "expected": "attached",
            "actual": "not attached",
        },
    ),
    "EBS encryption off in one region of one account": (
        _ebs_off,
        {
            "account": "400000000002",
            "region": "eu-west-1",
            "control": "ebs-encryption-by-default",
            "expected": True,
            "actual": False,
        },
    ),
    "backup vault deleted in one region": (
        _vault_deleted,
        {
            "account": "500000000001",
            "region": "eu-west-1",
            "control": "backup-vault",
            "resource": "ivs-backup-vault",
            "expected": "present",
            "actual": "missing",
        },
    ),
    "restore policy detached from the backup role": (
        _restore_policy_detached,
        {
            "account": "400000000002",
            "region": "global",
            "control": "backup-role",
            "resource": "ivs-backup-role",
            "detail": "AWSBackupServiceRolePolicyForRestores not attached",
        },
    ),
    "GuardDuty detector deleted": (
        _detector_deleted,
        {
            "account": "300000000001",
            "region": "us-east-1",
            "control": "guardduty-enabled",
            "actual": "no detector",
            "controls": ["security-services"],
        },
    ),
    "Inspector EC2 scanning off": (
        _inspector_off,
        {
            "account": "200000000001",
            "region": "eu-west-1",
            "control": "inspector-ec2-enabled",
            "expected": "ENABLED",
            "actual": "DISABLED",
        },
    ),
    "Security Hub disabled": (
        _hub_off,
        {
            "account": "600000000001",
            "region": "us-east-1",
            "control": "securityhub-enabled",
            "actual": "not enabled",
        },
    ),
    "account in the wrong OU": (
        _wrong_ou,
        {
            "account": "500000000002",
            "region": "global",
            "control": "account-ou",
            "expected": "Workloads/NonProd",
            "actual": "Sandbox",
        },
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(DRIFTS))
def test_each_drift_is_reported_exactly_once(sandbox: Sandbox, name: str) -> None:
    introduce, expected = DRIFTS[name]
    undo = introduce(sandbox)
    try:
        code, report = audit_json(sandbox)
    finally:
        undo()
    drift = [r for r in report["records"] if r["status"] != "pass"]
    if expected is None:
        assert (code, drift) == (0, [])
        return
    assert code == 1
    assert len(drift) == 1, drift
    (record,) = drift
    assert record["status"] == "drift"
    assert {key: record[key] for key in expected} == expected
    if name == "policy content edited":
        assert record["detail"] == 'Statement[0].Effect: expected "Deny", found "Allow"'
        assert record["expected"]["Statement"][0]["Effect"] == "Deny"


@dataclass
class DenyingAws(Aws):
    """The management account's clients, where one member's role cannot be assumed."""

    denied: str = ""

    def assume(self, account_id: str, role_name: str, session_name: str = "ivs-governance") -> Aws:
        if account_id == self.denied:
            raise ClientError(
                {
                    "Error": {
                        "Code": "AccessDenied",
                        "Message": f"not authorized to assume {role_name}",
                    }
                },
                "AssumeRole",
            )
        return super().assume(account_id, role_name, session_name)


@pytest.mark.slow
def test_an_account_whose_role_cannot_be_assumed_is_not_assessed(sandbox: Sandbox) -> None:
    denying = DenyingAws(
        endpoint_url=sandbox.endpoint, session=sandbox.mgmt.session, denied="600000000001"
    )
    code, report = audit_json(sandbox, denying)
    regional = [
        r for r in report["records"] if r["account"] == "600000000001" and r["region"] != "global"
    ]
    assert len(regional) == 9 + 6  # the settings, and the security services
    assert {r["status"] for r in regional} == {"not_assessed"}
    assert all(
        r["error"].startswith("cannot assume OrganizationAccountAccessRole: AccessDenied")
        for r in regional
    )
    others = [r for r in report["records"] if r["account"] != "600000000001"]
    assert {r["status"] for r in others} == {"pass"}
    assert report["summary"]["not_assessed"] == 15
    assert code == 0  # nothing drifted; what could not be read is reported, not passed


@pytest.mark.slow
def test_the_tables_show_each_account(sandbox: Sandbox) -> None:
    out = io.StringIO()
    undo = _ebs_off(sandbox)
    try:
        code = run_audit(
            EXAMPLE_SPEC,
            endpoint_url=None,
            fmt="text",
            accounts=["400000000002"],
            aws=sandbox.mgmt,
            today=TODAY,
            console=Console(file=out, width=200),
        )
    finally:
        undo()
    text = out.getvalue()
    assert code == 1
    assert "400000000002 (web-prod)" in text
    assert "expected true, found false" in text
    assert (
        "ivs audit: 19 pass, 1 drift (0 accepted), 0 not assessed" in text
    )  # 10 settings, 6 services, vault, role


def test_audit_organization_scoped_to_accounts_reads_only_those(spec: Spec) -> None:
    # a stand-in whose organization cannot be read and whose members all deny: nothing passes
    class Unreachable(StubbedAws):
        def client(self, service: str, region: str | None = None) -> Any:
            client, stub = stubbed(service, region or "us-east-1")
            stub.activate()  # no responses queued: every call fails
            return client

        def assume(self, account_id: str, role_name: str, session_name: str = "") -> Aws:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "AssumeRole")

    result = audit_organization(spec, Unreachable(), accounts=["600000000001"], today=TODAY)
    assert {c.account for c in result.checks} == {"600000000001"}
    assert {c.status for c in result.checks} == {"not_assessed"}


def test_each_member_account_is_reported_done_once(spec: Spec) -> None:
    class Unreachable(StubbedAws):
        def client(self, service: str, region: str | None = None) -> Any:
            client, stub = stubbed(service, region or "us-east-1")
            stub.activate()
            return client

        def assume(self, account_id: str, role_name: str, session_name: str = "") -> Aws:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "AssumeRole")

    done: list[str] = []
    chosen = ["600000000001", "400000000001", "500000000002"]
    audit_organization(
        spec, Unreachable(), accounts=chosen, today=TODAY, on_account_done=done.append
    )
    assert sorted(done) == sorted(chosen)


# ---- whatever fails, the audit goes on and says what it could not read --------------------


class _HtmlErrors(BaseHTTPRequestHandler):
    """An endpoint that answers every request with a 500 and a web framework's HTML page,
    which botocore cannot parse: it raises ResponseParserError, not a ClientError."""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        body = (
            b"<!doctype html>\n<html lang=en><title>500 Internal Server Error</title>\n"
            b"<h1>Internal Server Error</h1><p>The server encountered an internal error.</p>"
        )
        self.send_response(500)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def html_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    # one attempt per call: retrying a 503 eight times would only slow the test
    monkeypatch.setattr(
        "core.aws.RETRY_CONFIG", Config(retries={"mode": "standard", "max_attempts": 1})
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HtmlErrors)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class HtmlForOneAws(Aws):
    """The management account's clients, where one member's endpoint answers HTML 5xx."""

    broken: str = ""
    html: str = ""

    def assume(self, account_id: str, role_name: str, session_name: str = "ivs-governance") -> Aws:
        member = super().assume(account_id, role_name, session_name)
        if account_id == self.broken:
            return Aws(endpoint_url=self.html, account_id=account_id, session=member.session)
        return member


@pytest.mark.slow
def test_an_account_answering_html_5xx_is_not_assessed_and_the_rest_is_reported(
    sandbox: Sandbox, html_endpoint: str
) -> None:
    # botocore raises ResponseParserError, not a ClientError, for such an answer
    aws = HtmlForOneAws(
        endpoint_url=sandbox.endpoint,
        session=sandbox.mgmt.session,
        broken="400000000002",
        html=html_endpoint,
    )
    code, report = audit_json(sandbox, aws)
    # what is read in the account itself (its OU and attachments are read in the
    # management account)
    broken = [
        r
        for r in report["records"]
        if r["account"] == "400000000002"
        and (r["region"] != "global" or r["control"] == "backup-role")
    ]
    assert len(broken) == 9 + 6 + 2 + 1
    assert {r["status"] for r in broken} == {"not_assessed"}
    # XML services' clients cannot parse the page (ResponseParserError); JSON services'
    # read it as a ClientError whose code is the HTTP status: not assessed either way
    assert {r["error"].split(":")[0] for r in broken} == {"ResponseParserError", "500"}
    parse_errors = {r["control"] for r in broken if r["error"].startswith("ResponseParserError")}
    assert {"ebs-encryption-by-default", "backup-role"} <= parse_errors
    assert all(len(r["error"]) <= audit.ERROR_CHARS for r in broken)
    others = [r for r in report["records"] if r not in broken]
    assert others and {r["status"] for r in others} == {"pass"}
    assert code == 0


@pytest.mark.slow
def test_fail_on_not_assessed_makes_a_partial_audit_fail(sandbox: Sandbox) -> None:
    denying = DenyingAws(
        endpoint_url=sandbox.endpoint, session=sandbox.mgmt.session, denied="600000000001"
    )
    arguments: dict[str, Any] = {
        "endpoint_url": None,
        "fmt": "json",
        "accounts": None,
        "aws": denying,
        "today": TODAY,
    }
    assert run_audit(EXAMPLE_SPEC, **arguments, console=Console(file=io.StringIO())) == 0
    strict = run_audit(
        EXAMPLE_SPEC, **arguments, console=Console(file=io.StringIO()), fail_on_not_assessed=True
    )
    assert strict == 1


def test_an_endpoint_that_answers_nothing_is_exit_2_with_the_first_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        "core.aws.RETRY_CONFIG",
        Config(retries={"mode": "standard", "max_attempts": 1}, connect_timeout=2),
    )
    # port 9 (discard) on loopback: nothing listens, every call is refused
    run = CliRunner().invoke(
        app,
        ["audit", "--spec", str(EXAMPLE_SPEC), "--endpoint-url", "http://127.0.0.1:9"],
    )
    assert run.exit_code == 2, run.output
    (line,) = run.stderr.strip().splitlines()
    assert line.startswith("ivs: nothing could be assessed: ")
    assert "EndpointConnectionError" in line
    assert "not assessed" in run.stdout  # the records are printed still


def test_every_enabled_policy_type_is_read() -> None:
    org, stub = stubbed("organizations", "us-east-1")
    stub.add_response(
        "describe_organization",
        {"Organization": {"Id": "o-test", "MasterAccountId": MGMT}},
        {},
    )
    enabled = [
        {"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"},
        {"Type": "RESOURCE_CONTROL_POLICY", "Status": "ENABLED"},
    ]
    stub.add_response("list_roots", {"Roots": [{"Id": "r-test", "PolicyTypes": enabled}]}, {})
    stub.add_response(
        "list_organizational_units_for_parent", {"OrganizationalUnits": []}, {"ParentId": "r-test"}
    )
    stub.add_response("list_accounts_for_parent", {"Accounts": []}, {"ParentId": "r-test"})
    summary = {"Id": "p-byhand00", "Name": "by-hand", "Type": "RESOURCE_CONTROL_POLICY"}
    stub.add_response(
        "list_policies",
        {"Policies": [{**summary, "AwsManaged": False}]},
        {"Filter": "RESOURCE_CONTROL_POLICY"},
    )
    stub.add_response(
        "describe_policy",
        {"Policy": {"PolicySummary": summary, "Content": '{"Version":"2012-10-17"}'}},
        {"PolicyId": "p-byhand00"},
    )
    stub.add_response("list_targets_for_policy", {"Targets": []}, {"PolicyId": "p-byhand00"})
    stub.add_response("list_policies", {"Policies": []}, {"Filter": "SERVICE_CONTROL_POLICY"})
    with stub, ThreadPoolExecutor(max_workers=1) as pool:
        state = read_organization(org, ["SERVICE_CONTROL_POLICY"], pool)
        stub.assert_no_pending_responses()
    assert [p.name for p in state.policies["RESOURCE_CONTROL_POLICY"]] == ["by-hand"]


def test_an_unmanaged_rcp_and_an_undeclared_policy_type_are_drift(spec: Spec) -> None:
    docs = build_documents(spec)
    state = _state_for(spec, docs)
    assert state.enabled_types is not None and state.units is not None
    state.enabled_types.add("RESOURCE_CONTROL_POLICY")
    managed = audit.PolicyState(
        "p-RCPFullAWSAccess", "RCPFullAWSAccess", "RESOURCE_CONTROL_POLICY", True
    )
    managed.targets = ["r-test", *state.units.values()]
    by_hand = audit.PolicyState("p-byhand00", "by-hand", "RESOURCE_CONTROL_POLICY", False, {})
    by_hand.targets = [state.units["Workloads"]]
    state.policies["RESOURCE_CONTROL_POLICY"] = [managed, by_hand]
    drift = not_pass(compare_organization(spec, docs, state, today=TODAY))
    assert {(c.control, c.resource, c.status) for c in drift} == {
        ("policy-type-enabled", "RESOURCE_CONTROL_POLICY", "drift"),
        ("policy-attachment", "by-hand @ Workloads", "drift"),
    }
    typed = next(c for c in drift if c.control == "policy-type-enabled")
    assert (typed.expected, typed.actual) == (
        "not enabled (no document of the spec is of this type)",
        "ENABLED",
    )
