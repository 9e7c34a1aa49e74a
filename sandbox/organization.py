"""Seed an AWS Organization in moto from the spec, through ordinary boto3 calls.

Tests and ``ivs demo`` run the real code (audit, collection, vending) against an
organization that looks like the spec: the same management account, OU tree, member
account ids, and the policies attached where the spec attaches them. Tests that need
members but no spec create them with :func:`create_member_accounts`.

Usage (a moto server in this process)::

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    seeded = seed_organization(load_spec("stacks/Pulumi.org.yaml"),
                               Aws(endpoint_url=f"http://{host}:{port}"))
    seeded.units["Workloads/Prod"]        # 'ou-...'
    seeded.target_id("400000000001")      # the spec's own account id

What moto cannot do, and how this module handles it:

- **Account ids.** moto draws a random 12-digit id for every ``CreateAccount``. To give
  each account the spec's id, :func:`seed_organization` swaps moto's id generator
  (``moto.organizations.utils.make_random_account_id``) for the length of each
  ``CreateAccount`` call, under a lock, and checks the id moto reports. This only works
  when the moto server runs in this Python process (``ThreadedMotoServer`` or
  ``mock_aws``); against a moto server in another process the ids come back random and
  :class:`SandboxError` says so.
- **Management account.** moto serves the account of the caller's credentials. The
  caller's credentials are used when they belong to the spec's management account;
  otherwise a role in the management account is assumed first (moto does not check
  that the role exists).
- **Policy types.** moto creates and attaches SERVICE_CONTROL_POLICY, TAG_POLICY and
  RESOURCE_CONTROL_POLICY documents. It has no BACKUP_POLICY documents (its
  ``CreatePolicy`` fails for that type) and no DECLARATIVE_POLICY_EC2 at all, so those
  documents are not created; their names are listed in ``SeededOrganization.skipped``
  and their types are not enabled on the root.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from core.aws import Aws
from core.jsonio import minify
from core.spec import ROOT, Spec
from governance.policies import build_documents
from governance.policies.model import PolicyDocument

__all__ = [
    "MOTO_POLICY_TYPES",
    "SandboxError",
    "SeededOrganization",
    "create_member_accounts",
    "management_aws",
    "seed_organization",
]

#: Policy types whose documents moto can create and attach.
MOTO_POLICY_TYPES = frozenset({"SERVICE_CONTROL_POLICY", "TAG_POLICY", "RESOURCE_CONTROL_POLICY"})

_ID_LOCK = threading.Lock()


class SandboxError(RuntimeError):
    """The stand-in could not be seeded as the spec says."""


@dataclass
class SeededOrganization:
    """The ids of what was created, keyed the way the spec names things."""

    organization_id: str
    management_account_id: str
    root_id: str
    units: dict[str, str] = field(default_factory=dict)  # OU path -> ou-...
    accounts: dict[str, str] = field(default_factory=dict)  # spec id -> id (the same)
    policies: dict[str, str] = field(default_factory=dict)  # policy name -> p-...
    skipped: list[str] = field(default_factory=list)  # documents moto cannot hold

    def target_id(self, target: str) -> str:
        """The Organizations id of a spec target (``root``, an OU path, an account id)."""
        if target == ROOT:
            return self.root_id
        if target in self.units:
            return self.units[target]
        if target in self.accounts:
            return self.accounts[target]
        raise KeyError(target)


def management_aws(spec: Spec, aws: Aws, role_name: str | None = None) -> Aws:
    """Clients for the spec's management account (assuming a role there if needed)."""
    management = spec.organization.management_account_id
    caller = aws.client("sts").get_caller_identity()["Account"]
    if caller == management:
        return aws
    return aws.assume(management, role_name or spec.member_role_name, "ivs-sandbox")


@contextmanager
def _account_id_as(account_id: str) -> Iterator[None]:
    """Make moto (in this process) give the next created account ``account_id``."""
    from moto.organizations import utils

    original = utils.make_random_account_id
    handed_out = False

    def next_id() -> str:
        nonlocal handed_out
        if handed_out:
            return original()
        handed_out = True
        return account_id

    with _ID_LOCK:
        utils.make_random_account_id = next_id
        try:
            yield
        finally:
            utils.make_random_account_id = original


def _create_account(org: Any, account_id: str, name: str, email: str) -> None:
    with _account_id_as(account_id):
        status = org.create_account(AccountName=name, Email=email)["CreateAccountStatus"]
    status = org.describe_create_account_status(CreateAccountRequestId=status["Id"])[
        "CreateAccountStatus"
    ]
    created = status.get("AccountId")
    if status.get("State") != "SUCCEEDED" or created != account_id:
        raise SandboxError(
            f"account {name!r} was created as {created!r}, not {account_id!r}: the moto "
            "server must run in this process (ThreadedMotoServer or mock_aws) for the "
            "spec's account ids to be used"
        )


def seed_organization(
    spec: Spec,
    aws: Aws,
    documents: list[PolicyDocument] | None = None,
) -> SeededOrganization:
    """Create the spec's organization in moto and attach its policies.

    ``aws`` points at the moto endpoint (``Aws(endpoint_url=...)``). ``documents``
    defaults to :func:`governance.policies.build_documents` of the spec.
    """
    docs = build_documents(spec) if documents is None else documents
    org = management_aws(spec, aws).client("organizations")
    described = org.create_organization(FeatureSet="ALL")["Organization"]
    if described["MasterAccountId"] != spec.organization.management_account_id:
        raise SandboxError(
            f"the organization's management account is {described['MasterAccountId']}, "
            f"not {spec.organization.management_account_id}"
        )
    root_id = org.list_roots()["Roots"][0]["Id"]
    seeded = SeededOrganization(
        organization_id=described["Id"],
        management_account_id=described["MasterAccountId"],
        root_id=root_id,
    )
    for path, unit in spec.units():
        parent, _, _ = path.rpartition("/")
        parent_id = seeded.units[parent] if parent else root_id
        created = org.create_organizational_unit(ParentId=parent_id, Name=unit.name)
        seeded.units[path] = created["OrganizationalUnit"]["Id"]
    for account, path in spec.accounts():
        email = account.email or f"{account.id}@example.com"
        _create_account(org, account.id, account.name, email)
        if path != ROOT:
            org.move_account(
                AccountId=account.id, SourceParentId=root_id, DestinationParentId=seeded.units[path]
            )
        seeded.accounts[account.id] = account.id
    supported = [d for d in docs if d.policy_type in MOTO_POLICY_TYPES]
    seeded.skipped.extend(d.name for d in docs if d.policy_type not in MOTO_POLICY_TYPES)
    deploy_documents(org, seeded, supported)
    return seeded


def deploy_documents(org: Any, seeded: SeededOrganization, docs: list[PolicyDocument]) -> None:
    """Enable the documents' policy types on the root, create each one and attach it."""
    enabled = {t["Type"] for t in org.list_roots()["Roots"][0].get("PolicyTypes", [])}
    for policy_type in sorted({d.policy_type for d in docs} - enabled):
        org.enable_policy_type(RootId=seeded.root_id, PolicyType=policy_type)
    for doc in docs:
        policy = org.create_policy(
            Name=doc.name,
            Description=doc.description,
            Type=doc.policy_type,
            Content=minify(doc.content),
        )["Policy"]["PolicySummary"]
        seeded.policies[doc.name] = policy["Id"]
        for target in doc.targets:
            org.attach_policy(PolicyId=policy["Id"], TargetId=seeded.target_id(target))


def create_member_accounts(aws: Aws, names: list[str]) -> list[str]:
    """Create an organization (if none) and one member account per name; return their ids.

    Run with the management account's credentials. Organizations answers synchronously in
    moto; against AWS, ``create_account`` is asynchronous and this waits for each request.
    """
    org = aws.client("organizations")
    try:
        org.describe_organization()
    except org.exceptions.AWSOrganizationsNotInUseException:
        org.create_organization(FeatureSet="ALL")
    created = []
    for name in names:
        status = org.create_account(Email=f"{name}@example.com", AccountName=name)[
            "CreateAccountStatus"
        ]
        while status["State"] == "IN_PROGRESS":
            time.sleep(1)
            status = org.describe_create_account_status(CreateAccountRequestId=status["Id"])[
                "CreateAccountStatus"
            ]
        if status["State"] != "SUCCEEDED":
            raise RuntimeError(f"account {name}: {status.get('FailureReason', status['State'])}")
        created.append(status["AccountId"])
    return created
