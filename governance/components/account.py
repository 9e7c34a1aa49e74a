"""``AccountBaseline``: the per-account EC2/EBS defaults in every governed region.

One component per member account, deployed by that account's ``baseline-<account-id>``
stack. One provider assumes the member role; every resource names its region through the
pulumi-aws v7 per-resource ``region`` argument, so one provider process serves all
regions (a provider per region would cost a plugin process each).
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from core.errors import InputError
from core.spec import Spec
from core.vocabulary import partition_of
from governance.controls import expected_account_settings

TYPE_TOKEN = "ivs:governance:AccountBaseline"
SESSION_NAME = "ivs-baseline"


class AccountBaseline(pulumi.ComponentResource):
    """The IVS per-account baseline of one member account.

    Children: one ``aws.Provider`` assuming ``<member_role_name>`` in the account (and
    refusing any other account), then in every governed region
    ``ebs.EncryptionByDefault``, ``ebs.DefaultKmsKey`` (where the spec names a key that
    serves the region, see ``governance.controls.account_baseline``),
    ``ec2.ImageBlockPublicAccess``, ``ebs.SnapshotBlockPublicAccess`` and
    ``ec2.InstanceMetadataDefaults``, with the parameters of the account's OU.
    """

    provider: aws.Provider
    regions: list[str]
    kms_key_regions: list[str]
    resources: dict[str, list[pulumi.CustomResource]]

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
        role_arn = f"arn:{partition}:iam::{account_id}:role/{spec.member_role_name}"

        self.provider = aws.Provider(
            f"{name}-member",
            region=spec.regions[0],
            allowed_account_ids=[account_id],
            assume_roles=[aws.ProviderAssumeRoleArgs(role_arn=role_arn, session_name=SESSION_NAME)],
            opts=pulumi.ResourceOptions(parent=self),
        )
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

        self.register_outputs(
            {
                "account_id": account_id,
                "role_arn": role_arn,
                "regions": self.regions,
                "kms_key_regions": self.kms_key_regions,
            }
        )
