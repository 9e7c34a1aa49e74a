"""Sandbox only: what moto 5.2 lacks for the per-account baseline and its audit.

Part of the AWS stand-in (moto on 127.0.0.1) used by ``ivs demo``, the tests and the
benchmarks; never used against real AWS and never imported by the audit itself.
moto has no image or snapshot block public access, no instance metadata defaults and no
``GetEbsDefaultKmsKeyId``; in server mode such a call returns HTTP 500. :func:`install`
adds these actions to moto's EC2 response class, with their state kept on moto's EC2
backend of each account and region (so ``moto.core`` resets clear it too). Responses go
through moto's own serializer, which writes them from botocore's EC2 service model.

It also lets moto's Organizations hold ``BACKUP_POLICY`` documents (moto lists the type
but fails to create one) and ``DECLARATIVE_POLICY_EC2`` documents (unknown to moto), as
plain stored JSON like its other types; :func:`seed_unsupported_documents` then creates
the documents ``sandbox.organization.seed_organization`` had to skip.

Behaviour follows the EC2 API reference:

- image block public access: ``unblocked`` until enabled (``block-new-sharing``);
- snapshot block public access: ``unblocked`` until enabled with a state;
- instance metadata defaults: no preference (empty ``AccountLevel``) until modified;
  a value of ``no-preference`` (or a hop limit of -1) clears that setting;
- the EBS default KMS key: AWS's ``alias/aws/ebs`` key until modified. AWS checks the key
  asynchronously, so a key moto cannot resolve (a key or alias in another account) is
  stored as given instead of failing.

IAM: moto holds no AWS managed policy unless told to load all of them
(``MOTO_IAM_LOAD_MANAGED_POLICIES``, over a thousand in every account), so attaching AWS's
backup policies to the backup role fails. :func:`install` gives every IAM backend the AWS
managed policies the account baseline attaches
(``governance.controls.backup_policy.ROLE_MANAGED_POLICIES``), from moto's own copy of
AWS's.

Inspector: ``BatchGetAccountStatus`` without ``accountIds`` answers for the caller's own
account (Inspector API Reference, *BatchGetAccountStatus*); moto fails on it (HTTP 500)
as soon as any account's status is held. :func:`install` reads the omission as AWS does.

:func:`seed_account_baseline` then puts the spec's per-account baseline on every member
account, as the ``baseline-<account-id>`` stacks would (with the backup vault and role
where a backup policy is in force), and :func:`seed_security_services` leaves every member
account-region with the security services on, as the org stack's delegated
administration does (moto has no organization-wide auto-enable: each member enables its
own).
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from core.aws import Aws
from core.spec import Spec

IMAGE_BPA = "_ivs_image_block_public_access"
SNAPSHOT_BPA = "_ivs_snapshot_block_public_access"
IMDS_DEFAULTS = "_ivs_instance_metadata_defaults"

_installed = False
_install_lock = threading.Lock()


def _backend(response: Any) -> Any:
    return response.ec2_backend


def _get_image_block_public_access_state(self: Any) -> Any:
    from moto.core.responses import ActionResult

    self.error_on_dryrun()
    state = getattr(_backend(self), IMAGE_BPA, "unblocked")
    return ActionResult({"ImageBlockPublicAccessState": state, "ManagedBy": "account"})


def _enable_image_block_public_access(self: Any) -> Any:
    from moto.core.responses import ActionResult

    self.error_on_dryrun()
    state = self._get_param("ImageBlockPublicAccessState")
    setattr(_backend(self), IMAGE_BPA, state)
    return ActionResult({"ImageBlockPublicAccessState": state})


def _disable_image_block_public_access(self: Any) -> Any:
    from moto.core.responses import ActionResult

    self.error_on_dryrun()
    setattr(_backend(self), IMAGE_BPA, "unblocked")
    return ActionResult({"ImageBlockPublicAccessState": "unblocked"})


def _get_snapshot_block_public_access_state(self: Any) -> Any:
    from moto.core.responses import ActionResult

    self.error_on_dryrun()
    state = getattr(_backend(self), SNAPSHOT_BPA, "unblocked")
    return ActionResult({"State": state, "ManagedBy": "account"})


def _enable_snapshot_block_public_access(self: Any) -> Any:
    from moto.core.responses import ActionResult

    self.error_on_dryrun()
    state = self._get_param("State")
    setattr(_backend(self), SNAPSHOT_BPA, state)
    return ActionResult({"State": state})


def _disable_snapshot_block_public_access(self: Any) -> Any:
    from moto.core.responses import ActionResult

    self.error_on_dryrun()
    setattr(_backend(self), SNAPSHOT_BPA, "unblocked")
    return ActionResult({"State": "unblocked"})


def _get_instance_metadata_defaults(self: Any) -> Any:
    from moto.core.responses import ActionResult

    self.error_on_dryrun()
    settings = dict(getattr(_backend(self), IMDS_DEFAULTS, {}))
    if settings:
        settings["ManagedBy"] = "account"
    return ActionResult({"AccountLevel": settings})


def _modify_instance_metadata_defaults(self: Any) -> Any:
    from moto.core.responses import ActionResult

    self.error_on_dryrun()
    backend = _backend(self)
    settings: dict[str, Any] = dict(getattr(backend, IMDS_DEFAULTS, {}))
    for key in ("HttpTokens", "HttpEndpoint", "InstanceMetadataTags", "HttpTokensEnforced"):
        value = self._get_param(key)
        if value == "no-preference":
            settings.pop(key, None)
        elif value is not None:
            settings[key] = value
    hops = self._get_int_param("HttpPutResponseHopLimit")
    if hops == -1:
        settings.pop("HttpPutResponseHopLimit", None)
    elif hops is not None:
        settings["HttpPutResponseHopLimit"] = hops
    setattr(backend, IMDS_DEFAULTS, settings)
    return ActionResult({"Return": True})


def _get_ebs_default_kms_key_id(self: Any) -> Any:
    from moto.core.responses import ActionResult

    self.error_on_dryrun()
    backend = _backend(self)
    key = backend.default_kms_key_id or backend._create_default_encryption_key()
    return ActionResult({"KmsKeyId": key})


def _reset_ebs_default_kms_key_id(self: Any) -> Any:
    from moto.core.responses import ActionResult

    self.error_on_dryrun()
    backend = _backend(self)
    backend.default_kms_key_id = ""
    return ActionResult({"KmsKeyId": backend._create_default_encryption_key()})


def _modify_ebs_default_kms_key_id(self: Any) -> Any:
    from moto.core.responses import ActionResult

    self.error_on_dryrun()
    backend = _backend(self)
    key = self._get_param("KmsKeyId")
    try:
        stored = backend.modify_ebs_default_kms_key_id(key)
    except Exception:  # moto cannot resolve it here; AWS would accept and check later
        backend.default_kms_key_id = key
        stored = key
    return ActionResult({"KmsKeyId": stored})


_HANDLERS = {
    "get_image_block_public_access_state": _get_image_block_public_access_state,
    "enable_image_block_public_access": _enable_image_block_public_access,
    "disable_image_block_public_access": _disable_image_block_public_access,
    "get_snapshot_block_public_access_state": _get_snapshot_block_public_access_state,
    "enable_snapshot_block_public_access": _enable_snapshot_block_public_access,
    "disable_snapshot_block_public_access": _disable_snapshot_block_public_access,
    "get_instance_metadata_defaults": _get_instance_metadata_defaults,
    "modify_instance_metadata_defaults": _modify_instance_metadata_defaults,
    "get_ebs_default_kms_key_id": _get_ebs_default_kms_key_id,
    "reset_ebs_default_kms_key_id": _reset_ebs_default_kms_key_id,
    "modify_ebs_default_kms_key_id": _modify_ebs_default_kms_key_id,
}


#: Organizations policy types moto does not create, and the ARN path AWS gives them.
EXTRA_POLICY_TYPES = {
    "BACKUP_POLICY": "backup_policy",
    "DECLARATIVE_POLICY_EC2": "declarative_policy_ec2",
}


def _install_policy_types() -> None:
    from moto.organizations import models

    for policy_type in EXTRA_POLICY_TYPES:
        for supported in (
            models.FakePolicy.SUPPORTED_POLICY_TYPES,
            models.FakeRoot.SUPPORTED_POLICY_TYPES,
        ):
            if policy_type not in supported:
                supported.append(policy_type)
    original = models.FakePolicy.__init__

    def init(self: Any, organization: Any, **kwargs: Any) -> None:
        policy_type = kwargs.get("Type", "")
        if policy_type not in EXTRA_POLICY_TYPES:
            original(self, organization, **kwargs)
            return
        # Built as an SCP (validation, id, attachments), then given its own type and ARN.
        original(self, organization, **{**kwargs, "Type": "SERVICE_CONTROL_POLICY"})
        self.type = policy_type
        self._arn_format = (
            "arn:{0}:organizations::{1}:policy/{2}/" + EXTRA_POLICY_TYPES[policy_type] + "/{3}"
        )

    models.FakePolicy.__init__ = init  # type: ignore[method-assign]


@functools.cache
def _managed_policy_data() -> dict[str, Any]:
    """The AWS managed policies the account baseline attaches, as moto stores AWS's."""
    from moto.iam import aws_managed_policies

    from governance.controls.backup_policy import ROLE_MANAGED_POLICIES

    every = json.loads(aws_managed_policies.aws_managed_policies_data)
    return {name: every[name] for name in ROLE_MANAGED_POLICIES}


def _baseline_policies(backend: Any) -> list[Any]:
    from moto.iam.models import AWSManagedPolicy

    return [
        AWSManagedPolicy.from_data(name, backend.account_id, backend.region_name, data)
        for name, data in _managed_policy_data().items()
    ]


def _install_managed_policies() -> None:
    from moto.iam import models

    original = models.IAMBackend._init_aws_policies

    def init_aws_policies(self: Any) -> list[Any]:
        policies: list[Any] = original(self)
        return policies or _baseline_policies(self)  # all of them when moto loads them

    models.IAMBackend._init_aws_policies = init_aws_policies  # type: ignore[method-assign]
    for regions in list(models.iam_backends.values()):  # accounts moto holds already
        for backend in list(regions.values()):
            for policy in _baseline_policies(backend):
                if policy.arn not in backend.managed_policies:
                    backend.aws_managed_policies.append(policy)
                    backend.managed_policies[policy.arn] = policy


def _install_inspector_caller_default() -> None:
    from moto.inspector2.models import Inspector2Backend

    original = Inspector2Backend.batch_get_account_status

    def batch_get_account_status(self: Any, account_ids: list[str] | None) -> Any:
        return original(self, account_ids if account_ids is not None else [self.account_id])

    Inspector2Backend.batch_get_account_status = batch_get_account_status  # type: ignore[method-assign]


def install() -> None:
    """Add the missing actions and policy types to moto (idempotent; in-process and
    server mode alike).

    moto dispatches an action to the response class's method of the same snake_case name,
    so adding methods is all it takes.
    """
    global _installed
    with _install_lock:
        if _installed:
            return
        from moto.ec2.responses import EC2Response

        for name, handler in _HANDLERS.items():
            setattr(EC2Response, name, handler)
        _install_policy_types()
        _install_managed_policies()
        _install_inspector_caller_default()
        _installed = True


def seed_unsupported_documents(spec: Spec, aws: Aws, seeded: Any) -> list[str]:
    """Create and attach the documents ``seed_organization`` skipped (needs :func:`install`).

    ``seeded`` is its ``SeededOrganization``; returns the names created.
    """
    from governance.policies import build_documents
    from sandbox.organization import deploy_documents, management_aws

    org = management_aws(spec, aws).client("organizations")
    docs = [d for d in build_documents(spec) if d.name in set(seeded.skipped)]
    deploy_documents(org, seeded, docs)
    seeded.skipped = [name for name in seeded.skipped if name not in seeded.policies]
    return [d.name for d in docs]


# ---- the per-account baseline, as the account stacks would leave it ---------------------


def seed_account_baseline(
    aws: Aws,
    spec: Spec,
    account_ids: Iterable[str] | None = None,
    *,
    workers: int = 8,
) -> None:
    """Apply the spec's per-account baseline to member accounts of a moto organization.

    The same settings ``AccountBaseline`` declares, through boto3 with the member role:
    EBS encryption by default and its key (where the key serves the region), image and
    snapshot block public access, and the OU's IMDS defaults, in every governed region;
    where a backup policy is in force, its vault in each region it needs and its role
    (needs :func:`install`, for the role's AWS managed policies).
    """
    from governance.controls import expected_account_settings, expected_backup_needs
    from governance.controls.backup_policy import (
        ROLE_MANAGED_POLICIES,
        managed_policy_arn,
        trust_policy,
    )

    chosen = set(account_ids) if account_ids is not None else None
    members = [(a.id, p) for a, p in spec.accounts() if chosen is None or a.id in chosen]

    def seed(account_id: str) -> None:
        member = aws.assume(account_id, spec.member_role_name)
        for region in spec.regions:
            expected = expected_account_settings(spec, account_id, region)
            ec2 = member.client("ec2", region)
            ec2.enable_ebs_encryption_by_default()
            if expected.kms_key is not None:
                ec2.modify_ebs_default_kms_key_id(KmsKeyId=expected.kms_key)
            ec2.enable_image_block_public_access(
                ImageBlockPublicAccessState=expected.image_block_public_access
            )
            ec2.enable_snapshot_block_public_access(State=expected.snapshot_block_public_access)
            ec2.modify_instance_metadata_defaults(
                HttpTokens=expected.http_tokens,
                HttpPutResponseHopLimit=expected.http_put_response_hop_limit,
                InstanceMetadataTags=expected.instance_metadata_tags,
            )
        backup = expected_backup_needs(spec, account_id)
        if backup is None:
            return
        # a second run leaves what the first made, as a stack update would
        for region in backup.regions:
            with _unless("AlreadyExistsException"):
                member.client("backup", region).create_backup_vault(
                    BackupVaultName=backup.vault_name
                )
        iam = member.client("iam")
        with _unless("EntityAlreadyExists"):
            iam.create_role(
                RoleName=backup.role_name, AssumeRolePolicyDocument=json.dumps(trust_policy())
            )
        for name in ROLE_MANAGED_POLICIES:
            iam.attach_role_policy(RoleName=backup.role_name, PolicyArn=managed_policy_arn(name))

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        list(pool.map(seed, [account_id for account_id, _ in members]))


@contextmanager
def _unless(code: str) -> Iterator[None]:
    """Ignore a ClientError of ``code`` (what was to be made is there already)."""
    from botocore.exceptions import ClientError

    try:
        yield
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") != code:
            raise


def seed_security_services(
    aws: Aws,
    spec: Spec,
    account_ids: Iterable[str] | None = None,
    *,
    workers: int = 8,
) -> None:
    """Turn on, in every member account and governed region, the security services the
    org stack administers for the spec (``governance.controls.security_services``):
    a GuardDuty detector, Inspector EC2 scanning and Security Hub, as the delegated
    administrator's auto-enable leaves them. Nothing when the spec names no delegated
    administrator."""
    from governance.controls.security_services import administered

    services = administered(spec)
    chosen = set(account_ids) if account_ids is not None else None
    members = [a.id for a, _ in spec.accounts() if chosen is None or a.id in chosen]
    if not services:
        return

    def seed(account_id: str) -> None:
        member = aws.assume(account_id, spec.member_role_name)
        for region in spec.regions:
            if "guardduty" in services:
                guardduty = member.client("guardduty", region)
                if not guardduty.list_detectors()["DetectorIds"]:
                    guardduty.create_detector(Enable=True)
            if "inspector-ec2" in services:
                member.client("inspector2", region).enable(
                    accountIds=[account_id], resourceTypes=["EC2"]
                )
            if "securityhub" in services:
                member.client("securityhub", region).enable_security_hub()

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        list(pool.map(seed, members))
