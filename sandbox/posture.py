"""The fleet as common practice leaves it, in the demo organization.

Run after the workloads are seeded: in every account and governed region GuardDuty has
an enabled detector, Security Hub is on and AWS Config records (with its delivery channel);
every instance reports to SSM and has a recovery point from the last night's backup.
Together with how ``sandbox.seeding`` launches instances (IMDSv2 only, the required
classification tags) and moto encrypting new volumes where the baseline turned EBS
encryption by default on (``sandbox.moto_fleet``), the posture rules have nothing to say
about the fleet unless something is planted.

:func:`plant_posture` then plants what a brownfield organization has (each a ``mistake``
of ``sandbox.world.PLANTED``): a volume made unencrypted before the baseline, a snapshot
of it shared with an account outside the organization, an image made public, an instance
still allowing IMDSv1, one running an image of an unapproved owner, one without its
classification tags, one with no recent backup, GuardDuty off in one account-region;
and a trap that only looks wrong: a snapshot shared with another member account.

Amazon Inspector is left as moto has it: its BatchGetAccountStatus fails once an account is
enabled and the call names no account, so the demo's status file lists no account and the
Inspector rule, rightly, says nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from core.aws import Aws
from sandbox import moto_fleet


def enable_services(aws: Aws, account: str, region: str) -> None:
    """GuardDuty, Security Hub and a recording AWS Config in one account-region."""
    guardduty = aws.client("guardduty", region)
    if not guardduty.list_detectors()["DetectorIds"]:  # the delegated admin may have
        guardduty.create_detector(Enable=True)
    securityhub = aws.client("securityhub", region)
    try:
        securityhub.describe_hub()
    except securityhub.exceptions.InvalidAccessException:  # not subscribed yet
        securityhub.enable_security_hub()
    bucket = f"ivs-config-{account}-{region}"
    s3 = aws.client("s3", region)
    if region == "us-east-1":
        s3.create_bucket(Bucket=bucket)
    else:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    config = aws.client("config", region)
    role = (
        f"arn:aws:iam::{account}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"
    )
    config.put_configuration_recorder(
        ConfigurationRecorder={
            "name": "default",
            "roleARN": role,
            "recordingGroup": {"allSupported": True},
        }
    )
    config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": bucket})
    config.start_configuration_recorder(ConfigurationRecorderName="default")


def manage_instances(aws: Aws, account: str, region: str, now: dt.datetime) -> int:
    """Every instance of the account-region reports to SSM and was backed up last night."""
    backed_up = (now - dt.timedelta(hours=20)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    count = 0
    pages = aws.client("ec2", region).get_paginator("describe_instances").paginate()
    for page in pages:
        for reservation in page["Reservations"]:
            for instance in reservation["Instances"]:
                if instance["State"]["Name"] in ("terminated", "shutting-down"):
                    continue
                instance_id = instance["InstanceId"]
                moto_fleet.register_managed_instance(account, region, instance_id)
                arn = f"arn:aws:ec2:{region}:{account}:instance/{instance_id}"
                moto_fleet.register_protected_resource(account, region, arn, "EC2", backed_up)
                count += 1
    return count


def seed_posture(
    member: Callable[[str], Aws], accounts: Iterable[str], regions: Iterable[str]
) -> None:
    """Common practice in every account-region of the organization."""
    now = dt.datetime.now(dt.UTC)
    wanted = list(regions)
    for account in accounts:
        aws = member(account)
        for region in wanted:
            enable_services(aws, account, region)
            manage_instances(aws, account, region, now)


#: An account outside the organization (shared with by mistake).
OUTSIDER = "999988887777"


def plant_posture(
    member: Callable[[str], Aws], ids: dict[str, str], where: dict[str, dict[str, str]]
) -> dict[str, str]:
    """The brownfield plants. ``where`` names the places and instances to use
    (``dev``, ``dev_region``, ``dev_subnet``, ``dev_group``, ``imds``...); the ids made,
    by logical name."""
    made: dict[str, str] = {}
    dev, region = where["dev"]["account"], where["dev"]["region"]
    aws = member(dev)
    ec2 = aws.client("ec2", region)
    zone = ec2.describe_subnets(SubnetIds=[where["dev"]["subnet"]])["Subnets"][0]
    # before the baseline: EBS encryption by default was off when this volume was made
    ec2.disable_ebs_encryption_by_default()
    volume = ec2.create_volume(Size=8, AvailabilityZone=zone["AvailabilityZone"], Encrypted=False)[
        "VolumeId"
    ]
    ec2.enable_ebs_encryption_by_default()
    made["fleet.volume.unencrypted"] = volume
    outside = ec2.create_snapshot(VolumeId=volume, Description="handed to a contractor")
    ec2.modify_snapshot_attribute(
        SnapshotId=outside["SnapshotId"],
        Attribute="createVolumePermission",
        OperationType="add",
        UserIds=[OUTSIDER],
    )
    made["fleet.snapshot.outside"] = outside["SnapshotId"]
    inside = ec2.create_snapshot(VolumeId=volume, Description="restored in staging")
    ec2.modify_snapshot_attribute(
        SnapshotId=inside["SnapshotId"],
        Attribute="createVolumePermission",
        OperationType="add",
        UserIds=[where["dev"]["member"]],
    )
    made["fleet.snapshot.member"] = inside["SnapshotId"]
    image = ec2.create_image(InstanceId=where["dev"]["instance"], Name="dev-build-2024")["ImageId"]
    ec2.modify_image_attribute(ImageId=image, LaunchPermission={"Add": [{"Group": "all"}]})
    made["fleet.image.public"] = image
    # an instance of the account's own image (the approved owners are Amazon and the
    # golden image account), and the dev box left on IMDSv1
    from sandbox import seeding

    built = seeding.run_instance(
        ec2,
        where["dev"]["subnet"],
        [where["dev"]["group"]],
        "build-box",
        "dev",
        public_ip=False,
        image=image,
    )["InstanceId"]
    made["fleet.instance.unapproved"] = built
    now = dt.datetime.now(dt.UTC)
    moto_fleet.register_managed_instance(dev, region, built)
    backed_up = (now - dt.timedelta(hours=20)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    arn = f"arn:aws:ec2:{region}:{dev}:instance/{built}"
    moto_fleet.register_protected_resource(dev, region, arn, "EC2", backed_up)
    ec2.modify_instance_metadata_options(
        InstanceId=where["dev"]["instance"], HttpTokens="optional", HttpEndpoint="enabled"
    )
    made["fleet.instance.imdsv1"] = where["dev"]["instance"]
    # classification tags stripped from one production instance
    untagged = where["untagged"]
    member(untagged["account"]).client("ec2", untagged["region"]).delete_tags(
        Resources=[untagged["instance"]],
        Tags=[{"Key": k} for k in ("DataClassification", "ComplianceScope", "Owner")],
    )
    made["fleet.instance.untagged"] = untagged["instance"]
    # one instance left out of the backup plan
    lost = where["unprotected"]
    arn = f"arn:aws:ec2:{lost['region']}:{lost['account']}:instance/{lost['instance']}"
    moto_fleet.forget_protected_resource(lost["account"], lost["region"], arn)
    made["fleet.instance.unprotected"] = lost["instance"]
    # GuardDuty turned off in one account-region
    quiet = where["quiet"]
    guardduty = member(quiet["account"]).client("guardduty", quiet["region"])
    for detector in guardduty.list_detectors()["DetectorIds"]:
        guardduty.delete_detector(DetectorId=detector)
    ids.update(made)
    return made


def change_between_runs(aws: Aws, region: str, ids: dict[str, str]) -> dict[str, str]:
    """What the demo changes before its second run, in the account of ``aws``: the public
    image is made private (a finding fixed) and another snapshot of the old unencrypted
    volume is handed outside the organization (a new finding). The ids, by what they are."""
    ec2 = aws.client("ec2", region)
    image = ids["fleet.image.public"]
    ec2.modify_image_attribute(ImageId=image, LaunchPermission={"Remove": [{"Group": "all"}]})
    snapshot = ec2.create_snapshot(
        VolumeId=ids["fleet.volume.unencrypted"], Description="sent to an auditor"
    )["SnapshotId"]
    ec2.modify_snapshot_attribute(
        SnapshotId=snapshot,
        Attribute="createVolumePermission",
        OperationType="add",
        UserIds=[OUTSIDER],
    )
    return {"fixed": image, "new": snapshot}
