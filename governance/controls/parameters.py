"""Parameters that more than one control reads, each declared once with its default.

A parameter read by one control only is declared in that control's module. Each class
here holds one parameter; a control's parameter model inherits the ones it reads.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from core.spec import Spec
from governance.controls.base import ParameterModel


class AllowedRegions(ParameterModel):
    #: Regions where regional services may be used; None: the spec's governed regions.
    allowed_regions: list[str] | None = None

    def regions(self, spec: Spec) -> list[str]:
        """The allowed regions at this target (the governed regions unless narrowed)."""
        return list(self.allowed_regions if self.allowed_regions is not None else spec.regions)


class ApprovedAmiOwners(ParameterModel):
    #: Image owners instances may launch from (account ids or aliases as ``ec2:Owner``
    #: spells them: ``amazon``, ``aws-marketplace``...).
    approved_ami_owners: list[str] = Field(["amazon"])


class RequiredTags(ParameterModel):
    #: Classification tags: key -> allowed values (``[]``: any value).
    required_tags: dict[str, list[str]] = Field({})

    def tag_words(self) -> str:
        tags = [
            f"`{key}` ({', '.join(values) if values else 'any value'})"
            for key, values in self.required_tags.items()
        ]
        return "required tags: " + (", ".join(tags) if tags else "none")


class Imds(ParameterModel):
    http_tokens: Literal["required", "optional"] = "required"
    http_put_response_hop_limit: int = Field(2, ge=1, le=64)
    instance_metadata_tags: Literal["enabled", "disabled"] = "disabled"


class ImdsDefaults(ParameterModel):
    #: Instance metadata service settings for new instances.
    imds: Imds = Imds()


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


class EbsKmsKey(ParameterModel):
    #: The KMS key (ARN, alias ARN, id or alias) EBS encrypts new volumes with by default;
    #: None: the AWS managed key.
    ebs_kms_key_arn: str | None = None

    def key_in(self, region: str) -> str | None:
        """The default key for ``region`` (None: the AWS managed key, or none serves it)."""
        return ebs_kms_key_in_region(self.ebs_kms_key_arn, region) if self.ebs_kms_key_arn else None

    def key_words(self, regions: list[str]) -> str:
        """The default key in words, saying where it cannot serve."""
        key = self.ebs_kms_key_arn
        if not key:
            return "the AWS managed key (`alias/aws/ebs`)"
        served = [r for r in regions if ebs_kms_key_in_region(key, r) is not None]
        if served == regions:
            return f"`{key}`"
        others = [r for r in regions if r not in served]
        return (
            f"`{key}` in {', '.join(served) or 'no governed region'}; "
            f"the baseline sets no default key in {', '.join(others)} (a KMS key serves only "
            "its own region)"
        )
