"""A synthetic fleet, written as a snapshot: the benchmark of the posture analysis.

``write_fleet_snapshot(root, instances=100_000)`` spreads over 100 accounts x 2 regions
``instances`` instances (two volumes each, every fifth volume unencrypted, a snapshot per
four volumes, one image per ten instances), with their SSM status (nine in ten online),
AWS Backup recovery points (eight in ten recent), shared snapshots and public images
sprinkled in, and the detection services of each account-region (GuardDuty off in one in
ten). Every file is a raw botocore-shaped response; no network data (the exposure graph
of such a snapshot is empty). Deterministic (``random.Random(seed)``), stdlib only.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

REGIONS = ("us-east-1", "eu-west-1")
TAGS = {"Environment": "prod", "DataClassification": "internal", "ComplianceScope": "none"}


def _place(account: str, region: str, count: int, rng: random.Random) -> dict[str, Any]:
    images = [
        {
            "ImageId": f"ami-{account[-4:]}{REGIONS.index(region)}{n:06x}",
            "OwnerId": account if n % 3 else "137112412989",
            "ImageOwnerAlias": None if n % 3 else "amazon",
            "Public": n % 97 == 0,
            "State": "available",
            "CreationDate": f"202{4 + n % 3}-0{1 + n % 9}-01T00:00:00.000Z",
            "Name": f"golden-{n}",
        }
        for n in range(max(1, count // 10))
    ]
    instances, volumes, snapshots, managed, protected = [], [], [], [], []
    for n in range(count):
        instance_id = f"i-{account[-4:]}{REGIONS.index(region)}{n:08x}"
        tags = dict(TAGS)
        if n % 13 == 0:
            del tags["DataClassification"]
        instances.append(
            {
                "InstanceId": instance_id,
                "State": {"Name": "stopped" if n % 17 == 0 else "running"},
                "ImageId": images[n % len(images)]["ImageId"],
                "MetadataOptions": {
                    "HttpTokens": "optional" if n % 7 == 0 else "required",
                    "HttpEndpoint": "enabled",
                },
                "Tags": [{"Key": k, "Value": v} for k, v in tags.items()],
                "NetworkInterfaces": [],
            }
        )
        if rng.random() < 0.9:
            managed.append({"InstanceId": instance_id, "PingStatus": "Online"})
        if rng.random() < 0.8:
            day = "30" if rng.random() < 0.9 else "01"
            protected.append(
                {
                    "ResourceArn": f"arn:aws:ec2:{region}:{account}:instance/{instance_id}",
                    "ResourceType": "EC2",
                    "LastBackupTime": f"2026-11-{day}T03:00:00+00:00",
                }
            )
        for disk in range(2):
            volume_id = f"vol-{account[-4:]}{REGIONS.index(region)}{n:08x}{disk}"
            volumes.append(
                {
                    "VolumeId": volume_id,
                    "Encrypted": (n * 2 + disk) % 5 != 0,
                    "State": "in-use",
                    "Attachments": [{"InstanceId": instance_id, "State": "attached"}],
                }
            )
            if (n * 2 + disk) % 4 == 0:
                snapshots.append(
                    {
                        "SnapshotId": f"snap-{account[-4:]}{REGIONS.index(region)}{n:08x}{disk}",
                        "OwnerId": account,
                        "Encrypted": True,
                        "VolumeId": volume_id,
                    }
                )
    snapshot_attributes = [
        {
            "SnapshotId": s["SnapshotId"],
            "CreateVolumePermissions": (
                [{"UserId": "999988887777"}]
                if n % 101 == 0
                else [{"Group": "all"}]
                if n % 997 == 0
                else []
            ),
        }
        for n, s in enumerate(snapshots)
    ]
    image_attributes = [
        {"ImageId": i["ImageId"], "LaunchPermissions": [{"Group": "all"}] if i["Public"] else []}
        for i in images
        if i["OwnerId"] == account
    ]
    quiet = int(account[-3:]) % 10 == 0
    return {
        "Reservations": {
            "Reservations": [{"ReservationId": f"r-{account}", "Instances": instances}]
        },
        "Volumes": {"Volumes": volumes},
        "Snapshots": {"Snapshots": snapshots},
        "SnapshotAttributes": {"SnapshotAttributes": snapshot_attributes},
        "Images": {"Images": [{k: v for k, v in i.items() if v is not None} for i in images]},
        "ImageAttributes": {"ImageAttributes": image_attributes},
        "InstanceInformationList": {"InstanceInformationList": managed},
        "BackupProtectedResources": {"Results": protected},
        "GuardDutyDetectors": {
            "GuardDutyDetectors": [] if quiet else [{"DetectorId": "d1", "Status": "ENABLED"}]
        },
        "InspectorAccountStatus": {
            "accounts": [{"accountId": account, "resourceState": {"ec2": {"status": "ENABLED"}}}],
            "failedAccounts": [],
        },
        "SecurityHub": {"HubArn": f"arn:aws:securityhub:{region}:{account}:hub/default"},
        "ConfigurationRecordersStatus": {
            "ConfigurationRecordersStatus": [{"name": "default", "recording": True}]
        },
    }


def write_fleet_snapshot(
    root: Path, instances: int = 100_000, accounts: int = 100, seed: int = 11
) -> dict[str, Any]:
    """Write the synthetic fleet under ``root``; its shape."""
    rng = random.Random(seed)
    per_place = max(1, instances // (accounts * len(REGIONS)))
    shape = {"instances": 0, "volumes": 0, "snapshots": 0, "images": 0}
    regions: dict[str, Any] = {}
    for number in range(accounts):
        account = f"8{number + 1:011d}"
        regions[account] = {"regions": {r: {"status": "ok"} for r in REGIONS}}
        for region in REGIONS:
            folder = root / account / region
            folder.mkdir(parents=True, exist_ok=True)
            files = _place(account, region, per_place, rng)
            for key, document in files.items():
                (folder / f"{key}.json").write_text(json.dumps(document))
            shape["instances"] += len(files["Reservations"]["Reservations"][0]["Instances"])
            shape["volumes"] += len(files["Volumes"]["Volumes"])
            shape["snapshots"] += len(files["Snapshots"]["Snapshots"])
            shape["images"] += len(files["Images"]["Images"])
    manifest = {
        "format": 1,
        "collected_at": "2026-12-01T00:00:00Z",
        "complete": True,
        "accounts": regions,
    }
    (root / "manifest.json").write_text(json.dumps(manifest))
    return shape
