"""The per-account virtual machine baseline: EC2 and EBS defaults in every member account.

Not switched on per OU: every member account gets it, in every governed region, from its
own ``baseline-<account-id>`` stack (the ``AccountBaseline`` component), with the backup
vault and role of the backup policy in force on the account
(``governance.controls.backup_policy.needs``). The settings are plain data here, read by
the component (which declares them), the audit (which compares each account with them),
the sandbox (which applies them through boto3) and the written policy (which states
them). No Pulumi or boto3 here.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.spec import Spec
from governance.controls.base import Control
from governance.controls.parameters import EbsKmsKey, ImdsDefaults

ID = "account-baseline"
CCM = ("IVS-04", "CEK-03")

#: Image block public access: no new public sharing of AMIs.
IMAGE_BPA_STATE = "block-new-sharing"
#: Snapshot block public access: no public sharing at all (the declarative policy agrees).
SNAPSHOT_BPA_STATE = "block-all-sharing"


class Parameters(EbsKmsKey, ImdsDefaults):
    pass


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


def settings(params: Parameters, region: str) -> AccountSettings:
    """What an account stack sets in ``region`` with the parameters of the account's OU."""
    return AccountSettings(
        kms_key=params.key_in(region),
        image_block_public_access=IMAGE_BPA_STATE,
        snapshot_block_public_access=SNAPSHOT_BPA_STATE,
        http_tokens=params.imds.http_tokens,
        http_put_response_hop_limit=params.imds.http_put_response_hop_limit,
        instance_metadata_tags=params.imds.instance_metadata_tags,
    )


def words(params: Parameters, spec: Spec) -> str:
    imds = params.imds
    return (
        f"default key {params.key_words(spec.regions)}; IMDS tokens {imds.http_tokens}, "
        f"hop limit {imds.http_put_response_hop_limit}"
    )


CONTROL = Control(
    ID,
    "account",
    "Per-account virtual machine baseline",
    CCM,
    "In every member account and every governed region: EBS encryption by default is on "
    "(with the approved KMS key where one serves the region), image block public access is "
    f"`{IMAGE_BPA_STATE}`, snapshot block public access is `{SNAPSHOT_BPA_STATE}`, and the "
    "instance metadata defaults require the settings of the account's OU. Where a backup "
    "policy applies to the account, the backup vault it names exists in each region where "
    "it backs up or copies to, and the backup role it names exists, trusted by AWS Backup.",
    "These defaults protect every new volume, image, snapshot and instance before anyone "
    "launches a virtual machine in a new account.",
    parameters=Parameters,
    words=words,
    enforcement="one Pulumi stack per member account (`baseline-<account-id>`, the "
    "`AccountBaseline` component), applied by the deployment pipeline to every member "
    "account and by account vending when an account is created or moved.",
)
