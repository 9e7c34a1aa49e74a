"""``ivs audit``: read the organization back and prove it matches the spec.

Two reads, then one pure comparison each (get, then compare; the comparisons touch no
network and are tested with literal API responses):

- the organization, with the management account's credentials: the root's enabled policy
  types, the OU tree, which account sits under which parent, and for each policy type the
  policies, their content and their targets (:func:`read_organization`,
  :func:`compare_organization`);
- each member account, through ``Aws.assume(account, spec.member_role_name)``: in every
  governed region, EBS encryption by default and its KMS key, image and snapshot block
  public access, and the IMDS defaults (:func:`audit_account`), compared with what the
  account's ``baseline-<account-id>`` stack declares (:func:`expected_account_settings`);
  where a backup policy is in force, the vault it names in each region where it runs and
  the role (:func:`expected_backup_needs`); and, when the spec names a delegated
  administrator, each security service the org stack enables (GuardDuty, Inspector EC2
  scanning, Security Hub) in every governed region.

Every result is a :class:`Check`: one record per (account, region, control, resource) with
``pass``, ``drift`` (with what was expected and what was found) or ``not_assessed`` (with
the error). A role that cannot be assumed or a call that fails is ``not_assessed``, never
``pass``. Organization-wide records belong to the management account, region ``global``.
``ivs audit`` (``ivs.audit``) prints them and exits 1 on any drift.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal
from urllib.parse import unquote

from botocore.exceptions import ClientError

from core.accepted import accept
from core.aws import Aws, error_code, error_message
from core.cluster import task_pool, worker_lost
from core.jsonio import normalized
from core.spec import ROOT, Spec
from core.vocabulary import POLICY_TYPES, partition_of
from governance.controls import (
    AccountSettings,
    BackupNeeds,
    expected_account_settings,
    expected_backup_needs,
)
from governance.controls.account_baseline import CONTROL as ACCOUNT_BASELINE
from governance.controls.backup_policy import CONTROL as BACKUP_POLICY
from governance.controls.backup_policy import (
    ROLE_MANAGED_POLICIES,
    SERVICE_PRINCIPAL,
    managed_policy_arn,
)
from governance.controls.security_services import CONTROL as SECURITY_SERVICES
from governance.controls.security_services import administered
from governance.policies import FULL_AWS_ACCESS, build_documents, organization_policy_types
from governance.policies.model import PolicyDocument
from governance.records import (
    ACCOUNT_IN_SPEC,
    ACCOUNT_OU,
    ATTACHMENT_COUNT,
    AUDIT_CONTROLS,
    BACKUP_ROLE,
    BACKUP_VAULT,
    EBS_ENCRYPTION,
    EBS_KMS_KEY,
    GUARDDUTY,
    IMAGE_BPA,
    IMDS_DEFAULTS,
    INSPECTOR_EC2,
    MANAGEMENT_ACCOUNT,
    OU_EXISTS,
    OU_IN_SPEC,
    POLICY_ATTACHMENT,
    POLICY_CONTENT,
    POLICY_TYPE_ENABLED,
    REVIEW_OVERDUE,
    SECURITYHUB,
    SNAPSHOT_BPA,
)

Status = Literal["pass", "drift", "not_assessed"]
GLOBAL = "global"

#: What a read may raise: anything. botocore raises ``ResponseParserError`` (not a
#: ``ClientError``) when an endpoint answers a 5xx with an HTML body; a read that fails
#: in any way is recorded as not assessed for what it was about, never as pass, and
#: never ends the audit.
ERRORS = (Exception,)


@dataclass(frozen=True)
class Check:
    """One audit record."""

    account: str
    region: str
    control: str
    resource: str
    status: Status
    expected: Any = None
    actual: Any = None
    error: str | None = None
    detail: str = ""
    #: The built-in controls the record is about (empty for the organization's layout).
    controls: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        record = asdict(self)
        record["controls"] = list(self.controls)
        if self.status != "drift":
            record.pop("expected")
            record.pop("actual")
        if self.error is None:
            record.pop("error")
        return record


#: Characters of an error message kept in a record (an HTML error page is not a reason).
ERROR_CHARS = 300


def _failed(err: BaseException) -> str:
    text = f"{error_code(err)}: {error_message(err)}"
    return text if len(text) <= ERROR_CHARS else text[: ERROR_CHARS - 3] + "..."


# ---- what the spec expects --------------------------------------------------------------


# ---- the organization: read ---------------------------------------------------------------


@dataclass
class PolicyState:
    id: str
    name: str
    type: str
    aws_managed: bool
    content: Any = None  # parsed JSON; None when it could not be read
    targets: list[str] = field(default_factory=list)  # target ids
    error: str | None = None  # reading content or targets failed


@dataclass
class OrganizationState:
    """The organization as read; a field left None could not be read (see ``errors``)."""

    management_account_id: str | None = None
    root_id: str | None = None
    enabled_types: set[str] | None = None
    units: dict[str, str] | None = None  # OU path -> id
    account_parents: dict[str, str] | None = None  # account id -> parent path ("root")
    policies: dict[str, list[PolicyState]] = field(default_factory=dict)  # type -> policies
    policy_errors: dict[str, str] = field(default_factory=dict)  # type -> error
    errors: dict[str, str] = field(default_factory=dict)  # what -> error


def _pages(client: Any, operation: str, key: str, **kwargs: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in client.get_paginator(operation).paginate(**kwargs):
        items.extend(page.get(key, []))
    return items


def read_units(org: Any, root_id: str) -> dict[str, str]:
    """Every OU of the organization: path (``Workloads/Prod``) -> id, parents first."""
    units: dict[str, str] = {}
    queue: list[tuple[str, str]] = [("", root_id)]
    while queue:
        prefix, parent_id = queue.pop(0)
        for ou in _pages(
            org, "list_organizational_units_for_parent", "OrganizationalUnits", ParentId=parent_id
        ):
            path = f"{prefix}/{ou['Name']}" if prefix else ou["Name"]
            units[path] = ou["Id"]
            queue.append((path, ou["Id"]))
    return units


def read_policies(org: Any, policy_type: str, pool: ThreadPoolExecutor) -> list[PolicyState]:
    """The policies of one type with their content and targets (raises if listing fails)."""
    summaries = _pages(org, "list_policies", "Policies", Filter=policy_type)

    def detail(summary: dict[str, Any]) -> PolicyState:
        state = PolicyState(
            id=summary["Id"],
            name=summary["Name"],
            type=policy_type,
            aws_managed=bool(summary.get("AwsManaged")),
        )
        try:
            if not state.aws_managed:
                content = org.describe_policy(PolicyId=state.id)["Policy"]["Content"]
                state.content = json.loads(content)
            targets = _pages(org, "list_targets_for_policy", "Targets", PolicyId=state.id)
            state.targets = [t["TargetId"] for t in targets]
        except json.JSONDecodeError as err:
            state.error = f"content is not JSON: {err.msg}"
        except ERRORS as err:
            state.error = _failed(err)
        return state

    return list(pool.map(detail, summaries))


def read_organization(
    org: Any, policy_types: Iterable[str], pool: ThreadPoolExecutor
) -> OrganizationState:
    """Read everything :func:`compare_organization` needs; failures are kept, not raised.

    Policies are read for ``policy_types`` and for every type enabled on the root, so a
    policy of a type the spec does not use (an RCP attached by hand) is seen too.
    """
    state = OrganizationState()
    try:
        state.management_account_id = org.describe_organization()["Organization"]["MasterAccountId"]
    except ERRORS as err:
        state.errors["organization"] = _failed(err)
    try:
        root = org.list_roots()["Roots"][0]
        state.root_id = root["Id"]
        state.enabled_types = {
            t["Type"] for t in root.get("PolicyTypes", []) if t.get("Status") == "ENABLED"
        }
    except ERRORS as err:
        state.errors["root"] = _failed(err)
        return state
    try:
        state.units = read_units(org, state.root_id)
    except ERRORS as err:
        state.errors["units"] = _failed(err)
        return state
    parents = {ROOT: state.root_id, **state.units}

    def accounts_of(item: tuple[str, str]) -> tuple[str, list[dict[str, Any]]]:
        path, parent_id = item
        return path, _pages(org, "list_accounts_for_parent", "Accounts", ParentId=parent_id)

    try:
        state.account_parents = {
            account["Id"]: path
            for path, accounts in pool.map(accounts_of, parents.items())
            for account in accounts
        }
    except ERRORS as err:
        state.errors["accounts"] = _failed(err)
    for policy_type in sorted({*policy_types, *state.enabled_types}):
        try:
            state.policies[policy_type] = read_policies(org, policy_type, pool)
        except ERRORS as err:
            state.policy_errors[policy_type] = _failed(err)
    return state


# ---- the organization: compare --------------------------------------------------------------


def first_difference(expected: Any, actual: Any, path: str = "") -> str:
    """Where two JSON documents first differ, for a person to read.

    >>> first_difference({"a": [1, 2]}, {"a": [1, 3]})
    'a[1]: expected 2, found 3'
    """
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in sorted(set(expected) | set(actual)):
            where = f"{path}.{key}" if path else key
            if key not in actual:
                return f"{where}: missing"
            if key not in expected:
                return f"{where}: not in the spec"
            if normalized(expected[key]) != normalized(actual[key]):
                return first_difference(expected[key], actual[key], where)
    if isinstance(expected, list) and isinstance(actual, list):
        for index, (left, right) in enumerate(zip(expected, actual, strict=False)):
            if normalized(left) != normalized(right):
                return first_difference(left, right, f"{path}[{index}]")
        if len(expected) != len(actual):
            return f"{path}: {len(expected)} items expected, {len(actual)} found"
    return f"{path or 'document'}: expected {json.dumps(expected)}, found {json.dumps(actual)}"


class _Records:
    """Collects organization records, keeping only ``accounts``' when the audit is scoped."""

    def __init__(self, spec: Spec, accounts: set[str] | None) -> None:
        self.spec = spec
        self.mgmt = spec.organization.management_account_id
        self.accounts = accounts
        self.checks: list[Check] = []

    def add(self, account: str, control: str, resource: str, status: Status, **extra: Any) -> None:
        if self.accounts is None or account in self.accounts:
            self.checks.append(Check(account, GLOBAL, control, resource, status, **extra))

    def org(self, control: str, resource: str, status: Status, **extra: Any) -> None:
        self.add(self.mgmt, control, resource, status, **extra)

    def attachment(self, target: str, name: str, status: Status, **extra: Any) -> None:
        """A record about ``name`` at ``target``: the account's own when it is an account."""
        owner = target if target.isdigit() else self.mgmt
        self.add(owner, POLICY_ATTACHMENT, f"{name} @ {target}", status, **extra)


def compare_organization(
    spec: Spec,
    docs: Sequence[PolicyDocument],
    state: OrganizationState,
    *,
    today: dt.date,
    accounts: set[str] | None = None,
) -> list[Check]:
    """Organization records: the full set, or only those of ``accounts`` when given."""
    records = _Records(spec, accounts)
    _organization_checks(records, state, today)
    root_error = state.errors.get("root") or state.errors.get("units")
    if root_error:  # nothing below can be assessed without the root and the OU tree
        for doc in docs:
            records.org(POLICY_CONTENT, doc.name, "not_assessed", error=root_error)
        for account, _path in spec.accounts():
            records.add(account.id, ACCOUNT_OU, account.id, "not_assessed", error=root_error)
        return records.checks
    assert state.root_id is not None and state.units is not None and state.enabled_types is not None

    expected_types = organization_policy_types(docs)
    for policy_type in expected_types:
        if policy_type in state.enabled_types:
            records.org(POLICY_TYPE_ENABLED, policy_type, "pass")
        else:
            records.org(
                POLICY_TYPE_ENABLED, policy_type, "drift", expected="ENABLED", actual="not enabled"
            )
    for policy_type in sorted(state.enabled_types - set(expected_types)):
        # the org stack enables only what the spec uses: `pulumi up` would disable it
        records.org(
            POLICY_TYPE_ENABLED,
            policy_type,
            "drift",
            expected="not enabled (no document of the spec is of this type)",
            actual="ENABLED",
        )
    _layout_checks(records, state)

    # Organizations ids of the spec's targets that exist: root, OUs, member accounts.
    target_ids: dict[str, str] = {ROOT: state.root_id, **state.units}
    for account, _path in spec.accounts():
        if state.account_parents is None or account.id in state.account_parents:
            target_ids[account.id] = account.id
    for doc in docs:
        _document_checks(records, doc, state, target_ids)
    _attached_checks(records, docs, state, target_ids)
    return records.checks


def _organization_checks(records: _Records, state: OrganizationState, today: dt.date) -> None:
    """The management account, and the written policy's review."""
    mgmt = records.mgmt
    if "organization" in state.errors:
        error = state.errors["organization"]
        records.org(MANAGEMENT_ACCOUNT, "organization", "not_assessed", error=error)
    elif state.management_account_id != mgmt:
        actual = state.management_account_id
        records.org(MANAGEMENT_ACCOUNT, "organization", "drift", expected=mgmt, actual=actual)
    else:
        records.org(MANAGEMENT_ACCOUNT, "organization", "pass")
    control, resource, status, extra = _review(records.spec, today)
    records.org(control, resource, status, **extra)


def _layout_checks(records: _Records, state: OrganizationState) -> None:
    """OUs present (and none unlisted), and each account in the OU the spec says."""
    assert state.units is not None
    spec = records.spec
    spec_units = [path for path, _ in spec.units()]
    for path in spec_units:
        if path in state.units:
            records.org(OU_EXISTS, path, "pass")
        else:
            records.org(OU_EXISTS, path, "drift", expected="present", actual="missing")
    for path in sorted(set(state.units) - set(spec_units)):
        records.org(
            OU_IN_SPEC, path, "drift", expected="absent (not in the spec)", actual="present"
        )

    listed = {account.id: path for account, path in spec.accounts()}
    if state.account_parents is None:
        for account_id in listed:
            error = state.errors["accounts"]
            records.add(account_id, ACCOUNT_OU, account_id, "not_assessed", error=error)
        return
    for account_id, path in listed.items():
        actual = state.account_parents.get(account_id)
        if actual == path:
            records.add(account_id, ACCOUNT_OU, account_id, "pass", detail=path)
        else:
            actual = actual or "not in the organization"
            records.add(account_id, ACCOUNT_OU, account_id, "drift", expected=path, actual=actual)
    for account_id in sorted(set(state.account_parents) - set(listed) - {records.mgmt}):
        actual = f"in {state.account_parents[account_id]}"
        records.add(
            account_id,
            ACCOUNT_IN_SPEC,
            account_id,
            "drift",
            expected="listed in the spec",
            actual=actual,
        )


def _document_checks(
    records: _Records, doc: PolicyDocument, state: OrganizationState, target_ids: dict[str, str]
) -> None:
    """One expected document: it exists with the same content, attached where it should be."""
    ptype = doc.policy_type
    held = doc.controls
    error: str | None = None
    if ptype in state.policy_errors:
        error = f"cannot list {ptype} policies: {state.policy_errors[ptype]}"
    found = next((p for p in state.policies.get(ptype, []) if p.name == doc.name), None)
    if error is None and found is not None:
        error = found.error
    if error is not None:
        records.org(POLICY_CONTENT, doc.name, "not_assessed", controls=held, error=error)
        for target in doc.targets:
            records.attachment(target, doc.name, "not_assessed", error=error, controls=held)
        return
    if found is None:
        records.org(
            POLICY_CONTENT,
            doc.name,
            "drift",
            expected=doc.content,
            actual=None,
            detail="policy missing",
            controls=held,
        )
        for target in doc.targets:
            records.attachment(
                target,
                doc.name,
                "drift",
                expected="attached",
                actual="policy missing",
                controls=held,
            )
        return
    if normalized(found.content) == normalized(doc.content):
        records.org(POLICY_CONTENT, doc.name, "pass", controls=held)
    else:
        records.org(
            POLICY_CONTENT,
            doc.name,
            "drift",
            expected=doc.content,
            actual=found.content,
            detail=first_difference(doc.content, found.content),
            controls=held,
        )
    for target in doc.targets:
        target_id = target_ids.get(target)
        if target_id is None:
            continue  # the OU or account is missing: reported once, by the layout checks
        if target_id in found.targets:
            records.attachment(target, doc.name, "pass", controls=held)
        else:
            records.attachment(
                target,
                doc.name,
                "drift",
                expected="attached",
                actual="not attached",
                controls=held,
            )


def _attached_checks(
    records: _Records,
    docs: Sequence[PolicyDocument],
    state: OrganizationState,
    target_ids: dict[str, str],
) -> None:
    """At each spec target: customer policies the spec does not attach there, and the count
    of attached policies of each type against the limit (AWS-managed ones count too)."""
    target_names = {target_id: target for target, target_id in target_ids.items()}
    kind_of = {ptype: kind for kind, ptype in POLICY_TYPES.items()}
    for ptype, policies in state.policies.items():
        if ptype == POLICY_TYPES["scp"]:
            _full_access_checks(records, policies, target_ids)
        expected: dict[str, set[str]] = defaultdict(set)  # target id -> expected names
        for doc in docs:
            if doc.policy_type == ptype:
                for target in doc.targets:
                    if target in target_ids:
                        expected[target_ids[target]].add(doc.name)
        attached: dict[str, list[PolicyState]] = defaultdict(list)
        for policy in policies:
            for target_id in policy.targets:
                if target_id in target_names:
                    attached[target_id].append(policy)
        for target_id, held in sorted(attached.items()):
            target = target_names[target_id]
            for policy in held:
                if not policy.aws_managed and policy.name not in expected[target_id]:
                    records.attachment(
                        target,
                        policy.name,
                        "drift",
                        expected="not attached",
                        actual="attached",
                        detail=f"{policy.id} is not in the spec",
                    )
            kind = kind_of.get(ptype)
            if kind is None:
                continue
            limit = records.spec.limits.max_per_target(kind)
            owner = target if target.isdigit() else records.mgmt
            resource = f"{ptype} @ {target}"
            if len(held) > limit:
                records.add(
                    owner,
                    ATTACHMENT_COUNT,
                    resource,
                    "drift",
                    expected=f"at most {limit}",
                    actual=len(held),
                    detail=", ".join(sorted(p.name for p in held)),
                )
            elif target_id in expected:
                records.add(
                    owner, ATTACHMENT_COUNT, resource, "pass", detail=f"{len(held)} of {limit}"
                )


def _full_access_checks(
    records: _Records, scps: Sequence[PolicyState], target_ids: dict[str, str]
) -> None:
    """The baseline's SCPs only deny: each target also needs AWS's ``FullAWSAccess``, or
    every action not allowed by another SCP is denied there (and packing counted it)."""
    full = next((p for p in scps if p.aws_managed and p.name == FULL_AWS_ACCESS), None)
    for target, target_id in target_ids.items():
        if full is not None and target_id in full.targets:
            records.attachment(target, FULL_AWS_ACCESS, "pass")
        else:
            records.attachment(
                target,
                FULL_AWS_ACCESS,
                "drift",
                expected="attached",
                actual="not attached",
                detail="every action no other SCP allows is denied at this target",
            )


def _review(spec: Spec, today: dt.date) -> tuple[str, str, Status, dict[str, Any]]:
    """IVS-01: the written policy is reviewed at least every ``review_interval_days``."""
    review = spec.review
    resource = "ivs.review.last_reviewed"
    if review.last_reviewed is None:
        return (
            REVIEW_OVERDUE,
            resource,
            "drift",
            {
                "expected": f"a review within {review.review_interval_days} days",
                "actual": "never reviewed",
                "detail": "review-overdue: no last review date in the spec",
            },
        )
    due = review.last_reviewed + dt.timedelta(days=review.review_interval_days)
    if today > due:
        return (
            REVIEW_OVERDUE,
            resource,
            "drift",
            {
                "expected": f"reviewed by {due.isoformat()}",
                "actual": review.last_reviewed.isoformat(),
                "detail": f"review-overdue: {(today - due).days} days past due",
            },
        )
    return REVIEW_OVERDUE, resource, "pass", {"detail": f"next review due {due.isoformat()}"}


# ---- member accounts ------------------------------------------------------------------------


MEMBER_CONTROLS = (EBS_ENCRYPTION, EBS_KMS_KEY, IMAGE_BPA, SNAPSHOT_BPA, IMDS_DEFAULTS)
#: The record of each security service the org stack enables.
SERVICE_CONTROLS = {
    "guardduty": GUARDDUTY,
    "inspector-ec2": INSPECTOR_EC2,
    "securityhub": SECURITYHUB,
}


def audit_account(aws: Aws, spec: Spec, account_id: str) -> list[Check]:
    """One member account: its per-account baseline in every governed region, what the
    backup policy in force on it needs, and the security services the org stack enables.

    Each record names the controls it is about: the account baseline; the account
    baseline and the backup policy for the vault and the role; the security services.
    """
    held = (ACCOUNT_BASELINE.id,)
    backup = expected_backup_needs(spec, account_id)
    needs = _needed(spec, account_id, backup)
    try:
        member = aws.assume(account_id, spec.member_role_name)
    except ERRORS as err:
        return account_not_assessed(
            spec, account_id, f"cannot assume {spec.member_role_name}: {_failed(err)}"
        )
    checks = [replace(c, controls=held) for c in _account_checks(member, spec, account_id)]
    for need in needs:
        try:
            checks.append(replace(need.probe(member, account_id, need), controls=need.controls))
        except ERRORS as err:
            checks.append(need.not_assessed(account_id, _failed(err)))
    return checks


def account_not_assessed(spec: Spec, account_id: str, error: str) -> list[Check]:
    """Every record of a member account, ``not_assessed`` with ``error``: the account
    could not be reached, or the workers that read it died."""
    held = (ACCOUNT_BASELINE.id,)
    settings = _account_checks(None, spec, account_id, error)
    needs = _needed(spec, account_id, expected_backup_needs(spec, account_id))
    return [replace(c, controls=held) for c in settings] + [
        need.not_assessed(account_id, error) for need in needs
    ]


def _account_checks(
    member: Aws | None, spec: Spec, account_id: str, error: str | None = None
) -> list[Check]:
    """The EC2 and EBS settings in every region; all ``not_assessed`` with ``error`` when
    the account could not be reached (``member`` None)."""
    expected = {
        region: expected_account_settings(spec, account_id, region) for region in spec.regions
    }

    def controls(region: str) -> list[str]:
        return [c for c in MEMBER_CONTROLS if c != EBS_KMS_KEY or expected[region].kms_key]

    if member is None:
        return [
            Check(account_id, region, control, control, "not_assessed", error=error)
            for region in spec.regions
            for control in controls(region)
        ]
    checks: list[Check] = []
    for region in spec.regions:
        want = expected[region]
        try:
            ec2 = member.client("ec2", region)
        except ERRORS as err:
            checks += [
                Check(account_id, region, c, c, "not_assessed", error=_failed(err))
                for c in controls(region)
            ]
            continue
        for control, probe in _PROBES:
            if control not in controls(region):
                continue
            try:
                checks.append(probe(ec2, member, account_id, region, want))
            except ERRORS as err:
                checks.append(
                    Check(account_id, region, control, control, "not_assessed", error=_failed(err))
                )
    return checks


def _verdict(
    account: str, region: str, control: str, expected: Any, actual: Any, detail: str = ""
) -> Check:
    if expected == actual:
        return Check(account, region, control, control, "pass", detail=detail)
    return Check(
        account, region, control, control, "drift", expected=expected, actual=actual, detail=detail
    )


def _ebs_encryption(ec2: Any, _m: Aws, account: str, region: str, _w: AccountSettings) -> Check:
    actual = bool(ec2.get_ebs_encryption_by_default()["EbsEncryptionByDefault"])
    return _verdict(account, region, EBS_ENCRYPTION, True, actual)


def _ebs_kms_key(ec2: Any, member: Aws, account: str, region: str, want: AccountSettings) -> Check:
    expected = want.kms_key
    actual = ec2.get_ebs_default_kms_key_id().get("KmsKeyId")
    if actual == expected or expected is None or actual is None:
        return _verdict(account, region, EBS_KMS_KEY, expected, actual)
    # The spec may name an alias where AWS reports the key it points at (or the other way
    # round): compare the key ARNs that KMS resolves both to.
    kms = member.client("kms", region)
    try:
        want = kms.describe_key(KeyId=expected)["KeyMetadata"]["Arn"]
        have = kms.describe_key(KeyId=actual)["KeyMetadata"]["Arn"]
    except ERRORS as err:
        detail = f"could not resolve the keys to compare them: {_failed(err)}"
        return _verdict(account, region, EBS_KMS_KEY, expected, actual, detail)
    if want == have:
        return Check(
            account, region, EBS_KMS_KEY, EBS_KMS_KEY, "pass", detail=f"{expected} is {have}"
        )
    return _verdict(account, region, EBS_KMS_KEY, expected, actual, f"{expected} is {want}")


def _image_bpa(ec2: Any, _m: Aws, account: str, region: str, want: AccountSettings) -> Check:
    actual = ec2.get_image_block_public_access_state()["ImageBlockPublicAccessState"]
    return _verdict(account, region, IMAGE_BPA, want.image_block_public_access, actual)


def _snapshot_bpa(ec2: Any, _m: Aws, account: str, region: str, want: AccountSettings) -> Check:
    actual = ec2.get_snapshot_block_public_access_state()["State"]
    return _verdict(account, region, SNAPSHOT_BPA, want.snapshot_block_public_access, actual)


def _imds(ec2: Any, _m: Aws, account: str, region: str, want: AccountSettings) -> Check:
    level = ec2.get_instance_metadata_defaults().get("AccountLevel", {})
    actual = {key: level.get(key) for key in want.imds}
    managed_by = level.get("ManagedBy")
    detail = f"managed by {managed_by}" if managed_by and managed_by != "account" else ""
    return _verdict(account, region, IMDS_DEFAULTS, want.imds, actual, detail)


Probe = Callable[[Any, Aws, str, str, AccountSettings], Check]
_PROBES: tuple[tuple[str, Probe], ...] = (
    (EBS_ENCRYPTION, _ebs_encryption),
    (EBS_KMS_KEY, _ebs_kms_key),
    (IMAGE_BPA, _image_bpa),
    (SNAPSHOT_BPA, _snapshot_bpa),
    (IMDS_DEFAULTS, _imds),
)


# ---- what the controls need in each member account ----------------------------------------


@dataclass(frozen=True)
class _Need:
    """One record to read in a member account: a resource a control needs."""

    region: str
    control: str
    resource: str
    controls: tuple[str, ...]
    probe: Callable[[Aws, str, _Need], Check]
    partition: str = "aws"

    def check(self, account: str, status: Status, **extra: Any) -> Check:
        return Check(account, self.region, self.control, self.resource, status, **extra)

    def not_assessed(self, account: str, error: str) -> Check:
        return self.check(account, "not_assessed", error=error, controls=self.controls)


def _needed(spec: Spec, account_id: str, backup: BackupNeeds | None) -> list[_Need]:
    """The backup role (global), then per region the vault and each security service."""
    needs: list[_Need] = []
    partition = partition_of(spec.regions[0])
    for_backup = (ACCOUNT_BASELINE.id, BACKUP_POLICY.id)
    if backup is not None:
        needs.append(
            _Need(GLOBAL, BACKUP_ROLE, backup.role_name, for_backup, _backup_role, partition)
        )
    services = administered(spec)
    for region in spec.regions:
        if backup is not None and region in backup.regions:
            needs.append(_Need(region, BACKUP_VAULT, backup.vault_name, for_backup, _backup_vault))
        for service in services:
            control = SERVICE_CONTROLS[service]
            needs.append(
                _Need(region, control, control, (SECURITY_SERVICES.id,), _SERVICE_PROBES[service])
            )
    return needs


def _missing(err: ClientError, *codes: str) -> bool:
    """The call failed because what it reads does not exist (drift), not for a reason
    that leaves the answer unknown (not assessed)."""
    return error_code(err) in codes


def _backup_vault(member: Aws, account: str, need: _Need) -> Check:
    """DescribeBackupVault by name: ``ResourceNotFoundException`` when there is none (AWS
    Backup API Reference, *DescribeBackupVault*)."""
    backup = member.client("backup", need.region)
    try:
        vault = backup.describe_backup_vault(BackupVaultName=need.resource)
    except ClientError as err:
        if not _missing(err, "ResourceNotFoundException"):
            raise
        return need.check(
            account, "drift", expected="present", actual="missing", detail="vault missing"
        )
    return need.check(account, "pass", detail=str(vault.get("BackupVaultArn", "")))


def _policy_document(document: Any) -> dict[str, Any]:
    # boto3 decodes IAM's URL-encoded policy documents; a raw string is decoded here
    if isinstance(document, str):
        document = json.loads(unquote(document))
    return document if isinstance(document, dict) else {}


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def trusted_services(document: Any) -> list[str]:
    """The services a role's trust policy lets assume it (``sts:AssumeRole``, no
    condition read).

    >>> trusted_services({"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
    ...     "Principal": {"Service": ["backup.amazonaws.com"]}}]})
    ['backup.amazonaws.com']
    """
    found: list[str] = []
    for statement in _listed(_policy_document(document).get("Statement", [])):
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        actions = {str(a).lower() for a in _listed(statement.get("Action", []))}
        if not actions & {"sts:assumerole", "sts:*", "*"}:
            continue
        principal = statement.get("Principal")
        if isinstance(principal, dict):
            found += [str(s) for s in _listed(principal.get("Service", []))]
    return sorted(set(found))


def _backup_role(member: Aws, account: str, need: _Need) -> Check:
    """GetRole (``NoSuchEntity`` when there is none, IAM API Reference, *GetRole*), then
    what AWS Backup needs of it: that it trusts AWS Backup, and the managed policies the
    account baseline attaches (ListAttachedRolePolicies)."""
    iam = member.client("iam")
    try:
        role = iam.get_role(RoleName=need.resource)["Role"]
    except ClientError as err:
        if not _missing(err, "NoSuchEntity", "NoSuchEntityException"):
            raise
        return need.check(
            account, "drift", expected="present", actual="missing", detail="role missing"
        )
    attached = {
        policy["PolicyArn"]
        for policy in _pages(
            iam, "list_attached_role_policies", "AttachedPolicies", RoleName=need.resource
        )
    }
    trusted = trusted_services(role.get("AssumeRolePolicyDocument"))
    expected = {"trusted_by": SERVICE_PRINCIPAL, "managed_policies": list(ROLE_MANAGED_POLICIES)}
    actual = {
        "trusted_by": SERVICE_PRINCIPAL if SERVICE_PRINCIPAL in trusted else trusted,
        "managed_policies": [
            name
            for name in ROLE_MANAGED_POLICIES
            if managed_policy_arn(name, need.partition) in attached
        ],
    }
    if actual == expected:
        return need.check(account, "pass", detail=str(role.get("Arn", "")))
    problems = []
    if actual["trusted_by"] != SERVICE_PRINCIPAL:
        problems.append(f"not trusted by {SERVICE_PRINCIPAL}")
    problems += [
        f"{name} not attached"
        for name in ROLE_MANAGED_POLICIES
        if name not in actual["managed_policies"]
    ]
    return need.check(
        account, "drift", expected=expected, actual=actual, detail="; ".join(problems)
    )


def _guardduty(member: Aws, account: str, need: _Need) -> Check:
    """ListDetectors, then GetDetector: a region of an account has at most one detector,
    and GuardDuty runs there when its ``Status`` is ``ENABLED`` (GuardDuty API Reference,
    *GetDetector*)."""
    guardduty = member.client("guardduty", need.region)
    detectors = _pages(guardduty, "list_detectors", "DetectorIds")
    if not detectors:
        return need.check(
            account, "drift", expected="ENABLED", actual="no detector", detail="no detector"
        )
    statuses = {d: guardduty.get_detector(DetectorId=d).get("Status") for d in detectors}
    enabled = [d for d, status in statuses.items() if status == "ENABLED"]
    if enabled:
        return need.check(account, "pass", detail=f"detector {enabled[0]}")
    return need.check(account, "drift", expected="ENABLED", actual=statuses)


def _inspector_ec2(member: Aws, account: str, need: _Need) -> Check:
    """BatchGetAccountStatus for the account: EC2 scanning is on when its
    ``resourceState.ec2.status`` is ``ENABLED`` (Inspector API Reference,
    *BatchGetAccountStatus*, *ResourceState*). An account the answer lists as failed, or
    does not name, is not assessed."""
    inspector = member.client("inspector2", need.region)
    answer = inspector.batch_get_account_status(accountIds=[account])
    for failed in answer.get("failedAccounts", []):
        if failed.get("accountId") == account:
            error = f"{failed.get('errorCode')}: {failed.get('errorMessage', '')}".strip()
            return need.not_assessed(account, error)
    for state in answer.get("accounts", []):
        if state.get("accountId") == account:
            status = state.get("resourceState", {}).get("ec2", {}).get("status")
            if status == "ENABLED":
                return need.check(account, "pass")
            return need.check(account, "drift", expected="ENABLED", actual=status)
    return need.not_assessed(account, "BatchGetAccountStatus did not answer for the account")


def _securityhub(member: Aws, account: str, need: _Need) -> Check:
    """DescribeHub: an account where Security Hub is not enabled gets
    ``InvalidAccessException`` "... is not subscribed to AWS Security Hub" (Security Hub
    API Reference, *DescribeHub*, and its common errors); any other failure leaves the
    answer unknown."""
    securityhub = member.client("securityhub", need.region)
    try:
        hub = securityhub.describe_hub()
    except ClientError as err:
        not_subscribed = "not subscribed" in error_message(err).lower()
        if not (_missing(err, "InvalidAccessException") and not_subscribed):
            raise
        return need.check(
            account, "drift", expected="enabled", actual="not enabled", detail=error_message(err)
        )
    return need.check(account, "pass", detail=str(hub.get("HubArn", "")))


_SERVICE_PROBES: dict[str, Callable[[Aws, str, _Need], Check]] = {
    "guardduty": _guardduty,
    "inspector-ec2": _inspector_ec2,
    "securityhub": _securityhub,
}


# ---- the whole audit --------------------------------------------------------------------------


@dataclass
class AuditResult:
    checks: list[Check]
    #: index of a drift record in ``checks`` -> the acceptance that covers it
    accepted: dict[int, dict[str, str]] = field(default_factory=dict)
    #: the spec's acceptances of drift, with what each matched (``core.accepted``)
    acceptances: list[dict[str, Any]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counts = {"pass": 0, "drift": 0, "not_assessed": 0}
        for check in self.checks:
            counts[check.status] += 1
        counts["accepted"] = len(self.accepted)
        return counts

    @property
    def has_drift(self) -> bool:
        """Drift that no accepted risk covers."""
        return any(
            c.status == "drift" and n not in self.accepted for n, c in enumerate(self.checks)
        )

    def accept(self, spec: Spec, today: dt.date) -> None:
        """Mark the drift records the spec's ``ivs:accepted`` covers (those naming an
        audit control as their rule; the others are about findings)."""
        chosen = [a for a in spec.accepted if a.rule in AUDIT_CONTROLS]
        records = [c.as_dict() if c.status == "drift" else {} for c in self.checks]
        self.acceptances = accept(
            records, chosen, today, rule_key="control", names=spec.account_names()
        )
        self.accepted = {n: r["accepted"] for n, r in enumerate(records) if "accepted" in r}

    @property
    def not_assessed(self) -> list[Check]:
        return [c for c in self.checks if c.status == "not_assessed"]

    @property
    def assessed_anything(self) -> bool:
        """Whether any record was read from AWS (the review date is read from the spec)."""
        return any(c.status != "not_assessed" and c.control != REVIEW_OVERDUE for c in self.checks)

    def first_error(self) -> str:
        """The first reason a record could not be assessed, where it was."""
        for check in self.not_assessed:
            return f"{check.account} {check.region} {check.control}: {check.error}"
        return "no record was read"


def _report_done(callback: Callable[[str], None], account_id: str, _future: Any) -> None:
    callback(account_id)


def _member_checks(spec: Spec, account_id: str, future: Future[list[Check]]) -> list[Check]:
    """A member account's records; all not assessed when the workers that read it died
    (Dask's ``KilledWorker``, after the scheduler's retries)."""
    try:
        return future.result()
    except Exception as err:
        if not worker_lost(err):
            raise
        return account_not_assessed(spec, account_id, _failed(err))


@functools.lru_cache(maxsize=4)
def _worker_aws(endpoint_url: str | None) -> Aws:
    """This worker's own credentials (its instance role on AWS), made once per process."""
    return Aws(endpoint_url=endpoint_url)


def audit_member(endpoint_url: str | None, spec: Spec, account_id: str) -> list[Check]:
    """:func:`audit_account` as a task on a cluster: it carries no credentials, and the
    worker assumes the member role with its own."""
    return audit_account(_worker_aws(endpoint_url), spec, account_id)


def audit_organization(
    spec: Spec,
    aws: Aws,
    *,
    accounts: Sequence[str] | None = None,
    documents: Sequence[PolicyDocument] | None = None,
    today: dt.date | None = None,
    workers: int = 16,
    on_account_done: Callable[[str], None] | None = None,
    scheduler: str | None = None,
) -> AuditResult:
    """Audit the organization and its member accounts (only ``accounts`` when given).

    ``on_account_done(account_id)`` is called from another thread as each member account's
    checks finish (for a progress display). With ``scheduler`` (``core.cluster``) each
    member account is a task on a Dask cluster, ``workers`` threads per process of a
    ``local:N`` one; the organization is read here, with ``aws``. One task reads one
    account, region after region: one account never has two audit requests in flight.
    """

    docs = list(build_documents(spec, check_limits=False) if documents is None else documents)
    members = [a.id for a, _ in spec.accounts() if accounts is None or a.id in accounts]
    policy_types = sorted({d.policy_type for d in docs} | {POLICY_TYPES["scp"]})
    with task_pool(scheduler, max(1, workers), "ivs-audit") as pool:
        # member accounts in the background while the organization is read
        if pool.distributed:
            shared = pool.share(spec)
            member_futures = [
                pool.executor.submit(audit_member, aws.endpoint_url, shared, a) for a in members
            ]
        else:
            member_futures = [pool.executor.submit(audit_account, aws, spec, a) for a in members]
        if on_account_done is not None:
            for account_id, future in zip(members, member_futures, strict=True):
                future.add_done_callback(
                    functools.partial(_report_done, on_account_done, account_id)
                )
        with ThreadPoolExecutor(max_workers=max(1, min(8, workers))) as org_pool:
            state = read_organization(aws.client("organizations"), policy_types, org_pool)
        org_checks = compare_organization(
            spec,
            docs,
            state,
            today=today or dt.date.today(),
            accounts=set(accounts) if accounts is not None else None,
        )
        member_checks = [
            check
            for account_id, future in zip(members, member_futures, strict=True)
            for check in _member_checks(spec, account_id, future)
        ]
    order = {a: i for i, a in enumerate([spec.organization.management_account_id, *members])}
    checks = org_checks + member_checks
    checks.sort(key=lambda c: (order.get(c.account, len(order)), c.region != GLOBAL))
    result = AuditResult(checks)
    result.accept(spec, today or dt.date.today())
    return result


# ---- output -----------------------------------------------------------------------------------


def _short(value: Any, limit: int = 80) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe(check: Check) -> str:
    if check.status == "not_assessed":
        return check.error or ""
    if check.status == "drift":
        if check.detail:
            return check.detail
        return f"expected {_short(check.expected)}, found {_short(check.actual)}"
    return check.detail


def report_json(
    result: AuditResult, spec_path: str, names: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """``audit.json``: the summary, each record (with ``accepted`` where an accepted risk
    covers its drift), the accounts' names and the register of accepted drift."""
    records = []
    for n, check in enumerate(result.checks):
        record = check.as_dict()
        if n in result.accepted:
            record["accepted"] = result.accepted[n]
        records.append(record)
    return {
        "spec": spec_path,
        "generated_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "summary": result.counts(),
        "account_names": dict(sorted((names or {}).items())),
        "acceptances": result.acceptances,
        "records": records,
    }
