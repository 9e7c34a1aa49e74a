"""The control ids of audit records (the ``control`` field of each): what ``ivs audit``
checks, and what an accepted risk (``ivs:accepted``) names as its ``rule`` to accept drift.

Kept apart from ``governance.audit`` (which reads AWS) so that lint, run inside the Pulumi
program, can know them without importing boto3.
"""

from __future__ import annotations

MANAGEMENT_ACCOUNT = "management-account"
POLICY_TYPE_ENABLED = "policy-type-enabled"
POLICY_CONTENT = "policy-content"
POLICY_ATTACHMENT = "policy-attachment"
ATTACHMENT_COUNT = "attachment-count"
OU_EXISTS = "ou-exists"
OU_IN_SPEC = "ou-in-spec"
ACCOUNT_OU = "account-ou"
ACCOUNT_IN_SPEC = "account-in-spec"
EBS_ENCRYPTION = "ebs-encryption-by-default"
EBS_KMS_KEY = "ebs-default-kms-key"
IMAGE_BPA = "image-block-public-access"
SNAPSHOT_BPA = "snapshot-block-public-access"
IMDS_DEFAULTS = "imds-defaults"
BACKUP_VAULT = "backup-vault"
BACKUP_ROLE = "backup-role"
GUARDDUTY = "guardduty-enabled"
INSPECTOR_EC2 = "inspector-ec2-enabled"
SECURITYHUB = "securityhub-enabled"
REVIEW_OVERDUE = "review-overdue"
#: Every control id a record may have: what an accepted risk (``ivs:accepted``) names as
#: its ``rule`` to accept drift.
AUDIT_CONTROLS = frozenset(
    {
        MANAGEMENT_ACCOUNT,
        POLICY_TYPE_ENABLED,
        POLICY_CONTENT,
        POLICY_ATTACHMENT,
        ATTACHMENT_COUNT,
        OU_EXISTS,
        OU_IN_SPEC,
        ACCOUNT_OU,
        ACCOUNT_IN_SPEC,
        EBS_ENCRYPTION,
        EBS_KMS_KEY,
        IMAGE_BPA,
        SNAPSHOT_BPA,
        IMDS_DEFAULTS,
        BACKUP_VAULT,
        BACKUP_ROLE,
        GUARDDUTY,
        INSPECTOR_EC2,
        SECURITYHUB,
        REVIEW_OVERDUE,
    }
)
