"""``ivs audit``: run the audit with a progress bar, then print its tables or JSON."""

from __future__ import annotations

import datetime as dt
import os
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from core.accepted import warnings
from core.aws import Aws
from core.cluster import require_distributed
from core.errors import InputError
from core.jsonio import atomic_write_text, pretty
from core.spec import Spec
from governance.audit import AuditResult, Check, audit_organization, describe, report_json
from governance.spec import load_spec
from ivs.terminal import add_column

_STYLE = {"pass": "green", "drift": "bold red", "not_assessed": "yellow"}


def print_tables(result: AuditResult, spec: Spec, console: Console) -> None:
    """One table per account: region, control, resource, status, detail."""
    by_account: dict[str, list[tuple[int, Check]]] = defaultdict(list)
    for n, check in enumerate(result.checks):
        by_account[check.account].append((n, check))
    names = spec.account_names()
    names[spec.organization.management_account_id] = "management account: organization"
    for account, checks in by_account.items():
        table = Table(
            title=f"{account} ({names.get(account, 'not in the spec')})", title_justify="left"
        )
        for column in ("region", "control", "resource", "status", "detail"):
            add_column(table, column)
        for n, check in checks:
            resource = "" if check.resource in (check.control, check.account) else check.resource
            style = _STYLE[check.status]
            status = f"[{style}]{check.status}[/]"
            detail = describe(check)
            accepted = result.accepted.get(n)
            if accepted:
                status = f"[yellow]drift, accepted until {accepted['expires']}[/]"
                detail += f" (accepted: {accepted['reason']}, {accepted['owner']})"
            table.add_row(check.region, check.control, resource, status, detail)
        console.print(table)


def summary_line(result: AuditResult, where: str | None = None) -> str:
    """One line: records by status, accepted drift, where the report went.

    >>> from governance.audit import Check
    >>> summary_line(AuditResult([Check("1", "r", "c", "x", "drift")]), "audit.json")
    'ivs audit: 0 pass, 1 drift (0 accepted), 0 not assessed; written to audit.json'
    """
    counts = result.counts()
    line = (
        f"ivs audit: {counts['pass']:,} pass, {counts['drift']:,} drift "
        f"({counts['accepted']:,} accepted), {counts['not_assessed']:,} not assessed"
    )
    return f"{line}; written to {where}" if where else line


def names_of(spec: Spec) -> dict[str, str]:
    """Account names by id, the management account included."""
    names = spec.account_names()
    names.setdefault(spec.organization.management_account_id, "management account")
    return names


def _account_filter(spec: Spec, accounts: Sequence[str] | None) -> list[str] | None:
    if not accounts:
        return None
    chosen = [item.strip() for value in accounts for item in value.split(",") if item.strip()]
    known = {a.id for a, _ in spec.accounts()}
    for account_id in chosen:
        if account_id not in known:
            raise InputError("--account-id", f"{account_id} is not a member account in the spec")
    return chosen


def run_audit(
    spec_path: str | os.PathLike[str],
    *,
    endpoint_url: str | None,
    fmt: str,
    accounts: Sequence[str] | None,
    aws: Aws | None = None,
    today: dt.date | None = None,
    console: Console | None = None,
    fail_on_not_assessed: bool = False,
    out: Path | None = None,
    publish: Callable[[AuditResult, dict[str, str]], Any] | None = None,
    quiet: bool = False,
    scheduler: str | None = None,
    workers: int = 16,
) -> int:
    """``ivs audit``: print the records (tables, or ``--format json``); 1 on any drift, or on
    any record not assessed with ``fail_on_not_assessed``. When nothing could be read at
    all, the records are printed still and :class:`InputError` says why (exit 2).
    ``scheduler`` audits the member accounts on a Dask cluster (``core.cluster``); the
    progress bar counts the accounts done across it."""
    if scheduler is not None:
        require_distributed()
    spec = load_spec(Path(spec_path))
    chosen = _account_filter(spec, accounts)
    total = len(chosen) if chosen is not None else sum(1 for _ in spec.accounts())
    # Progress goes to stderr, and only to a terminal: stdout stays the report.
    status = Console(stderr=True)
    with Progress(
        TextColumn("auditing member accounts"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=status,
        transient=True,
        disable=not status.is_terminal,
    ) as progress:
        task = progress.add_task("audit", total=total)
        result = audit_organization(
            spec,
            aws or Aws(endpoint_url=endpoint_url),
            accounts=chosen,
            today=today,
            on_account_done=lambda _account: progress.advance(task),
            scheduler=scheduler,
            workers=workers,
        )
    names = names_of(spec)
    console = console or Console()
    text = pretty(report_json(result, str(Path(spec_path)), names))
    if out is not None:
        atomic_write_text(out, text)
    elif fmt == "json":
        console.file.write(text)
    if fmt != "json":
        print_tables(result, spec, console)
    for line in warnings(result.acceptances, "drift record"):
        status.print(f"ivs: {line}", markup=False, highlight=False, soft_wrap=True)
    if not quiet and (fmt != "json" or out is not None):
        counts = result.counts()
        style = "bold red" if result.has_drift else "yellow" if counts["not_assessed"] else "green"
        console.print(
            summary_line(result, str(out) if out else None),
            style=style,
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    if not result.assessed_anything:
        raise InputError("nothing could be assessed", result.first_error())
    if publish is not None:
        publish(result, names)
    if result.has_drift or (fail_on_not_assessed and result.not_assessed):
        return 1
    return 0
