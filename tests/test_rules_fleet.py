"""The fleet posture rules on account-region data, each positive with a near miss beside it,
absent data never read as "off", and ``prevented_by`` at the root, at an OU and nowhere."""

from __future__ import annotations

from typing import Any

import pytest

from core.spec import Spec
from graph import model as m
from graph.fleet import FLEET_KINDS, Place
from graph.rules import fleet

MEMBER, OTHER_MEMBER, OUTSIDE = "400000000001", "500000000001", "999999999999"
GOLDEN = "300000000002"  # the example spec's approved image owner (shared services)
REGION = "us-east-1"
COLLECTED = "2026-12-01T00:00:00Z"
EVERY_KIND = FLEET_KINDS


def posture(spec: Spec | None, organization: str | None = "o-ours12345") -> fleet.Posture:
    return fleet.posture_of(spec, COLLECTED, [MEMBER, OTHER_MEMBER], organization)


def instance(name: str = "i-1", **fields: Any) -> m.Instance:
    base: dict[str, Any] = {
        "tags": {
            "Environment": "prod",
            "DataClassification": "internal",
            "ComplianceScope": "none",
            "Owner": "team",
        },
        "image_id": "ami-good",
        "http_tokens": "required",
        "http_endpoint": "enabled",
    }
    base.update(fields)
    state = base.pop("state", "running")
    return m.Instance(name, MEMBER, REGION, state, None, None, **base)


def image(name: str = "ami-good", **fields: Any) -> m.MachineImage:
    base: dict[str, Any] = {
        "owner": GOLDEN,
        "public": False,
        "state": "available",
        "creation_date": "2026-10-01T00:00:00.000Z",
    }
    base.update(fields)
    return m.MachineImage(name, MEMBER, REGION, **base)


def arn(instance_id: str) -> str:
    return f"arn:aws:ec2:{REGION}:{MEMBER}:instance/{instance_id}"


def place(**fields: Any) -> Place:
    base: dict[str, Any] = {
        "seen": EVERY_KIND,
        "instances": [instance()],
        "images": [image()],
        "managed_instances": {"i-1": "Online"},
        "protected": {arn("i-1"): "2026-11-30T03:00:00+00:00"},
        "detectors": [m.Detector("d1", "ENABLED")],
        "inspector_ec2": "ENABLED",
        "security_hub": True,
        "recorders": {"default": True},
    }
    base.update(fields)
    return Place(MEMBER, REGION, **base)


def found(p: Place, spec: Spec | None, organization: str | None = "o-ours12345") -> dict[str, Any]:
    return {(f.rule, f.resource): f for f in fleet.decide([p], posture(spec, organization))}


def test_a_healthy_place_raises_nothing(spec: Spec) -> None:
    assert found(place(), spec) == {}


def test_unencrypted_volumes_and_their_prevention(spec: Spec) -> None:
    volumes = [
        m.Volume("vol-plain", MEMBER, REGION, False, "in-use", None, ["i-1"]),
        m.Volume("vol-sealed", MEMBER, REGION, True, "in-use", None, ["i-1"]),
    ]
    result = found(place(volumes=volumes), spec)
    (key,) = result
    assert key == ("ebs-volume-unencrypted", "vol-plain")
    # payments-prod sits in Workloads/Prod: EBS encryption by default at the root, the SCP
    # denying unencrypted volumes at Workloads
    assert result[key].extra["prevented_by"] == [
        {"control": "ebs-encryption-default", "at": "root"},
        {"control": "deny-unencrypted-volumes", "at": "Workloads"},
    ]


def test_public_and_outside_sharing_of_snapshots(spec: Spec) -> None:
    snapshots = [
        m.EbsSnapshot(s, MEMBER, REGION, MEMBER, True, None, None)
        for s in ("snap-public", "snap-outside", "snap-member", "snap-private")
    ]
    permissions = {
        "snap-public": [m.Permission(group="all")],
        "snap-outside": [m.Permission(user_id=OUTSIDE)],
        "snap-member": [m.Permission(user_id=OTHER_MEMBER)],  # the trap: a member account
        "snap-private": [],
    }
    result = found(place(snapshots=snapshots, snapshot_permissions=permissions), spec)
    assert set(result) == {
        ("snapshot-public", "snap-public"),
        ("snapshot-shared-outside-organization", "snap-outside"),
    }
    assert (
        OUTSIDE in result[("snapshot-shared-outside-organization", "snap-outside")].path[0]["why"]
    )
    # nothing in the spec stops sharing with an outside account: the gap
    assert (
        result[("snapshot-shared-outside-organization", "snap-outside")].extra["prevented_by"] == []
    )


def test_images_shared_by_organization_and_ou_arns() -> None:
    ours = "arn:aws:organizations::100000000001:organization/o-ours12345"
    theirs = "arn:aws:organizations::888888888888:organization/o-theirs9999"
    images = [
        image("ami-good"),  # the golden image account's, not this account's to share
        image("ami-ours", owner=MEMBER),
        image("ami-theirs", owner=MEMBER),
        image("ami-open", owner=MEMBER, public=True),
    ]
    permissions = {
        "ami-ours": [m.Permission(organization_arn=ours)],
        "ami-theirs": [m.Permission(organization_arn=theirs)],
    }
    result = found(place(images=images, image_permissions=permissions), None)
    assert set(result) == {
        ("image-shared-outside-organization", "ami-theirs"),
        ("image-public", "ami-open"),
    }
    # without our organization's id an organization ARN cannot be judged: not reported
    unknown = found(place(images=images, image_permissions=permissions), None, organization=None)
    assert set(unknown) == {("image-public", "ami-open")}


def test_images_of_others_are_not_the_account_s_to_share() -> None:
    foreign = image("ami-amazon", owner="137112412989", public=True, owner_alias="amazon")
    assert found(place(images=[image(), foreign]), None) == {}


def test_imdsv1_allowed_and_its_near_misses() -> None:
    instances = [
        instance("i-1"),
        instance("i-v1", http_tokens="optional"),
        instance("i-off", http_tokens="optional", http_endpoint="disabled"),
        instance("i-unknown", http_tokens=None),  # not in the data: unknown, not "v1"
        instance("i-gone", http_tokens="optional", state="terminated"),
    ]
    managed = {i.id: "Online" for i in instances}
    protected = {arn(i.id): "2026-11-30T03:00:00+00:00" for i in instances}
    result = found(place(instances=instances, managed_instances=managed, protected=protected), None)
    assert set(result) == {("instance-imdsv1-allowed", "i-v1")}


def test_unapproved_and_outdated_images(spec: Spec) -> None:
    images = [
        image("ami-good"),
        image("ami-own", owner=MEMBER),  # the account's own: not an approved owner either
        image("ami-amazon", owner="137112412989", owner_alias="amazon"),
        image("ami-old", creation_date="2025-01-01T00:00:00.000Z"),
    ]
    instances = [instance(f"i-{n}", image_id=i.id) for n, i in enumerate(images)]
    result = found(
        place(
            instances=instances,
            images=images,
            managed_instances={i.id: "Online" for i in instances},
            protected={arn(i.id): "2026-11-30T03:00:00+00:00" for i in instances},
        ),
        spec,
    )
    assert set(result) == {("instance-unapproved-image", "i-1"), ("instance-image-outdated", "i-3")}
    # approved: 300000000002 by id and Amazon by alias; the account's own images are not,
    # as the SCP built from the same parameter (ec2:Owner) does not allow them either
    assert result[("instance-unapproved-image", "i-1")].extra["prevented_by"] == [
        {"control": "approved-ami-owners", "at": "Workloads"}
    ]


@pytest.fixture
def own_images_approved(spec: Spec) -> Spec:
    parameters = dict(spec.parameters)
    parameters["approved_ami_owners"] = [*parameters["approved_ami_owners"], MEMBER]
    return spec.model_copy(update={"parameters": parameters})


def test_required_tags_absent_or_not_allowed(own_images_approved: Spec) -> None:
    instances = [
        instance("i-1"),
        instance("i-bare", tags={}),
        instance("i-wrong", tags={**instance().tags, "Environment": "Production"}),
        instance("i-stopped", tags={}, state="stopped"),  # stopped instances are in scope
    ]
    result = found(
        place(
            instances=instances,
            managed_instances={i.id: "Online" for i in instances},
            protected={arn(i.id): "2026-11-30T03:00:00+00:00" for i in instances},
        ),
        own_images_approved,
    )
    assert set(result) == {
        ("instance-missing-required-tags", "i-bare"),
        ("instance-missing-required-tags", "i-wrong"),
        ("instance-missing-required-tags", "i-stopped"),
    }
    assert (
        "Environment=Production is not one of"
        in result[("instance-missing-required-tags", "i-wrong")].path[0]["why"]
    )


def test_backups_and_ssm_and_absent_data(own_images_approved: Spec) -> None:
    instances = [
        instance("i-1"),
        instance("i-old"),
        instance("i-none"),
        instance("i-stopped", state="stopped"),
    ]
    protected = {
        arn("i-1"): "2026-11-30T03:00:00+00:00",
        arn("i-old"): "2026-11-01T03:00:00+00:00",
        arn("i-stopped"): "2026-11-30T03:00:00+00:00",
    }
    managed = {"i-1": "Online", "i-old": "ConnectionLost", "i-none": "Online"}
    p = place(instances=instances, protected=protected, managed_instances=managed)
    result = found(p, own_images_approved)
    assert set(result) == {
        ("instance-no-recent-backup", "i-old"),
        ("instance-no-recent-backup", "i-none"),
        ("instance-not-managed", "i-old"),  # stopped instances are out of its scope
    }
    # a region that did not answer the backup or SSM reads has no such findings
    unseen = EVERY_KIND - {"BackupProtectedResources", "InstanceInformationList"}
    assert found(place(instances=instances, seen=unseen), own_images_approved) == {}


def test_detection_services_off_and_unknown(spec: Spec) -> None:
    off = place(
        detectors=[m.Detector("d1", "DISABLED")],
        inspector_ec2="DISABLED",
        security_hub=False,
        recorders={"default": False},
    )
    result = found(off, spec)
    assert {rule for rule, _ in result} >= {
        "guardduty-disabled",
        "inspector-ec2-disabled",
        "securityhub-disabled",
        "config-recorder-off",
    }
    assert all(
        resource == MEMBER for rule, resource in result if rule in fleet.SERVICE_RULES.values()
    )
    # files never collected: nothing is said about the services
    silent = place(
        detectors=[], inspector_ec2=None, security_hub=False, recorders={}, seen=frozenset()
    )
    assert found(silent, spec) == {}
    # an empty answer is a real "none"
    none = place(detectors=[], recorders={})
    assert {rule for rule, _ in found(none, spec)} == {"guardduty-disabled", "config-recorder-off"}


def test_services_the_spec_does_not_ask_for_are_not_checked(spec: Spec) -> None:
    fleet_settings = spec.fleet.model_copy(update={"security_services": ["guardduty"]})
    narrowed = spec.model_copy(update={"fleet": fleet_settings})
    off = place(detectors=[], inspector_ec2="DISABLED", security_hub=False, recorders={})
    assert {rule for rule, _ in found(off, narrowed)} == {"guardduty-disabled"}


def test_the_delegated_administrator_prevents_service_findings(spec: Spec) -> None:
    fleet_settings = spec.fleet.model_copy(update={"delegated_admin_account": "200000000002"})
    with_admin = spec.model_copy(update={"fleet": fleet_settings})
    result = found(place(detectors=[]), with_admin)
    assert result[("guardduty-disabled", MEMBER)].extra["prevented_by"] == [
        {"control": "security-services", "at": "delegated admin 200000000002"}
    ]
    without = spec.fleet.model_copy(update={"delegated_admin_account": None})
    no_admin = spec.model_copy(update={"fleet": without})
    assert (
        found(place(detectors=[]), no_admin)[("guardduty-disabled", MEMBER)].extra["prevented_by"]
        == []
    )
