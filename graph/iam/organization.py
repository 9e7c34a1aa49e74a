"""The organization as the collector reads it from the management account: its tree,
its accounts, and its SCPs and RCPs with their targets.

``read_organization(files)`` takes the raw responses (``Organization``: DescribeOrganization;
``Roots``; ``OrganizationalUnits``, each with its ``ParentId``; ``Accounts``, each with its
``ParentId``; ``Policies``: for each SCP and RCP its summary, ``Content`` and ``Targets``)
and answers what the evaluator needs: which policies are attached at each level of an
account's path (root, each OU, the account), whether an account is a member, the
management account, and the values of ``aws:PrincipalOrgID`` and ``aws:PrincipalOrgPaths``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graph.iam.evaluate import Layer, Policy
from graph.iam.model import policy_document

SCP = "SERVICE_CONTROL_POLICY"
RCP = "RESOURCE_CONTROL_POLICY"
_LAYERS: dict[str, Layer] = {SCP: "scp", RCP: "rcp"}


@dataclass(frozen=True)
class OrganizationView:
    id: str | None
    management_account: str | None
    root_id: str | None
    parents: Mapping[str, str]  # OU or account id -> parent id
    names: Mapping[str, str]  # OU id -> name
    accounts: frozenset[str]  # every account the organization lists
    attached: Mapping[tuple[str, str], tuple[Policy, ...]] = field(default_factory=dict)
    #: what the files did not say (a policy whose content could not be read...)
    unread: tuple[str, ...] = ()
    #: account id -> its name, as Organizations lists it
    account_names: Mapping[str, str] = field(default_factory=dict)
    #: levels already worked out, per (account, policy type): every request asks again
    _levels: dict[tuple[str, str], list[tuple[str, list[Policy]]]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def is_member(self, account: str) -> bool:
        """An account of the organization other than the management account."""
        return account in self.accounts and account != self.management_account

    def path(self, account: str) -> list[str]:
        """Ids from the root down to ``account`` (empty when it is not in the tree)."""
        chain = [account]
        seen = {account}
        while chain[-1] in self.parents:
            parent = self.parents[chain[-1]]
            if parent in seen:  # a malformed tree: stop rather than loop
                break
            seen.add(parent)
            chain.append(parent)
        if chain[-1] != self.root_id:
            return []
        return list(reversed(chain))

    def label(self, node: str) -> str:
        """``root``, an OU path (``Workloads/Prod``), or the account id."""
        if node == self.root_id:
            return "root"
        if node not in self.names:
            return node
        names = []
        current = node
        while current in self.names:
            names.append(self.names[current])
            current = self.parents.get(current, "")
        return "/".join(reversed(names))

    def levels(self, account: str, policy_type: str = SCP) -> list[tuple[str, list[Policy]]]:
        """(level, the policies of ``policy_type`` attached there), root to account."""
        known = self._levels.get((account, policy_type))
        if known is None:
            known = self._levels[(account, policy_type)] = [
                (self.label(node), list(self.attached.get((node, policy_type), ())))
                for node in self.path(account)
            ]
        return known

    def org_paths(self, account: str) -> str | None:
        """``aws:PrincipalOrgPaths`` of an account: ``o-.../r-.../ou-.../`` (its OU's path)."""
        nodes = self.path(account)[:-1]
        if not nodes or self.id is None:
            return None
        return "/".join([self.id, *nodes]) + "/"


def _items(files: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    document = files.get(key)
    items = document.get(key) if isinstance(document, Mapping) else None
    return [i for i in items if isinstance(i, Mapping)] if isinstance(items, list) else []


def read_organization(files: Mapping[str, Any]) -> OrganizationView:
    """The organization from its collected files (``{Key: response}``)."""
    organization = files.get("Organization")
    described = organization.get("Organization") if isinstance(organization, Mapping) else None
    described = described if isinstance(described, Mapping) else {}
    roots = _items(files, "Roots")
    root_id = str(roots[0]["Id"]) if roots and "Id" in roots[0] else None
    parents: dict[str, str] = {}
    names: dict[str, str] = {}
    for unit in _items(files, "OrganizationalUnits"):
        if isinstance(unit.get("Id"), str) and isinstance(unit.get("ParentId"), str):
            parents[unit["Id"]] = unit["ParentId"]
            names[unit["Id"]] = str(unit.get("Name") or unit["Id"])
    accounts = set()
    account_names: dict[str, str] = {}
    for account in _items(files, "Accounts"):
        if isinstance(account.get("Id"), str):
            accounts.add(account["Id"])
            if isinstance(account.get("Name"), str) and account["Name"]:
                account_names[account["Id"]] = account["Name"]
            if isinstance(account.get("ParentId"), str):
                parents[account["Id"]] = account["ParentId"]
    attached: dict[tuple[str, str], list[Policy]] = {}
    unread = []
    for entry in _items(files, "Policies"):
        summary = entry.get("PolicySummary")
        if not isinstance(summary, Mapping) or summary.get("Type") not in _LAYERS:
            continue
        policy_type = str(summary["Type"])
        document = policy_document(entry.get("Content"))
        name = str(summary.get("Name") or summary.get("Id"))
        if document is None:
            unread.append(f"{policy_type} {name}: content not readable")
            continue
        for target in entry.get("Targets") or []:
            if not isinstance(target, Mapping) or not isinstance(target.get("TargetId"), str):
                continue
            node = target["TargetId"]
            policy = Policy(name, _LAYERS[policy_type], node, document)
            attached.setdefault((node, policy_type), []).append(policy)
    view = OrganizationView(
        str(described["Id"]) if "Id" in described else None,
        str(described["MasterAccountId"]) if "MasterAccountId" in described else None,
        root_id,
        parents,
        names,
        frozenset(accounts),
        {},
        tuple(unread),
        account_names,
    )
    # policies name their level as the view labels it (root, OU path, account id)
    labelled = {
        key: tuple(Policy(p.name, p.layer, view.label(key[0]), p.document) for p in found)
        for key, found in attached.items()
    }
    return OrganizationView(
        view.id,
        view.management_account,
        root_id,
        parents,
        names,
        view.accounts,
        labelled,
        view.unread,
        account_names,
    )
