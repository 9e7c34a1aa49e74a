"""The per-account baseline as plain data: what ``AccountBaseline`` declares in a region.

One place for the settings, read by the Pulumi component (which declares them), the
audit (which compares the account with them), the sandbox (which applies them through
boto3) and the written policy (which states them). No Pulumi or boto3 here.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.spec import Spec

#: Image block public access: no new public sharing of AMIs.
IMAGE_BPA_STATE = "block-new-sharing"
#: Snapshot block public access: no public sharing at all (the declarative policy agrees).
SNAPSHOT_BPA_STATE = "block-all-sharing"

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


@dataclass(frozen=True)
class AccountSettings:
    """The per-account EC2 defaults the spec expects in one region."""

    kms_key: str | None  # None: the spec sets no key that can serve this region
    image_block_public_access: str
    snapshot_block_public_access: str
    http_tokens: str
    http_put_response_hop_limit: int
    instance_metadata_tags: str

    @property
    def imds(self) -> dict[str, str | int]:
        """The IMDS defaults as EC2's GetInstanceMetadataDefaults names them."""
        return {
            "HttpTokens": self.http_tokens,
            "HttpPutResponseHopLimit": self.http_put_response_hop_limit,
            "InstanceMetadataTags": self.instance_metadata_tags,
        }


def expected_account_settings(spec: Spec, account_id: str, region: str) -> AccountSettings:
    """What the account's ``baseline-<account-id>`` stack sets in ``region``.

    Raises KeyError when the account is not a member account of the spec.
    """
    _, ou_path = spec.account(account_id)
    params = spec.parameters_for(ou_path)
    key = ebs_kms_key_in_region(params.ebs_kms_key_arn, region) if params.ebs_kms_key_arn else None
    return AccountSettings(
        kms_key=key,
        image_block_public_access=IMAGE_BPA_STATE,
        snapshot_block_public_access=SNAPSHOT_BPA_STATE,
        http_tokens=params.imds.http_tokens,
        http_put_response_hop_limit=params.imds.http_put_response_hop_limit,
        instance_metadata_tags=params.imds.instance_metadata_tags,
    )
