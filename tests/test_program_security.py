"""The org stack's delegated administration of GuardDuty, Inspector and Security Hub, under
Pulumi mocks: who designates, who configures, in which regions, in which order."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest
from pulumi.runtime.mocks import MockMonitor, MockResourceArgs, Mocks

from core.errors import InputError
from core.spec import Spec
from governance.components import OrganizationBaseline, SecurityServices
from governance.plan import Plan, PlannedResource, plan_stack
from governance.spec import spec_from_mapping

ADMIN = "200000000002"  # audit, in the example spec
MGMT = "100000000001"
GD_DETECTOR = "aws:guardduty/detector:Detector"
GD_ADMIN = "aws:guardduty/organizationAdminAccount:OrganizationAdminAccount"
GD_CONFIG = "aws:guardduty/organizationConfiguration:OrganizationConfiguration"
INSPECTOR_ADMIN = "aws:inspector2/delegatedAdminAccount:DelegatedAdminAccount"
INSPECTOR_CONFIG = "aws:inspector2/organizationConfiguration:OrganizationConfiguration"
INSPECTOR_ENABLER = "aws:inspector2/enabler:Enabler"
HUB_ACCOUNT = "aws:securityhub/account:Account"
HUB_ADMIN = "aws:securityhub/organizationAdminAccount:OrganizationAdminAccount"
HUB_CONFIG = "aws:securityhub/organizationConfiguration:OrganizationConfiguration"
HUB_MEMBER = "aws:securityhub/member:Member"
DESIGNATIONS = {GD_ADMIN, INSPECTOR_ADMIN, HUB_ADMIN}
ORGANIZATION = "aws:organizations/organization:Organization"
SERVICE_TYPES = {
    GD_DETECTOR,
    GD_ADMIN,
    GD_CONFIG,
    INSPECTOR_ADMIN,
    INSPECTOR_CONFIG,
    INSPECTOR_ENABLER,
    HUB_ACCOUNT,
    HUB_ADMIN,
    HUB_CONFIG,
    HUB_MEMBER,
}


@pytest.fixture(scope="module")
def plan(spec: Spec) -> Plan:
    return plan_stack("org", spec)


def _fleet(spec_fields: dict[str, Any], **fleet: Any) -> Spec:
    spec_fields["fleet"] = fleet
    return spec_from_mapping(spec_fields, "test.yaml", base_dir=spec_fields.get("base_dir", "."))


def _in(plan: Plan, type_: str, region: str) -> list[PlannedResource]:
    return [r for r in plan.of_type(type_) if r.inputs["region"] == region]


def _providers(plan: Plan) -> tuple[PlannedResource, PlannedResource]:
    (security,) = plan.of_type("ivs:governance:SecurityServices")
    (admin,) = [p for p in plan.providers() if p.parent == security.urn]
    (management,) = [p for p in plan.providers() if p is not admin]
    return management, admin


def test_the_example_spec_names_the_audit_account(spec: Spec) -> None:
    assert spec.fleet.delegated_admin_account == ADMIN
    assert spec.account(ADMIN)[0].name == "audit"


def test_the_management_account_designates_and_the_administrator_configures(
    plan: Plan, spec: Spec
) -> None:
    management, admin = _providers(plan)
    assert json.loads(management.inputs["allowedAccountIds"]) == [MGMT]
    assert json.loads(admin.inputs["allowedAccountIds"]) == [ADMIN]
    assert json.loads(admin.inputs["assumeRoles"]) == [
        {
            "roleArn": f"arn:aws:iam::{ADMIN}:role/OrganizationAccountAccessRole",
            "sessionName": "ivs-security-services",
        }
    ]
    services = [r for r in plan.resources if r.type in SERVICE_TYPES]
    assert services
    for resource in services:
        expected = management if resource.type in DESIGNATIONS else admin
        assert resource.provider == expected.urn, resource.name
    for designation in [r for r in services if r.type in DESIGNATIONS]:
        admin_id = designation.inputs.get("adminAccountId") or designation.inputs["accountId"]
        assert admin_id == ADMIN


def test_every_governed_region_gets_each_service_once(plan: Plan, spec: Spec) -> None:
    members = [a.id for a, _ in spec.accounts() if a.id != ADMIN]
    for region in spec.regions:
        for type_ in SERVICE_TYPES - {INSPECTOR_ENABLER, HUB_MEMBER}:
            assert len(_in(plan, type_, region)) == 1, (type_, region)
        # Security Hub: one member per existing account; Inspector: the administrator
        # and the members, in two enablers
        hub_members = sorted(r.inputs["accountId"] for r in _in(plan, HUB_MEMBER, region))
        assert hub_members == sorted(members)
        assert all(r.inputs["invite"] is False for r in _in(plan, HUB_MEMBER, region))
        enablers = sorted(r.inputs["accountIds"] for r in _in(plan, INSPECTOR_ENABLER, region))
        assert enablers == sorted([[ADMIN], members])
        assert {tuple(r.inputs["resourceTypes"]) for r in _in(plan, INSPECTOR_ENABLER, region)} == {
            ("EC2",)
        }
    found = {r.inputs["region"] for r in plan.resources if r.type in SERVICE_TYPES}
    assert found == set(spec.regions)


def test_auto_enable_for_the_members(plan: Plan, spec: Spec) -> None:
    for region in spec.regions:
        (guardduty,) = _in(plan, GD_CONFIG, region)
        assert guardduty.inputs["autoEnableOrganizationMembers"] == "ALL"
        (detector,) = _in(plan, GD_DETECTOR, region)
        assert detector.inputs["enable"] is True
        assert guardduty.inputs["detectorId"] == detector.id  # the administrator's detector
        (inspector,) = _in(plan, INSPECTOR_CONFIG, region)
        assert inspector.inputs["autoEnable"] == {"ec2": True, "ecr": False}
        (hub,) = _in(plan, HUB_CONFIG, region)
        assert hub.inputs["autoEnable"] is True


def test_designation_waits_for_the_organization_and_configuration_for_designation(
    plan: Plan, spec: Spec
) -> None:
    (organization,) = plan.of_type(ORGANIZATION)
    for region in spec.regions:
        (detector,) = _in(plan, GD_DETECTOR, region)
        (hub,) = _in(plan, HUB_ACCOUNT, region)
        before = {GD_ADMIN: detector.urn, HUB_ADMIN: hub.urn, INSPECTOR_ADMIN: None}
        for type_, first in before.items():
            (designation,) = _in(plan, type_, region)
            assert organization.urn in designation.dependencies
            if first is not None:  # the administrator's own detector or hub comes first
                assert first in designation.dependencies
        waits = {
            GD_CONFIG: GD_ADMIN,
            INSPECTOR_CONFIG: INSPECTOR_ADMIN,
            INSPECTOR_ENABLER: INSPECTOR_ADMIN,
            HUB_CONFIG: HUB_ADMIN,
            HUB_MEMBER: HUB_ADMIN,
        }
        for type_, designated_by in waits.items():
            (designation,) = _in(plan, designated_by, region)
            for resource in _in(plan, type_, region):
                assert designation.urn in resource.dependencies, resource.name


def test_only_the_services_listed(spec_fields: dict[str, Any], spec: Spec) -> None:
    spec_fields["base_dir"] = spec.base_dir
    only = _fleet(spec_fields, delegated_admin_account=ADMIN, security_services=["guardduty"])
    plan = plan_stack("org", only)
    types = {r.type for r in plan.resources if r.type in SERVICE_TYPES}
    assert types == {GD_DETECTOR, GD_ADMIN, GD_CONFIG}
    hub_only = _fleet(spec_fields, delegated_admin_account=ADMIN, security_services=["securityhub"])
    types = {r.type for r in plan_stack("org", hub_only).resources if r.type in SERVICE_TYPES}
    assert types == {HUB_ACCOUNT, HUB_ADMIN, HUB_CONFIG, HUB_MEMBER}


@pytest.mark.parametrize(
    "fleet",
    [
        {},  # no delegated administrator
        {"security_services": ["guardduty", "securityhub"]},
        {"delegated_admin_account": ADMIN, "security_services": ["config"]},  # not delegated
    ],
)
def test_nothing_without_an_administrator_or_a_delegated_service(
    spec_fields: dict[str, Any], spec: Spec, fleet: dict[str, Any]
) -> None:
    spec_fields["base_dir"] = spec.base_dir
    plan = plan_stack("org", _fleet(spec_fields, **fleet))
    assert [r for r in plan.resources if r.type in SERVICE_TYPES] == []
    assert plan.of_type("ivs:governance:SecurityServices") == []
    assert len(plan.providers()) == 1  # no provider process for the administrator


@pytest.mark.parametrize(
    ("admin", "message"),
    [
        ("999999999999", "account 999999999999 is not a member account of the spec"),
        (MGMT, f"account {MGMT} is not a member account of the spec"),
        ("audit", "must be a 12-digit AWS account id"),
    ],
)
def test_the_administrator_is_a_member_account(
    spec_fields: dict[str, Any], admin: str, message: str
) -> None:
    with pytest.raises(InputError, match=message) as caught:
        _fleet(spec_fields, delegated_admin_account=admin)
    assert "ivs.fleet.delegated_admin_account" in str(caught.value)


def test_another_member_role_and_three_regions(spec_fields: dict[str, Any], spec: Spec) -> None:
    spec_fields["base_dir"] = spec.base_dir
    spec_fields["regions"] = ["us-east-1", "eu-west-1", "ap-southeast-2"]
    spec_fields["member_role_name"] = "ivs-deployer"
    spec_fields["fleet"] = {"delegated_admin_account": "300000000002"}
    plan = plan_stack("org", spec_from_mapping(spec_fields, "test.yaml", base_dir=spec.base_dir))
    _, admin = _providers(plan)
    assert json.loads(admin.inputs["assumeRoles"])[0]["roleArn"] == (
        "arn:aws:iam::300000000002:role/ivs-deployer"
    )
    assert {r.inputs["region"] for r in plan.of_type(GD_ADMIN)} == set(spec_fields["regions"])
    assert {r.inputs["adminAccountId"] for r in plan.of_type(HUB_ADMIN)} == {"300000000002"}
    assert "300000000002" not in {r.inputs["accountId"] for r in plan.of_type(HUB_MEMBER)}
    assert ADMIN in {r.inputs["accountId"] for r in plan.of_type(HUB_MEMBER)}


# ---- the same component the way Pulumi documents testing it ---------------------------


class _Mocks(Mocks):
    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        state = dict(args.inputs)
        if args.typ == ORGANIZATION:
            state["roots"] = [{"id": "r-abcd", "arn": "arn", "name": "Root"}]
        return f"{args.name}-id", state

    def call(self, args: Any) -> tuple[dict[str, Any], None]:
        return {}, None


@pytest.fixture
def monitor() -> MockMonitor:
    mon = MockMonitor(_Mocks())
    pulumi.runtime.set_mocks(_Mocks(), project="ivs-governance", stack="org", monitor=mon)
    return mon


@pulumi.runtime.test
def test_component_outputs_under_runtime_test(
    monitor: MockMonitor, spec: Spec
) -> pulumi.Output[None]:
    org = OrganizationBaseline("org", spec, [])
    security = org.security
    assert isinstance(security, SecurityServices)
    assert security.services == ("guardduty", "inspector-ec2", "securityhub")
    made = security.resources["eu-west-1"]
    detector, designation, configuration = made[:3]

    def check(values: list[Any]) -> None:
        detector_id, admin_id, configured_detector, auto_enable, region = values
        assert detector_id == "org-security-eu-west-1-guardduty-detector-id"
        assert admin_id == ADMIN
        assert configured_detector == detector_id
        assert auto_enable == "ALL"
        assert region == "eu-west-1"

    return pulumi.Output.all(
        detector.id,
        designation.admin_account_id,  # type: ignore[attr-defined]
        configuration.detector_id,  # type: ignore[attr-defined]
        configuration.auto_enable_organization_members,  # type: ignore[attr-defined]
        configuration.region,  # type: ignore[attr-defined]
    ).apply(check)
