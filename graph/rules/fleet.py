"""Fleet posture: what already exists, whatever prevents new ones.

Every control the baseline deploys acts going forward; these rules read what the
snapshot holds (volumes, snapshots, images, instances, the detection services of each
account-region) and say, for each finding, which controls of the spec stop new ones and
where they are attached (``prevented_by``; empty: nothing does, the gap worth a CCoE's
attention).

- ``ebs-volume-unencrypted``: a volume that is not encrypted;
- ``snapshot-public`` / ``snapshot-shared-outside-organization``: an owned snapshot whose
  create-volume permission names ``all``, or an account, organization or OU that is not
  the organization's;
- ``image-public`` / ``image-shared-outside-organization``: the same for owned images
  (``Public``, or a launch permission);
- ``instance-imdsv1-allowed``: ``HttpTokens`` ``optional`` with the endpoint on;
- ``instance-unapproved-image`` / ``instance-image-outdated``: the image an instance runs
  is not of an approved owner (``parameters.approved_ami_owners``: account ids or aliases
  such as ``amazon``), or older than ``fleet.max_image_age_days``;
- ``instance-missing-required-tags``: a required tag (``parameters.required_tags``) is
  absent, or its value is not an allowed one (keys are case-sensitive);
- ``instance-no-recent-backup``: no AWS Backup recovery point within
  ``fleet.max_backup_age_days``;
- ``instance-not-managed``: a running instance SSM does not see online;
- ``guardduty-disabled``, ``inspector-ec2-disabled``, ``securityhub-disabled``,
  ``config-recorder-off``: one finding per account-region (``resource`` is the account),
  for the services ``fleet.security_services`` lists.

Absent data is never read as "disabled": a rule needs the files it reads (a region that
did not answer ListProtectedResources has no backup findings, and is listed under
``kinds_not_seen``); terminated instances are out of scope, stopped ones in scope except
for ``instance-not-managed``; ages are measured from the manifest's ``collected_at``
(DESIGN.md, "Findings").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.spec import ROOT, Spec
from graph import model as m
from graph.fleet import Place
from graph.rules.base import ExposureRule, Found

EBS_UNENCRYPTED = ExposureRule(
    "ebs-volume-unencrypted",
    "An EBS volume is not encrypted",
    "medium",
    ("CEK-03", "IVS-04"),
    "An unencrypted volume, and every snapshot of it, can be read by whoever gets a copy; "
    "encryption by default and the SCP stop new ones, not the ones made before.",
    "Copy the data to an encrypted volume (snapshot, copy the snapshot encrypted, restore) "
    "and delete the unencrypted one.",
    needs=("Volumes",),
)
SNAPSHOT_PUBLIC = ExposureRule(
    "snapshot-public",
    "An EBS snapshot is public",
    "critical",
    ("DSP-17", "IVS-04"),
    "Anyone with an AWS account can create a volume from a public snapshot and read the "
    "disk (AWS Security Hub EC2.1).",
    "Remove the 'all' create-volume permission; turn on snapshot block public access.",
    needs=("Snapshots", "SnapshotAttributes"),
)
SNAPSHOT_SHARED = ExposureRule(
    "snapshot-shared-outside-organization",
    "An EBS snapshot is shared outside the organization",
    "high",
    ("DSP-17",),
    "An account outside the organization can create a volume from the snapshot and read the disk.",
    "Remove the create-volume permission of the outside account, or share with the "
    "organization's accounts only.",
    needs=("Snapshots", "SnapshotAttributes", "Accounts", "Organization"),
)
IMAGE_PUBLIC = ExposureRule(
    "image-public",
    "An AMI is public",
    "high",
    ("DSP-17", "IVS-04"),
    "A public image lets anyone launch a copy of the disk it was made from, with whatever "
    "it holds (keys, data, configuration).",
    "Make the image private; turn on image block public access.",
    needs=("Images", "ImageAttributes"),
)
IMAGE_SHARED = ExposureRule(
    "image-shared-outside-organization",
    "An AMI is shared outside the organization",
    "high",
    ("DSP-17",),
    "An account outside the organization can launch the image and read its disks.",
    "Remove the launch permission of the outside account or organization.",
    needs=("Images", "ImageAttributes", "Accounts", "Organization"),
)
IMDSV1 = ExposureRule(
    "instance-imdsv1-allowed",
    "An instance still allows IMDSv1",
    "high",
    ("IVS-04",),
    "IMDSv1 answers any request from the instance, so one server-side request forgery "
    "hands out the role's credentials (AWS Security Hub EC2.8).",
    "Set HttpTokens to required on the instance (ModifyInstanceMetadataOptions) after "
    "checking its software uses IMDSv2.",
    needs=(),
)
UNAPPROVED_IMAGE = ExposureRule(
    "instance-unapproved-image",
    "An instance runs an image of an unapproved owner",
    "medium",
    ("IVS-04",),
    "Images from owners outside the approved list carry software nobody vetted.",
    "Rebuild the instance from an image of an approved owner.",
    reads=("parameters",),
    needs=("Images",),
)
OUTDATED_IMAGE = ExposureRule(
    "instance-image-outdated",
    "An instance runs an outdated image",
    "low",
    ("IVS-04",),
    "An old image means an old base system: missing patches, unless patched in place.",
    "Rebuild from a current golden image, or patch in place and record it.",
    reads=("fleet.max_image_age_days",),
    needs=("Images",),
)
MISSING_TAGS = ExposureRule(
    "instance-missing-required-tags",
    "An instance lacks a required tag",
    "medium",
    ("DSP-04", "IVS-05"),
    "Without its classification tags an instance is in no zone, no backup selection and "
    "no owner's list: the controls that key on tags pass it by.",
    "Tag the instance with every required key and an allowed value.",
    reads=("parameters",),
    needs=(),
)
NO_BACKUP = ExposureRule(
    "instance-no-recent-backup",
    "An instance has no recent backup",
    "medium",
    ("BCR-08",),
    "Without a recent recovery point a lost or encrypted-by-ransomware instance is lost.",
    "Tag the instance for the backup plan (or add it to a plan) and check the next job.",
    reads=("fleet.max_backup_age_days",),
    needs=("BackupProtectedResources",),
)
NOT_MANAGED = ExposureRule(
    "instance-not-managed",
    "A running instance is not managed by SSM",
    "low",
    ("IVS-04",),
    "An instance Systems Manager does not see is not patched, inventoried or reached without SSH.",
    "Install or start the SSM agent and give the instance a role with "
    "AmazonSSMManagedInstanceCore.",
    needs=("InstanceInformationList",),
)
GUARDDUTY_OFF = ExposureRule(
    "guardduty-disabled",
    "GuardDuty is off in an account-region",
    "high",
    ("LOG-05", "IVS-09"),
    "Without GuardDuty nothing watches for compromised instances, credentials or crypto "
    "mining in this account-region.",
    "Enable GuardDuty (best: from the delegated administrator, auto-enabled for members).",
    reads=("fleet.security_services",),
    needs=("GuardDutyDetectors",),
)
INSPECTOR_OFF = ExposureRule(
    "inspector-ec2-disabled",
    "Inspector does not scan EC2 in an account-region",
    "medium",
    ("IVS-04",),
    "Without Inspector's EC2 scanning nobody learns of the vulnerable packages the instances run.",
    "Enable Amazon Inspector EC2 scanning (from the delegated administrator).",
    reads=("fleet.security_services",),
    needs=("InspectorAccountStatus",),
)
SECURITYHUB_OFF = ExposureRule(
    "securityhub-disabled",
    "Security Hub is off in an account-region",
    "medium",
    ("LOG-05",),
    "Findings of this account-region reach no one's queue.",
    "Enable Security Hub (from the delegated administrator, auto-enabled for members).",
    reads=("fleet.security_services",),
    needs=("SecurityHub",),
)
CONFIG_OFF = ExposureRule(
    "config-recorder-off",
    "AWS Config records nothing in an account-region",
    "medium",
    ("LOG-05",),
    "Without a recording configuration recorder there is no history of what changed.",
    "Create and start a configuration recorder (or deploy it with the baseline).",
    reads=("fleet.security_services",),
    needs=("ConfigurationRecordersStatus",),
)

RULES: tuple[ExposureRule, ...] = (
    EBS_UNENCRYPTED,
    SNAPSHOT_PUBLIC,
    SNAPSHOT_SHARED,
    IMAGE_PUBLIC,
    IMAGE_SHARED,
    IMDSV1,
    UNAPPROVED_IMAGE,
    OUTDATED_IMAGE,
    MISSING_TAGS,
    NO_BACKUP,
    NOT_MANAGED,
    GUARDDUTY_OFF,
    INSPECTOR_OFF,
    SECURITYHUB_OFF,
    CONFIG_OFF,
)

#: The controls of the spec that stop new findings of each rule (their ids, as names).
PREVENTED_BY: dict[str, tuple[str, ...]] = {
    "ebs-volume-unencrypted": ("deny-unencrypted-volumes", "ebs-encryption-default"),
    "snapshot-public": ("deny-public-images-snapshots", "ec2-declarative-policy"),
    "snapshot-shared-outside-organization": (),
    "image-public": ("deny-public-images-snapshots", "ec2-declarative-policy"),
    "image-shared-outside-organization": (),
    "instance-imdsv1-allowed": ("require-imdsv2", "ec2-declarative-policy"),
    "instance-unapproved-image": ("approved-ami-owners",),
    "instance-image-outdated": (),
    "instance-missing-required-tags": ("require-tags-on-launch", "tag-policy"),
    "instance-no-recent-backup": ("backup-policy",),
    "instance-not-managed": (),
}
#: The services each service rule is about (``fleet.security_services``).
SERVICE_RULES = {
    "guardduty": "guardduty-disabled",
    "inspector-ec2": "inspector-ec2-disabled",
    "securityhub": "securityhub-disabled",
    "config": "config-recorder-off",
}
_SERVICE_OF = {rule: service for service, rule in SERVICE_RULES.items()}
#: Which services the delegated administrator turns on for new members.
AUTO_ENABLED = ("guardduty", "inspector-ec2", "securityhub")
_OUT_OF_SCOPE = ("terminated", "shutting-down")


@dataclass
class Posture:
    """What the rules read besides the snapshot: the organization, the spec's
    expectations, and when the snapshot was taken."""

    spec: Spec | None
    collected_at: dt.datetime | None
    #: accounts of the organization (the management account too); empty: not known
    members: frozenset[str] = frozenset()
    organization_id: str | None = None
    _prevented: dict[tuple[str, str], list[dict[str, str]]] = field(
        default_factory=dict, repr=False
    )
    _targets: dict[str, list[str]] | None = field(default=None, repr=False)

    def parameters(self, account: str) -> Mapping[str, Any]:
        if self.spec is None:
            return {}
        return self.spec.parameters_for(self._path(account))

    def _path(self, account: str) -> str:
        assert self.spec is not None
        try:
            return self.spec.account(account)[1]
        except KeyError:
            return ROOT

    def prevented_by(self, rule: str, account: str) -> list[dict[str, str]]:
        """Where the controls that stop new findings of ``rule`` are attached on the path of
        ``account`` (root, then each OU): ``[{"control", "at"}]``."""
        key = (rule, account)
        known = self._prevented.get(key)
        if known is None:
            known = self._prevented[key] = self._prevention(rule, account)
        return [dict(entry) for entry in known]

    def _prevention(self, rule: str, account: str) -> list[dict[str, str]]:
        if self.spec is None:
            return []
        service = _SERVICE_OF.get(rule)
        if service is not None:
            admin = self.spec.fleet.delegated_admin_account
            if admin and service in AUTO_ENABLED and service in self.spec.fleet.security_services:
                return [{"control": "security-services", "at": f"delegated admin {admin}"}]
            return []
        wanted = PREVENTED_BY.get(rule, ())
        path = self._path(account)
        levels = [ROOT]
        if path != ROOT:
            parts = path.split("/")
            levels += ["/".join(parts[: n + 1]) for n in range(len(parts))]
        if self._targets is None:
            self._targets = dict(self.spec.targets())
        controls = self._targets
        return [
            {"control": control, "at": level}
            for level in levels
            for control in controls.get(level, [])
            if control in wanted
        ]

    def outside(self, permission: m.Permission, owner: str) -> bool | None:
        """Whether a permission names someone outside the organization (None: cannot say)."""
        if permission.user_id:
            if permission.user_id == owner:
                return False
            return permission.user_id not in self.members if self.members else None
        for arn in (permission.organization_arn, permission.ou_arn):
            if arn:
                if self.organization_id is None:
                    return None
                return f"/{self.organization_id}" not in arn and not arn.endswith(
                    self.organization_id
                )
        return False


def posture_of(
    spec: Spec | None,
    collected_at: str | None,
    accounts: Iterable[str] = (),
    organization_id: str | None = None,
) -> Posture:
    """The posture context: the organization's accounts are the spec's (with the
    management account) and those ``organization/Accounts.json`` lists."""
    members = set(accounts)
    if spec is not None:
        members.add(spec.organization.management_account_id)
        members |= {account.id for account, _ in spec.accounts()}
    return Posture(spec, _when(collected_at), frozenset(members), organization_id)


#: What each posture rule counts against (``inventory`` of the findings document).
COUNTED: dict[str, str] = {
    "ebs-volume-unencrypted": "volumes",
    "snapshot-public": "snapshots",
    "snapshot-shared-outside-organization": "snapshots",
    "image-public": "images",
    "image-shared-outside-organization": "images",
    **{
        rule.id: "instances"
        for rule in (IMDSV1, UNAPPROVED_IMAGE, OUTDATED_IMAGE, MISSING_TAGS, NO_BACKUP, NOT_MANAGED)
    },
    **{rule: "account-regions" for rule in SERVICE_RULES.values()},
}


def inventory(places: Iterable[Place]) -> list[dict[str, Any]]:
    """What each account-region holds that the posture rules judge (the totals a rule's
    failing count is out of): volumes, owned snapshots and images, instances in scope."""
    return [
        {
            "account": p.account,
            "region": p.region,
            "volumes": len(p.volumes),
            "snapshots": sum(1 for s in p.snapshots if s.owner == p.account),
            "images": sum(1 for i in p.images if i.owner == p.account),
            "instances": sum(1 for i in p.instances if i.state not in _OUT_OF_SCOPE),
            "account-regions": 1,
        }
        for p in places
    ]


def _when(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _found(
    rule: ExposureRule, resource: str, place: Place, why: list[tuple[str, str]], posture: Posture
) -> Found:
    return Found(
        rule.id,
        resource,
        place.account,
        place.region,
        None,
        place.account,
        path=[{"hop": hop, "why": words} for hop, words in why],
        extra={"prevented_by": posture.prevented_by(rule.id, place.account)},
    )


def decide(places: Iterable[Place], posture: Posture) -> Iterator[Found]:
    for place in places:
        yield from _disks(place, posture)
        yield from _instances(place, posture)
        yield from _services(place, posture)


def _shared(
    rule_public: ExposureRule,
    rule_shared: ExposureRule,
    resource: str,
    owner: str,
    permissions: Sequence[m.Permission],
    public: bool,
    place: Place,
    posture: Posture,
    what: str,
) -> Iterator[Found]:
    if public or any(p.group == "all" for p in permissions):
        yield _found(rule_public, resource, place, [(resource, f"{what}: all (public)")], posture)
    outside = [p for p in permissions if posture.outside(p, owner)]
    if outside:
        names = ", ".join(p.user_id or p.organization_arn or p.ou_arn or "" for p in outside)
        yield _found(rule_shared, resource, place, [(resource, f"{what}: {names}")], posture)


def _disks(place: Place, posture: Posture) -> Iterator[Found]:
    for volume in place.volumes:
        if not volume.encrypted and volume.state not in ("deleting", "deleted"):
            attached = (
                f", attached to {', '.join(volume.instance_ids)}" if volume.instance_ids else ""
            )
            yield _found(
                EBS_UNENCRYPTED,
                volume.id,
                place,
                [(volume.id, f"Encrypted false{attached}")],
                posture,
            )
    if "SnapshotAttributes" in place.seen:
        for snapshot in place.snapshots:
            if snapshot.owner != place.account:
                continue
            yield from _shared(
                SNAPSHOT_PUBLIC,
                SNAPSHOT_SHARED,
                snapshot.id,
                place.account,
                place.snapshot_permissions.get(snapshot.id, ()),
                False,
                place,
                posture,
                "createVolumePermission",
            )
    for image in place.images:
        if image.owner != place.account:
            continue
        permissions = place.image_permissions.get(image.id, ())
        if "ImageAttributes" not in place.seen and not image.public:
            continue
        yield from _shared(
            IMAGE_PUBLIC,
            IMAGE_SHARED,
            image.id,
            place.account,
            permissions,
            image.public,
            place,
            posture,
            "launchPermission",
        )


def _instances(place: Place, posture: Posture) -> Iterator[Found]:
    images = {image.id: image for image in place.images}
    parameters = posture.parameters(place.account)
    approved = [str(o) for o in parameters.get("approved_ami_owners") or []]
    required = parameters.get("required_tags") or {}
    spec = posture.spec
    max_image = dt.timedelta(days=spec.fleet.max_image_age_days) if spec else None
    max_backup = dt.timedelta(days=spec.fleet.max_backup_age_days) if spec else None
    for instance in place.instances:
        if instance.state in _OUT_OF_SCOPE:
            continue
        arn = f"arn:aws:ec2:{place.region}:{place.account}:instance/{instance.id}"
        if instance.http_tokens == "optional" and instance.http_endpoint != "disabled":
            why = [(instance.id, "MetadataOptions.HttpTokens optional, HttpEndpoint enabled")]
            yield _found(IMDSV1, instance.id, place, why, posture)
        image = images.get(instance.image_id or "")
        if image is not None and approved and "Images" in place.seen:
            owner_ok = image.owner in approved or (image.owner_alias or "") in approved
            if not owner_ok:
                alias = f" ({image.owner_alias})" if image.owner_alias else ""
                why = [
                    (instance.id, f"runs {image.id}"),
                    (image.id, f"owner {image.owner}{alias} is not in {', '.join(approved)}"),
                ]
                yield _found(UNAPPROVED_IMAGE, instance.id, place, why, posture)
        created = _when(image.creation_date) if image is not None else None
        if created and max_image and posture.collected_at:
            age = posture.collected_at - created
            if age > max_image:
                why = [
                    (instance.id, f"runs {image.id if image else ''}"),
                    (
                        instance.image_id or "",
                        f"created {image.creation_date if image else ''}, "
                        f"{age.days} days before the snapshot (at most {max_image.days})",
                    ),
                ]
                yield _found(OUTDATED_IMAGE, instance.id, place, why, posture)
        if required:
            wrong = []
            for key, allowed in required.items():
                value = instance.tags.get(key)
                if value is None:
                    wrong.append(f"{key} missing")
                elif allowed and value not in allowed:
                    wrong.append(f"{key}={value} is not one of {', '.join(map(str, allowed))}")
            if wrong:
                why = [(instance.id, "; ".join(wrong))]
                yield _found(MISSING_TAGS, instance.id, place, why, posture)
        if "BackupProtectedResources" in place.seen and max_backup and posture.collected_at:
            last = _when(place.protected.get(arn))
            if last is None or posture.collected_at - last > max_backup:
                said = (
                    f"last recovery point {place.protected[arn]}" if last else "no recovery point"
                )
                why = [(instance.id, f"{said} (at most {max_backup.days} days old wanted)")]
                yield _found(NO_BACKUP, instance.id, place, why, posture)
        if (
            "InstanceInformationList" in place.seen
            and instance.state == "running"
            and place.managed_instances.get(instance.id) != "Online"
        ):
            status = place.managed_instances.get(instance.id)
            why = [(instance.id, f"SSM ping status {status}" if status else "not known to SSM")]
            yield _found(NOT_MANAGED, instance.id, place, why, posture)


def _services(place: Place, posture: Posture) -> Iterator[Found]:
    services = posture.spec.fleet.security_services if posture.spec else list(SERVICE_RULES)
    wanted = {SERVICE_RULES[s] for s in services}
    account = place.account
    detectors = place.detectors
    if (
        "guardduty-disabled" in wanted
        and "GuardDutyDetectors" in place.seen
        and not any(d.status == "ENABLED" for d in detectors)
    ):
        said = ", ".join(f"{d.id} {d.status}" for d in place.detectors) or "no detector"
        yield _found(GUARDDUTY_OFF, account, place, [(account, said)], posture)
    if "inspector-ec2-disabled" in wanted and place.inspector_ec2 not in (None, "ENABLED"):
        why = [(account, f"EC2 scanning {place.inspector_ec2}")]
        yield _found(INSPECTOR_OFF, account, place, why, posture)
    if "securityhub-disabled" in wanted and "SecurityHub" in place.seen and not place.security_hub:
        yield _found(SECURITYHUB_OFF, account, place, [(account, "not subscribed")], posture)
    if (
        "config-recorder-off" in wanted
        and "ConfigurationRecordersStatus" in place.seen
        and not any(place.recorders.values())
    ):
        said = ", ".join(f"{n} stopped" for n in place.recorders) or "no recorder"
        yield _found(CONFIG_OFF, account, place, [(account, said)], posture)
