"""``ivs baseline apply``: account stacks with a progress display and a summary table."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from core.cluster import require_distributed
from core.errors import InputError
from core.spec import Spec
from governance.automation import StackRunner
from governance.baseline import (
    AccountResult,
    RunnerFactory,
    apply_baselines,
    automation_runner,
    config_for,
    default_concurrency,
    describe_changes,
    select_accounts,
)
from governance.spec import load_spec


def run_accounts(
    spec: Spec,
    account_ids: Sequence[str],
    runner: StackRunner | None,
    *,
    preview: bool,
    concurrency: int | None,
    config: dict[str, str] | None,
    console: Console,
    scheduler: str | None = None,
    runner_factory: RunnerFactory | None = None,
    spec_path: Path | None = None,
) -> list[AccountResult]:
    """:func:`apply_baselines` with a progress display and a summary table (on a cluster,
    the stacks handed to it are shown as running)."""
    verb = "preview" if preview else "update"
    running: set[str] = set()
    lock = threading.Lock()
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[running]}"),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(f"{verb} account stacks", total=len(account_ids), running="")

        def label() -> str:
            names = sorted(running)
            return ", ".join(names[:3]) + (f" +{len(names) - 3}" if len(names) > 3 else "")

        def started(account_id: str) -> None:
            with lock:
                running.add(account_id)
                progress.update(task, running=label())

        def done(result: AccountResult) -> None:
            with lock:
                running.discard(result.account_id)
                progress.update(task, advance=1, running=label())
            status = "[green]ok[/]" if result.ok else "[red]failed[/]"
            detail = describe_changes(result.changes) if result.ok else result.error
            progress.console.print(f"{result.stack}: {status} ({detail})", highlight=False)

        results = apply_baselines(
            spec,
            account_ids,
            runner,
            preview=preview,
            concurrency=concurrency,
            config=config,
            on_start=started,
            on_done=done,
            scheduler=scheduler,
            runner_factory=runner_factory,
            spec_path=spec_path,
        )
    console.print(summary_table(results, verb))
    failed = [r for r in results if not r.ok]
    if failed:
        console.print(
            f"[red]{len(failed)} of {len(results)} account stack(s) failed:[/] "
            + ", ".join(r.account_id for r in failed),
            highlight=False,
        )
    return results


def summary_table(results: Sequence[AccountResult], verb: str) -> Table:
    table = Table(title=f"baseline {verb}: {len(results)} account stack(s)")
    table.add_column("account")
    table.add_column("stack")
    table.add_column("result")
    table.add_column("changes / error")
    table.add_column("seconds", justify="right")
    for result in results:
        table.add_row(
            result.account_id,
            result.stack,
            "[green]ok[/]" if result.ok else "[red]failed[/]",
            describe_changes(result.changes) if result.ok else (result.error or ""),
            f"{result.seconds:.1f}",
        )
    return table


def run_baseline_apply(
    spec_path: str | os.PathLike[str],
    *,
    account_ids: Sequence[str],
    all_accounts: bool,
    preview: bool,
    concurrency: int | None,
    runner_factory: RunnerFactory = automation_runner,
    console: Console | None = None,
    scheduler: str | None = None,
) -> int:
    """``ivs baseline apply``: 0 when every account stack succeeded, 1 when one failed.

    The Pulumi CLI is checked (by the runner) before any account is run; with
    ``scheduler``, by each worker, which runs the stacks with its own CLI and credentials.
    """
    if scheduler is not None:
        require_distributed()
    path = Path(spec_path)
    spec = load_spec(path)
    accounts = select_accounts(spec, account_ids, all_accounts)
    if not accounts:
        raise InputError(str(path), "the spec lists no member accounts", "organization")
    console = console or Console()
    verb = "previewing" if preview else "applying"
    if scheduler is not None:
        # each worker makes its own runner; this machine needs no Pulumi CLI
        runner = None
        at_once = f"{concurrency} at once" if concurrency else "as many at once as it runs"
        where = f"on {scheduler}, {at_once}"
    else:
        runner = runner_factory(path)
        concurrency = concurrency or default_concurrency()
        where = f"{min(concurrency, len(accounts))} at once"
    console.print(f"{verb} the baseline of {len(accounts)} account(s), {where}", highlight=False)
    results = run_accounts(
        spec,
        accounts,
        runner,
        preview=preview,
        concurrency=concurrency,
        config=config_for(spec, path),
        console=console,
        scheduler=scheduler,
        runner_factory=runner_factory,
        spec_path=path,
    )
    return 0 if all(r.ok for r in results) else 1
