"""The fleet data of each assessed account-region, as the fleet posture rules read it
(``graph.rules.fleet``): instances, volumes, snapshots and images with who may use them,
SSM, AWS Backup and the detection services, and which of those kinds the place answered
(a kind it did not answer is unknown there, never "none").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from graph import model as m


@dataclass(frozen=True)
class Place:
    """The fleet data of one assessed account-region (``seen``: the kinds it answered)."""

    account: str
    region: str
    seen: frozenset[str]
    instances: Sequence[m.Instance] = ()
    volumes: Sequence[m.Volume] = ()
    snapshots: Sequence[m.EbsSnapshot] = ()
    snapshot_permissions: Mapping[str, Sequence[m.Permission]] = field(default_factory=dict)
    images: Sequence[m.MachineImage] = ()
    image_permissions: Mapping[str, Sequence[m.Permission]] = field(default_factory=dict)
    managed_instances: Mapping[str, str] = field(default_factory=dict)
    protected: Mapping[str, str] = field(default_factory=dict)
    detectors: Sequence[m.Detector] = ()
    inspector_ec2: str | None = None
    security_hub: bool = False
    recorders: Mapping[str, bool] = field(default_factory=dict)


def place_of(region: Any) -> Place:
    """A snapshot reader's account-region (``graph.snapshot.RegionSnapshot``) as a Place."""
    return Place(
        region.account,
        region.region,
        frozenset(region.seen),
        region.instances,
        region.volumes,
        region.snapshots,
        region.snapshot_permissions,
        region.images,
        region.image_permissions,
        region.managed_instances,
        region.protected,
        region.detectors,
        region.inspector_ec2,
        region.security_hub,
        region.recorders,
    )


#: The snapshot kinds these rules read (an account-region with none of them has no Place).
FLEET_KINDS = frozenset(
    {
        "Volumes",
        "Snapshots",
        "SnapshotAttributes",
        "Images",
        "ImageAttributes",
        "InstanceInformationList",
        "BackupProtectedResources",
        "GuardDutyDetectors",
        "InspectorAccountStatus",
        "SecurityHub",
        "ConfigurationRecordersStatus",
    }
)
