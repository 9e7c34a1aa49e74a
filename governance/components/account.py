"""``AccountBaseline``: the per-account EC2/EBS defaults in every governed region, and what
the backup policy in force on the account needs.

One component per member account, deployed by that account's ``baseline-<account-id>``
stack. One provider assumes the member role; every regional resource names its region
through the pulumi-aws v7 per-resource ``region`` argument, so one provider process serves
all regions (a provider per region would cost a plugin process each). IAM is global: the
backup role is declared once.
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from core.errors import InputError
from core.spec import Spec
from core.vocabulary import partition_of
from governance.controls import BackupNeeds, expected_account_settings, expected_backup_needs
from governance.controls.backup_policy import (
    ROLE_MANAGED_POLICIES,
    managed_policy_arn,
    trust_policy,
)

TYPE_TOKEN = "ivs:governance:AccountBaseline"
SESSION_NAME = "ivs-baseline"


def member_provider(
    name: str, spec: Spec, account_id: str, session_name: str, parent: pulumi.Resource
) -> aws.Provider:
    """A provider in ``account_id`` through the spec's member role (pulumi-aws v7 takes
    ``assume_roles`` as a list), held to that account."""
    return aws.Provider(
        name,
        region=spec.regions[0],
        allowed_account_ids=[account_id],
        assume_roles=[
            aws.ProviderAssumeRoleArgs(
                role_arn=member_role_arn(spec, account_id), session_name=session_name
            )
        ],
        opts=pulumi.ResourceOptions(parent=parent),
    )


def member_role_arn(spec: Spec, account_id: str) -> str:
    partition = partition_of(spec.regions[0])
    return f"arn:{partition}:iam::{account_id}:role/{spec.member_role_name}"


MANAGED_BY_TAG = {"ManagedBy": "ivs-governance"}


class AccountBaseline(pulumi.ComponentResource):
    """The IVS per-account baseline of one member account.

    Children: one ``aws.Provider`` assuming ``<member_role_name>`` in the account (and
    refusing any other account), then in every governed region
    ``ebs.EncryptionByDefault``, ``ebs.DefaultKmsKey`` (where the spec names a key that
    serves the region, see ``governance.controls.account_baseline``),
    ``ec2.ImageBlockPublicAccess``, ``ebs.SnapshotBlockPublicAccess`` and
    ``ec2.InstanceMetadataDefaults``, with the parameters of the account's OU.

    Where a backup policy is in force on the account
    (:func:`governance.controls.expected_backup_needs`): the ``backup.Vault`` it names in
    each governed region where a plan runs or copies to, and once for the account the
    ``iam.Role`` it names, trusted by AWS Backup, with AWS's managed backup and restore
    policies attached (``iam.RolePolicyAttachment``).
    """

    provider: aws.Provider
    regions: list[str]
    kms_key_regions: list[str]
    backup_vault_regions: list[str]
    resources: dict[str, list[pulumi.CustomResource]]
    backup_role: aws.iam.Role | None
    backup_role_attachments: list[aws.iam.RolePolicyAttachment]

    def __init__(
        self,
        name: str,
        spec: Spec,
        account_id: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        if account_id not in {account.id for account, _ in spec.accounts()}:
            raise InputError("spec", f"account {account_id} is not a member account of the spec")
        super().__init__(TYPE_TOKEN, name, None, opts)
        partition = partition_of(spec.regions[0])
        role_arn = member_role_arn(spec, account_id)
        self.provider = member_provider(f"{name}-member", spec, account_id, SESSION_NAME, self)
        child = pulumi.ResourceOptions(parent=self, provider=self.provider)

        self.regions = list(spec.regions)
        self.kms_key_regions = []
        self.resources = {}
        for region in self.regions:
            want = expected_account_settings(spec, account_id, region)
            made: list[pulumi.CustomResource] = [
                aws.ebs.EncryptionByDefault(
                    f"{name}-{region}-ebs-encryption-by-default",
                    enabled=True,
                    region=region,
                    opts=child,
                )
            ]
            if want.kms_key is not None:
                self.kms_key_regions.append(region)
                made.append(
                    aws.ebs.DefaultKmsKey(
                        f"{name}-{region}-ebs-default-kms-key",
                        key_arn=want.kms_key,
                        region=region,
                        opts=child,
                    )
                )
            made += [
                aws.ec2.ImageBlockPublicAccess(
                    f"{name}-{region}-image-block-public-access",
                    state=want.image_block_public_access,
                    region=region,
                    opts=child,
                ),
                aws.ebs.SnapshotBlockPublicAccess(
                    f"{name}-{region}-snapshot-block-public-access",
                    state=want.snapshot_block_public_access,
                    region=region,
                    opts=child,
                ),
                aws.ec2.InstanceMetadataDefaults(
                    f"{name}-{region}-instance-metadata-defaults",
                    http_tokens=want.http_tokens,
                    http_put_response_hop_limit=want.http_put_response_hop_limit,
                    instance_metadata_tags=want.instance_metadata_tags,
                    region=region,
                    opts=child,
                ),
            ]
            self.resources[region] = made

        self.backup_vault_regions = []
        self.backup_role = None
        self.backup_role_attachments = []
        backup = expected_backup_needs(spec, account_id)
        if backup is not None:
            self._backup(name, backup, partition, child)

        self.register_outputs(
            {
                "account_id": account_id,
                "role_arn": role_arn,
                "regions": self.regions,
                "kms_key_regions": self.kms_key_regions,
                "backup_vault_regions": self.backup_vault_regions,
            }
        )

    def _backup(
        self,
        name: str,
        backup: BackupNeeds,
        partition: str,
        child: pulumi.ResourceOptions,
    ) -> None:
        """The vault in each region and the role, as the backup policy names them."""
        for region in backup.regions:
            self.backup_vault_regions.append(region)
            self.resources[region].append(
                aws.backup.Vault(
                    f"{name}-{region}-backup-vault",
                    name=backup.vault_name,
                    tags=MANAGED_BY_TAG,
                    region=region,
                    opts=child,
                )
            )
        # The policy's ``iam_role_arn`` is ``role/<name>``: the role sits at path "/".
        self.backup_role = aws.iam.Role(
            f"{name}-backup-role",
            name=backup.role_name,
            assume_role_policy=json.dumps(trust_policy(), separators=(",", ":")),
            description="AWS Backup runs the organization's backup policy with this role",
            tags=MANAGED_BY_TAG,
            opts=child,
        )
        for policy in ROLE_MANAGED_POLICIES:
            self.backup_role_attachments.append(
                aws.iam.RolePolicyAttachment(
                    f"{name}-backup-role-{policy}",
                    role=self.backup_role.name,
                    policy_arn=managed_policy_arn(policy, partition),
                    opts=child,
                )
            )
