"""``ivs vend``: each step said as it happens, the baseline with its progress, the proof as a
table. The steps themselves (finding or creating the account, resolving the OU) are
``governance.vend``; the spec edit is ``governance.specedit``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from core.aws import Aws, error_code, error_message
from core.errors import InputError
from core.spec import Spec
from governance.baseline import RunnerFactory, automation_runner, config_for
from governance.spec import load_spec
from governance.specedit import record_account, spec_from_text, spec_source
from governance.vend import (
    CREATE_TIMEOUT_SECONDS,
    POLL_SECONDS,
    VendError,
    VendRequest,
    aws_error,
    check_request,
    create_account,
    current_parent,
    find_account,
    find_account_by_email,
    resolve_ou,
)
from ivs.baseline import run_accounts


class Vending:
    """One run of ``ivs vend``; each step prints what it does (or would do)."""

    def __init__(
        self,
        request: VendRequest,
        spec: Spec,
        aws: Aws,
        console: Console,
        *,
        timeout: float,
        interval: float,
        sleep: Callable[[float], None],
    ) -> None:
        self.request = request
        self.spec = spec
        self.aws = aws
        self.console = console
        self.timeout = timeout
        self.interval = interval
        self.sleep = sleep
        self.org = aws.client("organizations")
        self.spec_source = spec_source(request.spec_path)
        #: the spec with the account recorded, when --preview leaves the file alone
        self.previewed: Spec | None = None
        self.prefix = "[yellow]preview:[/] would " if request.preview else ""

    def say(self, message: str) -> None:
        self.console.print(message, highlight=False)

    def account(self) -> tuple[str | None, str, str | None]:
        """(account id, name, email); the id is None only for a create under --preview."""
        request = self.request
        if request.create:
            assert request.email is not None and request.name is not None
            existing = find_account_by_email(self.org, request.email)
            if existing is not None:
                self.say(
                    f"account {existing['Id']} ({existing.get('Name')}) already has "
                    f"{request.email}: using it"
                )
                return str(existing["Id"]), str(existing.get("Name") or request.name), request.email
            if request.preview:
                self.say(f"{self.prefix}create account {request.name!r} <{request.email}>")
                return None, request.name, request.email
            self.say(f"creating account {request.name!r} <{request.email}>...")
            try:
                account_id = create_account(
                    self.org,
                    email=request.email,
                    name=request.name,
                    role_name=self.spec.member_role_name,
                    timeout=self.timeout,
                    interval=self.interval,
                    sleep=self.sleep,
                )
            except VendError:
                raise
            except Exception as err:
                raise aws_error("creating the account", err) from err
            self.say(f"created account {account_id}")
            return account_id, request.name, request.email
        assert request.account_id is not None
        found = find_account(self.org, request.account_id)
        if found is None:
            raise VendError(
                f"account {request.account_id} is not in the organization; invite it, or "
                "create one with --create --email E --name N"
            )
        if found.get("Status") not in (None, "ACTIVE"):
            raise VendError(f"account {request.account_id} is {found['Status']}, not ACTIVE")
        self.say(f"account {request.account_id} ({found.get('Name')}) is in the organization")
        return (
            request.account_id,
            request.name or str(found.get("Name") or request.account_id),
            request.email or found.get("Email"),
        )

    def place(self, account_id: str | None) -> None:
        ou = self.request.ou
        target = resolve_ou(self.org, ou)
        if account_id is None:
            self.say(f"{self.prefix}move the new account to {ou} ({target})")
            return
        source = current_parent(self.org, account_id)
        if source == target:
            self.say(f"account {account_id} is already in {ou} ({target})")
            return
        where = f"the root ({source})" if source.startswith("r-") else source
        self.say(f"{self.prefix}move account {account_id} from {where} to {ou} ({target})")
        if not self.request.preview:
            self.org.move_account(
                AccountId=account_id, SourceParentId=source, DestinationParentId=target
            )

    def record(self, account_id: str | None, name: str, email: str | None) -> None:
        spec_file = self.spec_source
        if account_id is None:
            self.say(f"{self.prefix}record the new account in {spec_file} under {self.request.ou}")
            return
        changed, text = record_account(
            spec_file,
            account_id,
            self.request.ou,
            name=name,
            email=email,
            write=not self.request.preview,
        )
        if self.request.preview:
            self.previewed = spec_from_text(text, str(spec_file), spec_file)
        if not changed:
            self.say(f"{spec_file} already lists {account_id} under {self.request.ou}")
        else:
            self.say(
                f"{self.prefix}record {account_id} ({name}) in {spec_file} under {self.request.ou}"
            )

    def baseline(self, spec: Spec, account_id: str | None, runner: Any) -> bool:
        if account_id is None:
            self.say("baseline preview skipped: the account does not exist yet")
            return True
        spec = self.previewed or spec
        results = run_accounts(
            spec,
            [account_id],
            runner,
            preview=self.request.preview,
            concurrency=1,
            config=config_for(spec, self.request.spec_path),
            console=self.console,
        )
        return all(r.ok for r in results)

    def prove(self, spec: Spec, account_id: str) -> bool:
        from governance.audit import audit_organization, describe
        from governance.vend import vending_proves

        audited = audit_organization(spec, self.aws, accounts=[account_id]).checks
        checks = [c for c in audited if vending_proves(c.controls)]
        table = Table(title=f"audit of {account_id}", title_justify="left")
        for column in ("region", "control", "result", "detail"):
            table.add_column(column)
        verdict = {
            "pass": "[green]pass[/]",
            "drift": "[red]fail[/]",
            "not_assessed": "[yellow]fail[/]",
        }
        for check in checks:
            label = (
                check.control
                if check.resource == check.control
                else f"{check.control} {check.resource}"
            )
            table.add_row(check.region, label, verdict[check.status], describe(check))
        self.console.print(table)
        failed = [c for c in checks if c.status != "pass"]
        if failed:
            self.say(f"[red]{len(failed)} of {len(checks)} control(s) failed[/]")
        else:
            self.say(f"[green]all {len(checks)} controls pass[/]")
        later = [c for c in audited if not vending_proves(c.controls)]
        if later:
            names = ", ".join(sorted({name for c in later for name in c.controls}))
            self.say(
                f"{len(later)} record(s) of {names} left to `ivs audit`: the org stack enables "
                "a new member on its own schedule"
            )
        return not failed


def run_vend(
    spec_path: str | os.PathLike[str],
    *,
    account_id: str | None,
    ou: str,
    create: bool,
    email: str | None,
    name: str | None,
    preview: bool,
    endpoint_url: str | None,
    aws: Aws | None = None,
    runner_factory: RunnerFactory = automation_runner,
    console: Console | None = None,
    timeout: float = CREATE_TIMEOUT_SECONDS,
    interval: float = POLL_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """``ivs vend``: 0 when the account is placed, recorded, baselined and passes its audit."""
    path = Path(spec_path)
    spec = load_spec(path)
    request = VendRequest(path, account_id, ou, create, email, name, preview)
    check_request(spec, request)
    console = console or Console()
    runner = runner_factory(path)  # a missing Pulumi CLI stops here, before any change
    vending = Vending(
        request,
        spec,
        aws or Aws(endpoint_url=endpoint_url),
        console,
        timeout=timeout,
        interval=interval,
        sleep=sleep,
    )
    try:
        vended, account_name, account_email = vending.account()
        vending.place(vended)
        vending.record(vended, account_name, account_email)
    except VendError as err:
        console.print(f"[red]ivs vend: {err}[/]", highlight=False)
        return 1
    except InputError:
        raise
    except Exception as err:  # an AWS call failed: say which step, change nothing more
        from botocore.exceptions import BotoCoreError, ClientError

        if not isinstance(err, ClientError | BotoCoreError):
            raise
        console.print(f"[red]ivs vend: {error_code(err)}: {error_message(err)}[/]", highlight=False)
        return 1
    spec = load_spec(path)
    ok = vending.baseline(spec, vended, runner)
    if preview:
        if vended is not None:
            vending.say(f"{vending.prefix}audit account {vended} and print pass/fail per control")
        return 0 if ok else 1
    if not ok:
        console.print("[red]ivs vend: the baseline failed; not auditing[/]", highlight=False)
        return 1
    assert vended is not None
    return 0 if vending.prove(spec, vended) else 1
