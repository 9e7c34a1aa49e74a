"""Vending an account: the steps that put it in its OU, with its baseline, and prove it.

``ivs vend`` (``ivs.vend``) runs them in order and says each as it happens (``--preview``
says what it would do and changes nothing):

1. the account: found in the organization (``DescribeAccount``), or created with
   ``--create --email E --name N`` and waited for (``DescribeCreateAccountStatus`` until
   ``SUCCEEDED``, or a clear error with AWS's ``FailureReason``);
2. the OU: its path resolved from the root (``ListRoots``, then
   ``ListOrganizationalUnitsForParent`` level by level) and the account moved there from
   its current parent (``ListParents``, ``MoveAccount``);
3. the spec file: the account recorded under that OU by a round-trip edit that keeps the
   file's comments and order (:mod:`governance.specedit`), written atomically, so the
   change can be reviewed and committed;
4. the baseline: the account's ``baseline-<account-id>`` stack through the Automation API
   (:mod:`governance.baseline`);
5. the proof: the audit of that account (:mod:`governance.audit`), pass or fail per control,
   for what vending applies (:func:`vending_proves`).

The Pulumi CLI is checked before anything is changed. Exit 0 when every step succeeded and
every control passes; 1 when an AWS step fails, the baseline fails, or a control drifts
or cannot be assessed; 2 on bad input.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.aws import error_code, error_message
from core.errors import InputError
from core.spec import ROOT, Spec
from governance.controls import ALL_CONTROLS

_ACCOUNT_ID = re.compile(r"^\d{12}$")
CREATE_TIMEOUT_SECONDS = 900.0
POLL_SECONDS = 5.0


#: Controls the org stack applies to every member on its own (``organization`` kind): the
#: delegated administrator enables a new member when it joins, asynchronously, so an
#: audit run right after vending may not see it yet. ``ivs audit`` reads them.
_ORGANIZATION_APPLIED = frozenset(c.id for c in ALL_CONTROLS if c.kind == "organization")


def vending_proves(controls: tuple[str, ...]) -> bool:
    """Whether an audit record about ``controls`` is part of vending's proof: everything
    but the records of controls the org stack applies to new members on its own.

    >>> from governance.controls import ACCOUNT_CONTROLS, ORGANIZATION_CONTROLS
    >>> vending_proves((ACCOUNT_CONTROLS[0].id,)), vending_proves(())
    (True, True)
    >>> vending_proves((ORGANIZATION_CONTROLS[0].id,))
    False
    """
    return not (controls and set(controls) <= _ORGANIZATION_APPLIED)


class VendError(Exception):
    """An AWS step of vending failed; ``str()`` says which and why."""


def aws_error(step: str, err: Exception) -> VendError:
    return VendError(f"{step}: {error_code(err)}: {error_message(err)}")


# ---- the account ------------------------------------------------------------------------


def find_account(org: Any, account_id: str) -> dict[str, Any] | None:
    """The organization's record of ``account_id`` (``DescribeAccount``), or None."""
    try:
        return dict(org.describe_account(AccountId=account_id)["Account"])
    except org.exceptions.AccountNotFoundException:
        return None


def find_account_by_email(org: Any, email: str) -> dict[str, Any] | None:
    """A member account with this email (a re-run after a create that succeeded)."""
    for page in org.get_paginator("list_accounts").paginate():
        for account in page.get("Accounts", []):
            if str(account.get("Email", "")).lower() == email.lower():
                return dict(account)
    return None


def wait_for_account(
    org: Any,
    request_id: str,
    *,
    timeout: float = CREATE_TIMEOUT_SECONDS,
    interval: float = POLL_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> str:
    """Poll ``DescribeCreateAccountStatus`` until the account exists; its id.

    Raises :class:`VendError` with AWS's ``FailureReason`` when creation fails, or when it
    is still in progress after ``timeout`` seconds.
    """
    deadline = clock() + timeout
    while True:
        status = org.describe_create_account_status(CreateAccountRequestId=request_id)[
            "CreateAccountStatus"
        ]
        state = status.get("State")
        if state == "SUCCEEDED":
            return str(status["AccountId"])
        if state == "FAILED":
            reason = status.get("FailureReason", "no reason given")
            raise VendError(f"account creation {request_id} failed: {reason}")
        if clock() >= deadline:
            raise VendError(
                f"account creation {request_id} still {state or 'IN_PROGRESS'} after "
                f"{timeout:.0f} s; run `ivs vend` again with --account-id once it has finished"
            )
        sleep(interval)


def create_account(
    org: Any,
    *,
    email: str,
    name: str,
    role_name: str,
    timeout: float = CREATE_TIMEOUT_SECONDS,
    interval: float = POLL_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> str:
    """Create a member account (with ``role_name`` for the management account) and wait."""
    status = org.create_account(Email=email, AccountName=name, RoleName=role_name)[
        "CreateAccountStatus"
    ]
    if status.get("State") == "SUCCEEDED" and status.get("AccountId"):
        return str(status["AccountId"])
    return wait_for_account(
        org, status["Id"], timeout=timeout, interval=interval, sleep=sleep, clock=clock
    )


# ---- the OU -----------------------------------------------------------------------------


def resolve_ou(org: Any, path: str) -> str:
    """The id of an OU path (``Workloads/Prod``; ``root`` is the root), walked from the root."""
    parent = str(org.list_roots()["Roots"][0]["Id"])
    if path == ROOT:
        return parent
    walked: list[str] = []
    for name in path.split("/"):
        walked.append(name)
        children = [
            ou
            for page in org.get_paginator("list_organizational_units_for_parent").paginate(
                ParentId=parent
            )
            for ou in page.get("OrganizationalUnits", [])
        ]
        match = next((ou for ou in children if ou["Name"] == name), None)
        if match is None:
            raise VendError(
                f"OU {'/'.join(walked)!r} is not in the organization; deploy the org stack "
                "first (`pulumi up -s org`)"
            )
        parent = str(match["Id"])
    return parent


def current_parent(org: Any, account_id: str) -> str:
    return str(org.list_parents(ChildId=account_id)["Parents"][0]["Id"])


# ---- the command ------------------------------------------------------------------------


@dataclass(frozen=True)
class VendRequest:
    spec_path: Path
    account_id: str | None
    ou: str
    create: bool
    email: str | None
    name: str | None
    preview: bool


def check_request(spec: Spec, request: VendRequest) -> None:
    """Reject bad input before any AWS call (exit 2)."""
    if request.create:
        if request.account_id:
            raise InputError(
                "--account-id", "give --account-id or --create, not both (AWS assigns the id)"
            )
        if not request.email or not request.name:
            raise InputError("--create", "needs --email E and --name N for the new account")
    elif not request.account_id:
        raise InputError("--account-id", "give --account-id ID, or --create --email E --name N")
    if request.account_id is not None:
        if not _ACCOUNT_ID.match(request.account_id):
            raise InputError("--account-id", f"{request.account_id!r} is not a 12-digit id")
        if request.account_id == spec.organization.management_account_id:
            raise InputError("--account-id", "is the management account; it cannot be vended")
    if request.ou != ROOT:
        try:
            spec.unit(request.ou)
        except KeyError:
            known = ", ".join(path for path, _ in spec.units())
            raise InputError(
                str(request.spec_path), f"no OU {request.ou!r} in the spec (OUs: {known})", "--ou"
            ) from None
