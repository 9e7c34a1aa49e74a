"""Sandbox only: the fleet-posture reads moto 5.2 lacks, so that the stand-in answers them.

moto has no SSM ``DescribeInstanceInformation`` and no AWS Backup
``ListProtectedResources`` (in server mode such a call is an HTTP error that botocore
retries, then reports), and its ``DescribeSnapshots`` ignores ``OwnerIds``: asked for the
account's own (``self``), it answers with the 1,300 snapshots behind its built-in public
images too, which AWS does not; and its RunInstances leaves an instance's volumes
unencrypted where EBS encryption by default is on, where AWS encrypts every new volume
("Encryption by default", Amazon EBS User Guide). :func:`install` adds the two reads to
moto's response classes, answering from lists kept on moto's backend of each account and
region, which
:func:`register_managed_instance` and :func:`register_protected_resource` fill (as the SSM
agent and AWS Backup would). Responses follow the service models' shapes
(``InstanceInformationList``; ``Results`` with ``ResourceArn``, ``ResourceType``,
``LastBackupTime``).
"""

from __future__ import annotations

import json
import threading
from typing import Any

MANAGED = "_ivs_managed_instances"
PROTECTED = "_ivs_protected_resources"

_installed = False
_lock = threading.Lock()


def _describe_instance_information(self: Any) -> str:
    return json.dumps({"InstanceInformationList": list(getattr(self.ssm_backend, MANAGED, []))})


def _list_protected_resources(self: Any) -> str:
    return json.dumps({"Results": list(getattr(self.backup_backend, PROTECTED, []))})


def _owned_snapshots_only(original: Any) -> Any:
    """``DescribeSnapshots`` honouring ``OwnerIds`` (``self`` or account ids), as AWS does."""

    def describe_snapshots(self: Any) -> Any:
        owners = self._get_param("OwnerIds", [])
        answer = original(self)
        if owners:
            wanted = {self.current_account if o == "self" else o for o in owners}
            snapshots = answer.result["Snapshots"]
            answer.result["Snapshots"] = [s for s in snapshots if s.owner_id in wanted]
        return answer

    return describe_snapshots


def _encrypted_by_default(original: Any) -> Any:
    """RunInstances encrypting the new volumes where EBS encryption by default is on."""

    def run_instances(self: Any, *args: Any, **kwargs: Any) -> Any:
        reservation = original(self, *args, **kwargs)
        if getattr(self, "ebs_encryption_by_default", False):
            for instance in reservation.instances:
                for _, device in instance.get_block_device_mapping:
                    for volume in self.describe_volumes(volume_ids=[device.volume_id]):
                        volume.encrypted = True
        return reservation

    return run_instances


def install() -> None:
    """Add the two reads to moto (once per process; before a moto server starts)."""
    global _installed
    with _lock:
        if _installed:
            return
        from moto.backup import urls as backup_urls
        from moto.backup.responses import BackupResponse
        from moto.ec2.models.instances import InstanceBackend
        from moto.ec2.responses.elastic_block_store import ElasticBlockStore
        from moto.ssm.responses import SimpleSystemManagerResponse

        ElasticBlockStore.describe_snapshots = _owned_snapshots_only(  # type: ignore[method-assign]
            ElasticBlockStore.describe_snapshots
        )
        InstanceBackend.run_instances = _encrypted_by_default(  # type: ignore[method-assign]
            InstanceBackend.run_instances
        )
        if not hasattr(SimpleSystemManagerResponse, "describe_instance_information"):
            SimpleSystemManagerResponse.describe_instance_information = (  # type: ignore[attr-defined]
                _describe_instance_information
            )
        if not hasattr(BackupResponse, "list_protected_resources"):
            BackupResponse.list_protected_resources = _list_protected_resources  # type: ignore[attr-defined]
            backup_urls.url_paths["{0}/resources/?$"] = backup_urls.response.dispatch
        _installed = True


def register_managed_instance(account: str, region: str, instance_id: str, **fields: Any) -> None:
    """The SSM agent of ``instance_id`` reports in (``PingStatus`` Online by default)."""
    from moto.ssm.models import ssm_backends

    backend = ssm_backends[account][region]
    entries = getattr(backend, MANAGED, [])
    entries.append({"InstanceId": instance_id, "PingStatus": "Online", **fields})
    setattr(backend, MANAGED, entries)


def register_protected_resource(
    account: str, region: str, arn: str, resource_type: str, last_backup: str
) -> None:
    """AWS Backup holds a recovery point of ``arn`` made at ``last_backup`` (ISO 8601)."""
    from moto.backup.models import backup_backends

    backend = backup_backends[account][region]
    entries = getattr(backend, PROTECTED, [])
    entries.append(
        {"ResourceArn": arn, "ResourceType": resource_type, "LastBackupTime": last_backup}
    )
    setattr(backend, PROTECTED, entries)


def forget_protected_resource(account: str, region: str, arn: str) -> None:
    """AWS Backup holds no recovery point of ``arn`` any more."""
    from moto.backup.models import backup_backends

    backend = backup_backends[account][region]
    entries = [e for e in getattr(backend, PROTECTED, []) if e["ResourceArn"] != arn]
    setattr(backend, PROTECTED, entries)
