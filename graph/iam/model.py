"""IAM principals of one account, read from a GetAccountAuthorizationDetails response.

``read_account(account, details)`` takes the response as the API returns it
(``UserDetailList``, ``GroupDetailList``, ``RoleDetailList``, ``Policies``; pages merged)
and gives each user and role with every policy that is theirs: inline, attached managed
(the default version's document), a user's groups' policies, the permission boundary,
and for a role its trust policy and instance profiles. Policy documents are accepted as
objects (what boto3 and the AWS CLI give) or as the URL-encoded JSON text of the raw
API. A role whose path starts with ``/aws-service-role/`` is service-linked: SCPs do not
apply to it (AWS Organizations User Guide, "Service control policies").
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

SERVICE_LINKED_PATH = "/aws-service-role/"


@dataclass(frozen=True)
class NamedDocument:
    """A policy document with the name (or ARN) it is known by."""

    name: str
    document: Mapping[str, Any]


@dataclass(frozen=True)
class Principal:
    arn: str
    name: str
    kind: Literal["user", "role"]
    account: str
    path: str
    tags: Mapping[str, str] = field(default_factory=dict)
    identity: tuple[NamedDocument, ...] = ()  # inline, attached and group policies
    boundary: NamedDocument | None = None
    trust: Mapping[str, Any] | None = None  # a role's AssumeRolePolicyDocument
    instance_profiles: tuple[str, ...] = ()  # ARNs of the instance profiles holding a role
    #: what could not be read, and why (a policy attached but missing from the response)
    unread: tuple[str, ...] = ()

    @property
    def service_linked(self) -> bool:
        return self.kind == "role" and self.path.startswith(SERVICE_LINKED_PATH)


@dataclass(frozen=True)
class AccountIam:
    account: str
    principals: tuple[Principal, ...]
    policies: Mapping[str, NamedDocument]  # managed policy ARN -> default version

    def by_arn(self) -> dict[str, Principal]:
        return self._by_arn

    @cached_property
    def _by_arn(self) -> dict[str, Principal]:
        return {p.arn: p for p in self.principals}

    @cached_property
    def roles_by_profile(self) -> dict[str, Principal]:
        """Instance profile ARN -> the role it holds."""
        return {profile: p for p in self.principals for profile in p.instance_profiles}


def policy_document(raw: Any) -> Mapping[str, Any] | None:
    """A policy document from an object or from (URL-encoded) JSON text; None if neither."""
    if isinstance(raw, Mapping):
        return raw
    if isinstance(raw, str):
        for text in (raw, urllib.parse.unquote(raw)):
            try:
                loaded = json.loads(text)
            except ValueError:
                continue
            if isinstance(loaded, Mapping):
                return loaded
    return None


def _tags(raw: Any) -> dict[str, str]:
    out = {}
    for tag in raw if isinstance(raw, list) else []:
        if isinstance(tag, Mapping) and isinstance(tag.get("Key"), str):
            out[tag["Key"]] = str(tag.get("Value", ""))
    return out


def _inline(raw: Any, owner: str) -> list[NamedDocument]:
    out = []
    for entry in raw if isinstance(raw, list) else []:
        if not isinstance(entry, Mapping):
            continue
        document = policy_document(entry.get("PolicyDocument"))
        if document is not None:
            out.append(NamedDocument(f"{owner} inline {entry.get('PolicyName')}", document))
    return out


def _managed_policies(raw: Any) -> dict[str, NamedDocument]:
    out = {}
    for policy in raw if isinstance(raw, list) else []:
        if not isinstance(policy, Mapping) or not isinstance(policy.get("Arn"), str):
            continue
        default = policy.get("DefaultVersionId")
        for version in policy.get("PolicyVersionList") or []:
            if not isinstance(version, Mapping):
                continue
            if version.get("IsDefaultVersion") or version.get("VersionId") == default:
                document = policy_document(version.get("Document"))
                if document is not None:
                    name = policy.get("PolicyName") or policy["Arn"].rsplit("/", 1)[-1]
                    out[policy["Arn"]] = NamedDocument(str(name), document)
                break
    return out


def _attached(
    raw: Any, policies: Mapping[str, NamedDocument]
) -> tuple[list[NamedDocument], list[str]]:
    found, missing = [], []
    for entry in raw if isinstance(raw, list) else []:
        if not isinstance(entry, Mapping):
            continue
        arn = entry.get("PolicyArn")
        if isinstance(arn, str) and arn in policies:
            found.append(policies[arn])
        elif isinstance(arn, str):
            missing.append(f"managed policy {arn} is attached but not in the response")
    return found, missing


def _boundary(
    raw: Any, policies: Mapping[str, NamedDocument]
) -> tuple[NamedDocument | None, list[str]]:
    if not isinstance(raw, Mapping):
        return None, []
    arn = raw.get("PermissionsBoundaryArn")
    if isinstance(arn, str) and arn in policies:
        return policies[arn], []
    # An unreadable boundary still limits: treat it as allowing nothing we can prove.
    return NamedDocument(str(arn), {"Statement": []}), [
        f"permission boundary {arn} not in the response"
    ]


def read_account(account: str, details: Mapping[str, Any]) -> AccountIam:
    """The users and roles of ``account`` with their policies."""
    policies = _managed_policies(details.get("Policies"))
    groups: dict[str, tuple[list[NamedDocument], list[str]]] = {}
    for group in details.get("GroupDetailList") or []:
        if not isinstance(group, Mapping) or not isinstance(group.get("GroupName"), str):
            continue
        name = group["GroupName"]
        attached, missing = _attached(group.get("AttachedManagedPolicies"), policies)
        groups[name] = (_inline(group.get("GroupPolicyList"), f"group {name}") + attached, missing)
    principals = []
    for user in details.get("UserDetailList") or []:
        if not isinstance(user, Mapping) or not isinstance(user.get("Arn"), str):
            continue
        owned = _inline(user.get("UserPolicyList"), "user")
        attached, missing = _attached(user.get("AttachedManagedPolicies"), policies)
        for group_name in user.get("GroupList") or []:
            documents, group_missing = groups.get(
                group_name, ([], [f"group {group_name} not in the response"])
            )
            attached += documents
            missing += group_missing
        boundary, boundary_missing = _boundary(user.get("PermissionsBoundary"), policies)
        principals.append(
            Principal(
                user["Arn"],
                str(user.get("UserName")),
                "user",
                account,
                str(user.get("Path") or "/"),
                _tags(user.get("Tags")),
                tuple(owned + attached),
                boundary,
                unread=tuple(missing + boundary_missing),
            )
        )
    for role in details.get("RoleDetailList") or []:
        if not isinstance(role, Mapping) or not isinstance(role.get("Arn"), str):
            continue
        owned = _inline(role.get("RolePolicyList"), "role")
        attached, missing = _attached(role.get("AttachedManagedPolicies"), policies)
        boundary, boundary_missing = _boundary(role.get("PermissionsBoundary"), policies)
        profiles = tuple(
            str(p.get("Arn"))
            for p in role.get("InstanceProfileList") or []
            if isinstance(p, Mapping) and p.get("Arn")
        )
        principals.append(
            Principal(
                role["Arn"],
                str(role.get("RoleName")),
                "role",
                account,
                str(role.get("Path") or "/"),
                _tags(role.get("Tags")),
                tuple(owned + attached),
                boundary,
                policy_document(role.get("AssumeRolePolicyDocument")),
                profiles,
                tuple(missing + boundary_missing),
            )
        )
    return AccountIam(account, tuple(principals), policies)
