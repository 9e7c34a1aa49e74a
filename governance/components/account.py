"""``AccountBaseline``: the per-account EC2/EBS defaults in every governed region.

One component per member account, deployed by that account's ``baseline-<account-id>``
stack. One provider assumes the member role; every resource names its region through the
pulumi-aws v7 per-resource ``region`` argument, so one provider process serves all
regions (a provider per region would cost a plugin process each).
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from governance.errors import InputError
from governance.spec import Spec

TYPE_TOKEN = "ivs:governance:AccountBaseline"
SESSION_NAME = "ivs-baseline"

# Region prefixes of the partitions other than `aws`; longest prefix first.
_PARTITIONS = (
    ("us-isob-", "aws-iso-b"),
    ("us-isof-", "aws-iso-f"),
    ("eu-isoe-", "aws-iso-e"),
    ("us-iso-", "aws-iso"),
    ("us-gov-", "aws-us-gov"),
    ("cn-", "aws-cn"),
)


def partition_of(region: str) -> str:
    """The ARN partition of a region: ``aws``, ``aws-us-gov``, ``aws-cn``, ``aws-iso``..."""
    for prefix, partition in _PARTITIONS:
        if region.startswith(prefix):
            return partition
    return "aws"


def ebs_kms_key_in_region(key: str, region: str) -> str | None:
    """The key to make EBS's default in ``region``, or None when ``key`` cannot serve it.

    KMS keys are regional and EBS only encrypts with a key of the volume's region; a
    default key that names another region makes every encrypted launch there fail. So:
    a key or alias ARN serves its own region; a multi-Region key (``key/mrk-...``) serves
    every region through its replica of the same id; a bare key id or alias name is
    resolved by AWS in each region and is used as given.

    >>> ebs_kms_key_in_region("arn:aws:kms:us-east-1:111122223333:key/mrk-1a2b", "eu-west-1")
    'arn:aws:kms:eu-west-1:111122223333:key/mrk-1a2b'
    >>> ebs_kms_key_in_region("arn:aws:kms:us-east-1:111122223333:alias/ebs", "eu-west-1")
    """
    if not key.startswith("arn:"):
        return key
    parts = key.split(":", 5)
    if len(parts) != 6:
        return None
    _, partition, service, key_region, account, resource = parts
    if key_region == region:
        return key
    if resource.startswith("key/mrk-"):
        return ":".join(("arn", partition, service, region, account, resource))
    return None


class AccountBaseline(pulumi.ComponentResource):
    """The IVS per-account baseline of one member account.

    Children: one ``aws.Provider`` assuming ``<member_role_name>`` in the account (and
    refusing any other account), then in every governed region
    ``ebs.EncryptionByDefault``, ``ebs.DefaultKmsKey`` (where the spec names a key that
    serves the region, see :func:`ebs_kms_key_in_region`),
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
        try:
            _, ou_path = spec.account(account_id)
        except KeyError:
            raise InputError(
                "spec", f"account {account_id} is not a member account of the spec"
            ) from None
        super().__init__(TYPE_TOKEN, name, None, opts)
        params = spec.parameters_for(ou_path)
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
            made: list[pulumi.CustomResource] = [
                aws.ebs.EncryptionByDefault(
                    f"{name}-{region}-ebs-encryption-by-default",
                    enabled=True,
                    region=region,
                    opts=child,
                )
            ]
            key = (
                ebs_kms_key_in_region(params.ebs_kms_key_arn, region)
                if params.ebs_kms_key_arn
                else None
            )
            if key is not None:
                self.kms_key_regions.append(region)
                made.append(
                    aws.ebs.DefaultKmsKey(
                        f"{name}-{region}-ebs-default-kms-key",
                        key_arn=key,
                        region=region,
                        opts=child,
                    )
                )
            made += [
                aws.ec2.ImageBlockPublicAccess(
                    f"{name}-{region}-image-block-public-access",
                    state="block-new-sharing",
                    region=region,
                    opts=child,
                ),
                aws.ebs.SnapshotBlockPublicAccess(
                    f"{name}-{region}-snapshot-block-public-access",
                    state="block-all-sharing",
                    region=region,
                    opts=child,
                ),
                aws.ec2.InstanceMetadataDefaults(
                    f"{name}-{region}-instance-metadata-defaults",
                    http_tokens=params.imds.http_tokens,
                    http_put_response_hop_limit=params.imds.http_put_response_hop_limit,
                    instance_metadata_tags=params.imds.instance_metadata_tags,
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
