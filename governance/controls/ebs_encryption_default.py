"""Keep EBS encryption by default on, with the approved key (an SCP).

The setting itself is applied in every member account by the account baseline
(``governance.controls.account_baseline``); this control stops anyone but the pipeline
from turning it off or changing its key afterwards.
"""

from __future__ import annotations

from core.spec import Spec
from governance.controls.base import Control, Statement
from governance.controls.grammar import deny
from governance.controls.parameters import EbsKmsKey

ID = "ebs-encryption-default"
CCM = ("IVS-04", "CEK-03")


class Parameters(EbsKmsKey):
    pass


def statements(params: Parameters, spec: Spec) -> list[Statement]:
    return [
        deny(CCM, "DenyDisableEbsEncryptionByDefault", ["ec2:DisableEbsEncryptionByDefault"]),
        deny(
            CCM,
            "DenyChangeEbsDefaultKmsKey",
            ["ec2:ModifyEbsDefaultKmsKeyId", "ec2:ResetEbsDefaultKmsKeyId"],
        ),
    ]


def words(params: Parameters, spec: Spec) -> str:
    return "default key: " + params.key_words(spec.regions)


CONTROL = Control(
    ID,
    "scp",
    "Keep EBS encryption by default on, with the approved key",
    CCM,
    "EBS encryption by default stays enabled in every governed region and its default "
    "KMS key is changed only by the pipeline.",
    "A volume created while the default is off is stored unencrypted.",
    parameters=Parameters,
    statements=statements,
    words=words,
)
