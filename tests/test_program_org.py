"""The organization stack under Pulumi mocks: resources, targets, protection, provider."""

from __future__ import annotations

import contextvars
import json
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi.runtime.mocks import MockMonitor, MockResourceArgs, Mocks

from core.errors import InputError
from core.spec import Spec
from governance.components import OrganizationBaseline, organization_policy_types
from governance.components.org import ou_resource_name
from governance.plan import Plan, evaluate, plan_stack
from governance.policies import build_documents
from governance.policies.model import PolicyDocument
from governance.program import LintBlockedError, build_stack
from governance.spec import load_spec

REPO = Path(__file__).resolve().parents[1]
ORG = "aws:organizations/organization:Organization"
OU = "aws:organizations/organizationalUnit:OrganizationalUnit"
POLICY = "aws:organizations/policy:Policy"
ATTACHMENT = "aws:organizations/policyAttachment:PolicyAttachment"
PROVIDER = "pulumi:providers:aws"
SECURITY = "ivs:governance:SecurityServices"


@pytest.fixture(scope="module")
def spec() -> Spec:
    return load_spec(REPO / "stacks" / "Pulumi.org.yaml")


def _scp(sid: str, action: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Sid": sid, "Effect": "Deny", "Action": action, "Resource": "*"}],
    }


@pytest.fixture(scope="module")
def documents() -> list[PolicyDocument]:
    return [
        PolicyDocument(
            "ivs-scp-root",
            "scp",
            _scp("IVS01DenyLeaveOrganization", "organizations:LeaveOrganization"),
            ("root",),
            description="root guardrails",
        ),
        PolicyDocument(
            "ivs-scp-workloads",
            "scp",
            _scp("IVS04DenyImageExport", "ec2:ExportImage"),
            ("Workloads", "Workloads/Prod", "Sandbox"),
        ),
        PolicyDocument(
            "ivs-tag-workloads",
            "tag",
            {"tags": {"Environment": {"tag_key": {"@@assign": "Environment"}}}},
            ("Workloads", "400000000001"),
        ),
        PolicyDocument(
            "ivs-backup-prod",
            "backup",
            {"plans": {"daily": {"regions": {"@@assign": ["us-east-1"]}}}},
            ("Workloads/Prod", "root"),
        ),
    ]


@pytest.fixture(scope="module")
def plan(spec: Spec, documents: list[PolicyDocument]) -> Plan:
    return evaluate(lambda: _baseline(spec, documents), "org")


def _baseline(spec: Spec, documents: list[PolicyDocument]) -> OrganizationBaseline:
    return OrganizationBaseline("org", spec, documents)


def test_declares_one_of_each_resource_the_spec_and_documents_call_for(
    plan: Plan, spec: Spec, documents: list[PolicyDocument]
) -> None:
    counts = plan.counts()
    assert {t: n for t, n in counts.items() if t.startswith("aws:organizations/")} == {
        ORG: 1,
        OU: len(list(spec.units())),
        POLICY: len(documents),
        ATTACHMENT: sum(len(d.targets) for d in documents),
    }
    # the management account's, and the delegated administrator's (tests/test_program_security)
    assert counts[PROVIDER] == 2
    (component,) = plan.of_type("ivs:governance:OrganizationBaseline")
    (security,) = plan.of_type(SECURITY)
    children = [r for r in plan.resources if r is not component and r.parent != security.urn]
    assert {r.parent for r in children} == {component.urn}


def test_attachment_targets_are_the_spec_root_ou_and_account_ids(
    plan: Plan, spec: Spec, documents: list[PolicyDocument]
) -> None:
    ou_ids = {r.name: r.id for r in plan.of_type(OU)}
    policy_ids = {r.inputs["name"]: r.id for r in plan.of_type(POLICY)}
    (root_attachment, *_) = [
        a for a in plan.of_type(ATTACHMENT) if a.inputs["policyId"] == policy_ids["ivs-scp-root"]
    ]
    root_id = root_attachment.inputs["targetId"]
    assert root_id.startswith("r-")

    def target_id(target: str) -> str:
        if target == "root":
            return str(root_id)
        if target.isdigit():
            return target
        return ou_ids[ou_resource_name("org", target)]

    expected = {(policy_ids[d.name], target_id(t)) for d in documents for t in d.targets}
    actual = {(a.inputs["policyId"], a.inputs["targetId"]) for a in plan.of_type(ATTACHMENT)}
    assert actual == expected
    assert "400000000001" in {t for _, t in actual}  # an account is attached by its own id


def test_ous_nest_under_their_parents(plan: Plan, spec: Spec) -> None:
    by_name = {r.name: r for r in plan.of_type(OU)}
    root_ids = {a.inputs["targetId"] for a in plan.of_type(ATTACHMENT) if a.protect}
    for path, unit in spec.units():
        ou = by_name[ou_resource_name("org", path)]
        assert ou.inputs["name"] == unit.name
        parent_path, _, _ = path.rpartition("/")
        if parent_path:
            assert ou.inputs["parentId"] == by_name[ou_resource_name("org", parent_path)].id
        else:
            assert ou.inputs["parentId"] in root_ids


def test_root_attachments_and_the_organization_are_protected(
    plan: Plan, documents: list[PolicyDocument]
) -> None:
    root_policies = {
        r.id
        for r in plan.of_type(POLICY)
        if r.inputs["name"] in {"ivs-scp-root", "ivs-backup-prod"}
    }
    attachments = plan.of_type(ATTACHMENT)
    root_target = {
        a.inputs["targetId"] for a in attachments if a.inputs["targetId"].startswith("r-")
    }
    assert len(root_target) == 1
    protected = [a for a in attachments if a.protect]
    assert {a.inputs["policyId"] for a in protected} == root_policies
    assert all(a.inputs["targetId"] in root_target for a in protected)
    assert len(protected) == sum("root" in d.targets for d in documents)
    assert plan.of_type(ORG)[0].protect


def test_one_management_provider_serves_every_organizations_resource(
    plan: Plan, spec: Spec
) -> None:
    (provider,) = [p for p in plan.providers() if p.parent != plan.of_type(SECURITY)[0].urn]
    assert json.loads(provider.inputs["allowedAccountIds"]) == [
        spec.organization.management_account_id
    ]
    assert "assumeRoles" not in provider.inputs  # the management account's own credentials
    custom = [r for r in plan.resources if r.type.startswith("aws:organizations/")]
    assert custom and {r.provider for r in custom} == {provider.urn}


def test_policies_carry_minified_content_and_their_api_type(
    plan: Plan, documents: list[PolicyDocument]
) -> None:
    by_name = {r.inputs["name"]: r for r in plan.of_type(POLICY)}
    for doc in documents:
        policy = by_name[doc.name]
        assert policy.inputs["type"] == doc.policy_type
        assert policy.inputs["content"] == json.dumps(doc.content, separators=(",", ":"))
        assert " " not in policy.inputs["content"].replace("root guardrails", "")


def test_enabled_policy_types_cover_every_document_type(
    plan: Plan, documents: list[PolicyDocument]
) -> None:
    (org,) = plan.of_type(ORG)
    assert org.inputs["featureSet"] == "ALL"
    # Trusted service access of an adopted organization is left as it is.
    assert org.ignore_changes == ("awsServiceAccessPrincipals",)
    assert org.inputs["enabledPolicyTypes"] == [
        "BACKUP_POLICY",
        "SERVICE_CONTROL_POLICY",
        "TAG_POLICY",
    ]
    # SCPs stay enabled even without an SCP document (disabling detaches every SCP).
    assert organization_policy_types(documents[2:3]) == ["SERVICE_CONTROL_POLICY", "TAG_POLICY"]


def test_a_target_outside_the_spec_is_refused(spec: Spec) -> None:
    stray = PolicyDocument("stray", "scp", _scp("X", "ec2:ExportImage"), ("Workloads/Test",))
    with pytest.raises(InputError, match=r"stray\.targets: target 'Workloads/Test'"):
        evaluate(lambda: _baseline(spec, [stray]), "org")


# ---- the same component the way Pulumi documents testing it ---------------------------


class _Mocks(Mocks):
    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        state = dict(args.inputs)
        if args.typ == ORG:
            state["roots"] = [{"id": "r-abcd", "arn": "arn", "name": "Root"}]
        return f"{args.name}-id", state

    def call(self, args: Any) -> tuple[dict[str, Any], None]:
        return {}, None


@pytest.fixture
def monitor() -> MockMonitor:
    # Mocks are set before the program is built, per test, so no other module's mocks apply.
    mon = MockMonitor(_Mocks())
    pulumi.runtime.set_mocks(_Mocks(), project="ivs-governance", stack="org", monitor=mon)
    return mon


@pulumi.runtime.test
def test_component_outputs_under_runtime_test(
    monitor: MockMonitor, spec: Spec, documents: list[PolicyDocument]
) -> pulumi.Output[None]:
    org = _baseline(spec, documents)
    prod = org.units["Workloads/Prod"]

    def check(values: list[Any]) -> None:
        root_id, prod_parent, workloads_id, ids, content = values
        assert root_id == "r-abcd"
        assert prod_parent == workloads_id == "org-ou-Workloads-id"
        assert ids == {d.name: f"org-policy-{d.name}-id" for d in documents}
        assert json.loads(content) == documents[0].content

    return pulumi.Output.all(
        org.root_id,
        prod.parent_id,
        org.units["Workloads"].id,
        org.policy_ids,
        org.policies["ivs-scp-root"].content,
    ).apply(check)


# ---- the org stack of the program: built documents, lint first -------------------------


def test_org_stack_deploys_every_built_document(spec: Spec) -> None:
    documents = build_documents(spec)
    plan = plan_stack("org", spec)
    assert plan.counts()[POLICY] == len(documents)
    assert plan.counts()[ATTACHMENT] == sum(len(d.targets) for d in documents)
    assert plan.counts()[OU] == len(list(spec.units()))
    deployed = {r.inputs["name"]: r.inputs["content"] for r in plan.of_type(POLICY)}
    assert deployed == {d.name: json.dumps(d.content, separators=(",", ":")) for d in documents}
    assert set(plan.outputs["policy_ids"]) == {d.name for d in documents}
    assert plan.outputs["attachment_count"] == plan.counts()[ATTACHMENT]
    assert plan.outputs["root_id"].startswith("r-")


def _with_typo(spec: Spec) -> Spec:
    typo = {
        "name": "legacy-volume-guard",
        "type": "scp",
        "targets": ["Workloads"],
        "content": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyUnencrypted",
                    "Effect": "Deny",
                    "Action": "ec2:CreateVolumes",
                    "Resource": "*",
                    "Condition": {
                        "ArnNotLike": {"aws:PrincipalArn": spec.principals.exempt},
                    },
                }
            ],
        },
    }
    return spec.model_validate({**spec.model_dump(by_alias=True), "policies": [typo]})


def test_a_lint_error_stops_the_org_stack_before_any_resource(spec: Spec) -> None:
    bad = _with_typo(spec)
    monitor = MockMonitor(_Mocks())

    def run() -> None:
        pulumi.runtime.set_mocks(_Mocks(), project="ivs-governance", stack="org", monitor=monitor)
        build_stack("org", bad)

    with pytest.raises(LintBlockedError, match="ec2:CreateVolumes") as caught:
        contextvars.copy_context().run(run)
    assert "no resource was declared" in str(caught.value)
    assert all(f.severity == "error" for f in caught.value.findings)
    assert monitor.resources == {}
    with pytest.raises(LintBlockedError, match="legacy-volume-guard"):
        plan_stack("org", bad)
