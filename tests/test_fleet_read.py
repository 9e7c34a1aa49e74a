"""The fleet-posture files read into records: volumes, snapshots and who may create volumes
from them, images and who may launch them, SSM, AWS Backup and the detection services;
a missing file is absence of data (``kinds_not_seen``), an empty answer a real "none"."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from core.errors import InputError
from graph.snapshot import load_snapshot

ACCOUNT, REGION = "111111111111", "eu-west-1"


def write(root: Path, files: dict[str, Any]) -> Path:
    folder = root / ACCOUNT / REGION
    folder.mkdir(parents=True, exist_ok=True)
    for key, document in files.items():
        (folder / f"{key}.json").write_text(json.dumps(document))
    return root


FILES: dict[str, Any] = {
    "Reservations": {
        "Reservations": [
            {
                "Instances": [
                    {
                        "InstanceId": "i-1",
                        "State": {"Name": "running"},
                        "ImageId": "ami-1",
                        "LaunchTime": "2026-01-01T00:00:00+00:00",
                        "MetadataOptions": {"HttpTokens": "optional", "HttpEndpoint": "enabled"},
                    }
                ]
            }
        ]
    },
    "Volumes": {
        "Volumes": [
            {
                "VolumeId": "vol-1",
                "Encrypted": False,
                "State": "in-use",
                "CreateTime": "2025-01-01T00:00:00+00:00",
                "Attachments": [{"InstanceId": "i-1", "State": "attached"}],
            }
        ]
    },
    "Snapshots": {"Snapshots": [{"SnapshotId": "snap-1", "OwnerId": ACCOUNT, "Encrypted": True}]},
    "SnapshotAttributes": {
        "SnapshotAttributes": [
            {"SnapshotId": "snap-1", "CreateVolumePermissions": [{"UserId": "999999999999"}]}
        ]
    },
    "Images": {
        "Images": [
            {
                "ImageId": "ami-1",
                "OwnerId": ACCOUNT,
                "Public": True,
                "State": "available",
                "CreationDate": "2025-01-01T00:00:00.000Z",
            }
        ]
    },
    "ImageAttributes": {
        "ImageAttributes": [{"ImageId": "ami-1", "LaunchPermissions": [{"Group": "all"}]}]
    },
    "InstanceInformationList": {
        "InstanceInformationList": [{"InstanceId": "i-1", "PingStatus": "Online"}]
    },
    "BackupProtectedResources": {
        "Results": [
            {
                "ResourceArn": f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/i-1",
                "ResourceType": "EC2",
                "LastBackupTime": "2026-11-30T03:00:00+00:00",
            }
        ]
    },
    "GuardDutyDetectors": {"GuardDutyDetectors": [{"DetectorId": "d1", "Status": "ENABLED"}]},
    "InspectorAccountStatus": {
        "accounts": [
            {
                "accountId": ACCOUNT,
                "resourceState": {"ec2": {"status": "ENABLED"}, "ecr": {"status": "DISABLED"}},
                "state": {"status": "ENABLED"},
            }
        ],
        "failedAccounts": [],
    },
    "SecurityHub": {"HubArn": f"arn:aws:securityhub:{REGION}:{ACCOUNT}:hub/default"},
    "ConfigurationRecordersStatus": {
        "ConfigurationRecordersStatus": [{"name": "default", "recording": True}]
    },
}


def test_every_fleet_file_is_read_into_records(tmp_path: Path) -> None:
    (region,) = load_snapshot(write(tmp_path, FILES)).regions
    (instance,) = region.instances
    assert (instance.image_id, instance.http_tokens, instance.http_endpoint) == (
        "ami-1",
        "optional",
        "enabled",
    )
    (volume,) = region.volumes
    assert (volume.id, volume.encrypted, volume.instance_ids) == ("vol-1", False, ["i-1"])
    assert [s.id for s in region.snapshots] == ["snap-1"]
    assert region.snapshot_permissions["snap-1"][0].user_id == "999999999999"
    (image,) = region.images
    assert image.public and image.owner == ACCOUNT
    assert region.image_permissions["ami-1"][0].group == "all"
    assert region.managed_instances == {"i-1": "Online"}
    assert region.protected == {
        f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/i-1": "2026-11-30T03:00:00+00:00"
    }
    assert [(d.id, d.status) for d in region.detectors] == [("d1", "ENABLED")]
    assert region.inspector_ec2 == "ENABLED"
    assert region.security_hub is True
    assert region.recorders == {"default": True}
    assert not {k for k in FILES if k not in region.seen}


def test_an_empty_answer_is_none_and_a_missing_file_is_not_seen(tmp_path: Path) -> None:
    empty = {"GuardDutyDetectors": {"GuardDutyDetectors": []}, "SecurityHub": {}}
    snapshot = load_snapshot(write(tmp_path, empty))
    (region,) = snapshot.regions
    assert region.detectors == [] and region.security_hub is False
    assert {"GuardDutyDetectors", "SecurityHub"} <= region.seen  # answered: none
    not_seen = snapshot.kinds_not_seen()
    place = f"{ACCOUNT}/{REGION}"
    for kind in ("Volumes", "InspectorAccountStatus", "ConfigurationRecordersStatus"):
        assert not_seen[kind] == [place]  # not collected: unknown, not "off"
    assert "GuardDutyDetectors" not in not_seen and "SecurityHub" not in not_seen
    assert region.inspector_ec2 is None


@pytest.mark.parametrize(
    ("key", "document", "where"),
    [
        (
            "Volumes",
            {"Volumes": [{"VolumeId": "vol-1", "Encrypted": "no"}]},
            "Volumes[0].Encrypted",
        ),
        ("SecurityHub", ["not", "an", "object"], "$"),
        (
            "SnapshotAttributes",
            {
                "SnapshotAttributes": [
                    {"SnapshotId": "s", "CreateVolumePermissions": [{"UserId": 1}]}
                ]
            },
            "SnapshotAttributes[0].CreateVolumePermissions[0].UserId",
        ),
        ("BackupProtectedResources", {"Results": {"x": 1}}, "Results"),
    ],
)
def test_a_bad_value_is_named_by_file_and_field(
    tmp_path: Path, key: str, document: Any, where: str
) -> None:
    with pytest.raises(InputError) as raised:
        load_snapshot(write(tmp_path, {key: document}))
    assert f"{key}.json" in str(raised.value) and where in str(raised.value)


def test_posture_findings_through_the_document_sarif_and_asff(tmp_path: Path) -> None:
    from graph.findings import analyse
    from graph.report import asff, sarif

    document = analyse(write(tmp_path, FILES))
    found = {(f["rule"], f["resource"]): f for f in document["findings"]}
    volume = found[("ebs-volume-unencrypted", "vol-1")]
    assert volume["prevented_by"] == []  # no spec: nothing known to prevent it
    assert (volume["account"], volume["region"], volume["ports"]) == (ACCOUNT, REGION, None)
    assert ("snapshot-shared-outside-organization", "snap-1") not in found  # members unknown
    assert ("image-public", "ami-1") in found and ("instance-imdsv1-allowed", "i-1") in found
    product = f"arn:aws:securityhub:{REGION}:{ACCOUNT}:product/{ACCOUNT}/default"
    converted = {
        a["GeneratorId"]: a
        for a in asff.document_findings(document, product=product, now="2026-12-01T00:00:00Z")
    }
    disk = converted["ebs-volume-unencrypted"]["Resources"][0]
    assert disk == {
        "Type": "AwsEc2Volume",
        "Id": f"arn:aws:ec2:{REGION}:{ACCOUNT}:volume/vol-1",
        "Partition": "aws",
        "Region": REGION,
    }
    assert converted["image-public"]["Resources"][0]["Id"] == f"arn:aws:ec2:{REGION}::image/ami-1"
    assert "Network Reachability" not in converted["image-public"]["Types"][0]
    results = {r["ruleId"]: r for r in sarif.sarif_log(document)["runs"][0]["results"]}
    location = results["ebs-volume-unencrypted"]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == f"{ACCOUNT}/{REGION}/Volumes.json"


def test_ivs_exposure_says_what_it_wrote_and_why_it_fails(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from ivs.cli import app

    root = write(tmp_path / "snapshot", FILES)
    out = tmp_path / "findings.json"
    args = ["exposure", "--snapshot", str(root), "--out", str(out)]
    passed = CliRunner().invoke(app, args)
    assert passed.exit_code == 0
    (line,) = passed.stdout.splitlines()
    assert line.startswith("ivs exposure: ") and line.endswith(f"written to {out}")
    assert "0 account-regions not assessed" in line and passed.stderr == ""
    failed = CliRunner().invoke(app, [*args, "--fail-on", "high", "--quiet"])
    assert failed.exit_code == 1 and failed.stdout == ""  # --quiet: nothing on stdout
    (why,) = failed.stderr.splitlines()
    assert why.startswith("ivs: --fail-on high: 2 at or above: high image-public ami-1; high ")
