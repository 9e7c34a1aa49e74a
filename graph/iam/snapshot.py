"""Read a snapshot's IAM and organization files (``<account>/global/`` and ``organization/``).

``load_iam(root)`` gives each account's principals (``AccountAuthorizationDetails.json``)
and the organization (``Organization``, ``Roots``, ``OrganizationalUnits``, ``Accounts``,
``Policies``), and says what was not assessed: an account whose IAM the manifest lists as
failed or unfinished, an organization that could not be read. Absent files are absence of
data (``kinds_not_seen``), never absence of the thing: an account without its file has
no principals known, not none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import InputError
from core.jsonio import read_json
from core.snapshot_kinds import GLOBAL, ORGANIZATION, kinds_of
from graph.iam.model import AccountIam, read_account
from graph.iam.organization import OrganizationView, read_organization

#: The kinds this module reads (the snapshot reader reads the regional ones).
READERS: tuple[str, ...] = tuple(
    kind.key for kind in (*kinds_of("account/global"), *kinds_of("organization"))
)
_ACCOUNT_FILE = kinds_of("account/global")[0].file


@dataclass
class IamSnapshot:
    accounts: dict[str, AccountIam] = field(default_factory=dict)
    organization: OrganizationView | None = None
    not_assessed: list[dict[str, str]] = field(default_factory=list)
    kinds_not_seen: dict[str, list[str]] = field(default_factory=dict)


def _status(entry: Any) -> tuple[bool, str | None]:
    """(readable, reason when not) of a manifest entry (None: no entry, read what is there)."""
    if not isinstance(entry, dict):
        return True, None
    status = entry.get("status", "ok")
    if status == "ok":
        return True, None
    if status == "pending":
        return False, "collection incomplete"
    return False, str(entry.get("error") or status)


def _object(file: Path) -> dict[str, Any]:
    data = read_json(file)
    if not isinstance(data, dict):
        raise InputError(str(file), "expected a JSON object", "$")
    return data


def load_iam(root: str | Path) -> IamSnapshot:
    """The IAM of every account and the organization, as far as the snapshot holds them."""
    base = Path(root)
    manifest_file = base / "manifest.json"
    manifest = _object(manifest_file) if manifest_file.exists() else {}
    listed = manifest.get("accounts")
    accounts: dict[str, Any] = listed if isinstance(listed, dict) else {}
    unfinished = manifest.get("complete") is False
    out = IamSnapshot()
    places: set[str] = set()
    for folder in sorted(p for p in base.iterdir() if p.is_dir() and p.name.isdigit()):
        places.add(folder.name)
    places |= {str(a) for a in accounts}
    for account in sorted(places):
        held = accounts.get(account)
        regions = held.get("regions", {}) if isinstance(held, dict) else {}
        entry = regions.get(GLOBAL) if isinstance(regions, dict) else None
        readable, reason = _status(entry)
        file = base / account / GLOBAL / _ACCOUNT_FILE
        if readable and entry is None and unfinished and file.exists():
            readable, reason = False, "collection incomplete"
        if not readable:
            out.not_assessed.append({"account": account, "region": GLOBAL, "error": str(reason)})
            continue
        if not file.exists():
            out.kinds_not_seen.setdefault(_ACCOUNT_FILE[:-5], []).append(f"{account}/{GLOBAL}")
            continue
        out.accounts[account] = read_account(account, _object(file))
    readable, reason = _status(manifest.get(ORGANIZATION))
    folder = base / ORGANIZATION
    if not readable:
        out.not_assessed.append({"account": ORGANIZATION, "region": GLOBAL, "error": str(reason)})
    elif folder.is_dir():
        files = {}
        for kind in kinds_of("organization"):
            if (folder / kind.file).exists():
                files[kind.key] = _object(folder / kind.file)
            else:
                out.kinds_not_seen.setdefault(kind.key, []).append(ORGANIZATION)
        out.organization = read_organization(files)
    else:
        for kind in kinds_of("organization"):
            out.kinds_not_seen.setdefault(kind.key, []).append(ORGANIZATION)
    return out
