"""The fleet as common practice leaves it, in the demo organization.

Run after the workloads are seeded: in every account and governed region GuardDuty has
an enabled detector, Security Hub is on and AWS Config records (with its delivery channel);
every instance reports to SSM and has a recovery point from the last night's backup.
Together with how ``sandbox.seeding`` launches instances (IMDSv2 only, the required
classification tags) and moto encrypting new volumes where the baseline turned EBS
encryption by default on (``sandbox.moto_fleet``), the posture rules have nothing to say
about the fleet unless something is planted.

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
    aws.client("guardduty", region).create_detector(Enable=True)
    aws.client("securityhub", region).enable_security_hub()
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
